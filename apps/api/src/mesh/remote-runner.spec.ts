import { JOB_ERRORS } from '@gridline/contract';
import { EndpointFailure } from '@gridline/mesh';
import { jobErrorOf } from './remote-runner';

/** What a client is told (code, and so status) for each way an endpoint can fail a job. */
describe('jobErrorOf', () => {
  const statusOf = (f: EndpointFailure) => JOB_ERRORS[jobErrorOf(f).code].status;

  it("relays the endpoint's 429 as ours, with its Retry-After", () => {
    const e = jobErrorOf(new EndpointFailure('rate_limited', 'slow down', { status: 429, retryAfterSeconds: 17 }));
    expect(e).toEqual({ type: 'error', code: 'endpoint_rate_limited', message: 'slow down', retryAfterSeconds: 17 });
    expect(statusOf(new EndpointFailure('rate_limited', 'x'))).toBe(429);
  });

  it('a timeout is a 504, a broken or failing endpoint a 502, neither blamed on the client', () => {
    expect(statusOf(new EndpointFailure('timeout', 'x'))).toBe(504);
    for (const reason of ['unreachable', 'server_error', 'protocol', 'credential_refused'] as const) expect(jobErrorOf(new EndpointFailure(reason, 'x')).code).toBe('endpoint_failed');
    // A 404 from the endpoint (its catalog changed) is its side's problem, not the request's.
    expect(jobErrorOf(new EndpointFailure('client_error', 'x', { status: 404 })).code).toBe('endpoint_failed');
  });

  it("the request's own faults stay the client's: 400 invalid_request, and a context overflow by its code", () => {
    expect(jobErrorOf(new EndpointFailure('client_error', 'bad', { status: 400 })).code).toBe('invalid_request');
    expect(jobErrorOf(new EndpointFailure('client_error', 'too long', { status: 400, remoteCode: 'context_length_exceeded' })).code).toBe('context_length_exceeded');
  });
});
