import { JOB_ERRORS } from '@gridline/contract';
import { EndpointFailure } from '@gridline/mesh';
import { jobErrorOf } from './remote-runner';

/** What a client is told (code, so status, and message) for each way an endpoint can fail a job. */
describe('jobErrorOf', () => {
  const statusOf = (f: EndpointFailure) => JOB_ERRORS[jobErrorOf(f, 'ext').code].status;

  it("relays the endpoint's 429 as ours, with its Retry-After", () => {
    const e = jobErrorOf(new EndpointFailure('rate_limited', 'the endpoint is rate limiting requests (429)', { status: 429, retryAfterSeconds: 17 }), 'ext');
    expect(e).toEqual({ type: 'error', code: 'endpoint_rate_limited', message: "the endpoint 'ext' is rate limiting requests; try again in 17 s", retryAfterSeconds: 17 });
    expect(statusOf(new EndpointFailure('rate_limited', 'x'))).toBe(429);
  });

  it('a timeout is a 504, a broken or failing endpoint a 502, neither blamed on the client', () => {
    expect(statusOf(new EndpointFailure('timeout', 'x'))).toBe(504);
    for (const reason of ['unreachable', 'server_error', 'protocol', 'credential_refused'] as const) expect(jobErrorOf(new EndpointFailure(reason, 'x'), 'ext').code).toBe('endpoint_failed');
    // A 404 from the endpoint (its catalog changed) is its side's problem, not the request's.
    expect(jobErrorOf(new EndpointFailure('client_error', 'x', { status: 404 }), 'ext').code).toBe('endpoint_failed');
  });

  it("the request's own faults stay the client's: 400 invalid_request with the remote's reason, a context overflow by its code", () => {
    expect(jobErrorOf(new EndpointFailure('client_error', 'x', { status: 400, remoteMessage: 'temperature must be at most 2' }), 'ext')).toMatchObject({ code: 'invalid_request', message: "the endpoint 'ext' refused the request (HTTP 400): temperature must be at most 2" });
    expect(jobErrorOf(new EndpointFailure('client_error', 'too long', { status: 400, remoteCode: 'context_length_exceeded' }), 'ext').code).toBe('context_length_exceeded');
  });

  it("never shows a client the endpoint's address or the detail meant for its admins", () => {
    const internal = [
      new EndpointFailure('unreachable', 'could not reach http://10.0.3.7:8000: ECONNREFUSED'),
      new EndpointFailure('timeout', 'http://10.0.3.7:8000 did not answer within 120 s'),
      new EndpointFailure('credential_refused', 'the endpoint refused the credential (401 invalid_api_key: Incorrect API key provided: sk-ab***cd)', { status: 401 }),
      new EndpointFailure('server_error', 'the endpoint failed (503: upstream pool db-internal.corp exhausted)', { status: 503 }),
      new EndpointFailure('protocol', 'http://10.0.3.7:8000/v1/chat/completions answered something that is not JSON'),
    ];
    for (const f of internal) {
      const { message } = jobErrorOf(f, 'ext');
      expect(message).toMatch(/^the endpoint 'ext' /);
      expect(message).not.toMatch(/10\.0\.3\.7|sk-|db-internal/);
    }
  });

  it('after text went out, the stream ends as failed (or timed out) and never asks the client to retry', () => {
    expect(jobErrorOf(new EndpointFailure('unreachable', 'x'), 'peer', true)).toEqual({ type: 'error', code: 'endpoint_failed', message: "the endpoint 'peer' failed while streaming (the stream broke)" });
    expect(jobErrorOf(new EndpointFailure('timeout', 'x'), 'peer', true).code).toBe('endpoint_timeout');
    expect(jobErrorOf(new EndpointFailure('rate_limited', 'x', { retryAfterSeconds: 3 }), 'peer', true)).not.toHaveProperty('retryAfterSeconds');
  });
});
