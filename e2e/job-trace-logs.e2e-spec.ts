import { randomBytes } from 'node:crypto';
import { signingFetch } from '@gridline/auth';
import { ManagedProcess, RunningStack, startStack } from '@gridline/testing';

type Line = Record<string, unknown> & { app?: string; msg?: string; jobId?: string; requestId?: string };

/**
 * The JSON log lines a process wrote (the agent's output holds its runners' lines too: they
 * inherit its stdout). Only whole lines: the last segment, without its newline yet, may be a line
 * still being written.
 */
function linesOf(p: ManagedProcess): Line[] {
  const segments = p.output.split('\n');
  segments.pop();
  return segments.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
}

/**
 * One job followed through the logs of every process it crosses: the api's request id (the
 * caller's `x-request-id`) and the job's id on every line about it, in the api, the scheduler,
 * the agent and the agent's runner; the prompt on none.
 */
describe('following a job through the logs', () => {
  let stack: RunningStack;

  beforeAll(async () => {
    stack = await startStack({ modelName: 'tiny-trace' });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('carries the request id and the job id from the api to the runner, and never the prompt', async () => {
    const requestId = `trace-${randomBytes(8).toString('hex')}`;
    const prompt = `Tell me about canary-${randomBytes(8).toString('hex')} and rivers.`;
    const res = await signingFetch({ accessKey: stack.accessKey, secretKey: stack.secretKey })(`${stack.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ model: 'tiny-trace', messages: [{ role: 'user', content: prompt }], max_tokens: 8, temperature: 0 }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(requestId);
    const jobId = res.headers.get('x-gridline-job-id') ?? '';
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);

    // The last line of each process about the job (only the agent's names the job by itself: the others' ids come from the log context under test).
    await stack.agent.waitFor(new RegExp(`\\{[^\\n]*"jobId":"${jobId}"[^\\n]*"msg":"job done"`));
    await stack.agent.waitFor(/\{[^\n]*"app":"runner"[^\n]*"msg":"generation finished"/);
    await stack.scheduler.waitFor(/\{[^\n]*"msg":"job dispatched"/);
    await stack.api.waitFor(/\{[^\n]*"url":"\/v1\/chat\/completions"[^\n]*"msg":"request completed"/);

    const all = [...linesOf(stack.api), ...linesOf(stack.scheduler), ...linesOf(stack.agent)];
    const aboutJob = all.filter((l) => l.jobId === jobId);
    // Every process the job crossed wrote about it, the request's id with the job's on each line.
    const byApp = (app: string) => aboutJob.filter((l) => l.app === app);
    for (const app of ['api', 'scheduler', 'agent', 'runner']) {
      expect({ app, wrote: byApp(app).length > 0 }).toEqual({ app, wrote: true });
      for (const line of byApp(app)) expect({ app, msg: line.msg, requestId: line.requestId }).toEqual({ app, msg: line.msg, requestId });
    }
    expect(byApp('api').map((l) => l.msg)).toEqual(expect.arrayContaining(['job accepted', 'request completed']));
    expect(byApp('scheduler').map((l) => l.msg)).toContain('job dispatched');
    expect(byApp('agent').map((l) => l.msg)).toContain('job done');
    expect(byApp('runner').map((l) => l.msg)).toEqual(expect.arrayContaining(['generation started', 'generation finished']));
    // The job's try is on the lines of the processes that handle a try (the scheduler's, the agent's, the runner's).
    for (const app of ['scheduler', 'agent', 'runner']) for (const line of byApp(app)) expect(line.attempt).toBe(1);

    // Any line that names the job at all (in a message or a header) names it with its request.
    for (const line of all.filter((l) => JSON.stringify(l).includes(jobId))) expect({ msg: line.msg, jobId: line.jobId, requestId: line.requestId }).toEqual({ msg: line.msg, jobId, requestId });

    // No line, in any process, holds the prompt (or the part of it that makes it unique).
    const output = stack.api.output + stack.scheduler.output + stack.agent.output;
    expect(output).not.toContain(prompt);
    expect(output).not.toContain(prompt.match(/canary-[0-9a-f]+/)?.[0]);
  });
});
