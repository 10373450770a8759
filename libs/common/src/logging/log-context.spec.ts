import { Writable } from 'node:stream';
import pino from 'pino';
import { LogContext } from './log-context';
import { loggerOptions } from './logger-options';

/** A pino logger with Gridline's options, writing its lines into an array. */
function capture(): { lines: Record<string, unknown>[]; log: pino.Logger } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: pino(loggerOptions('test', 'info', 'json'), sink) };
}

describe('LogContext', () => {
  it("adds the context's request and job ids to every line logged inside it, and nothing outside", async () => {
    const { lines, log } = capture();
    log.info('before');
    await LogContext.run({ requestId: 'req-1' }, async () => {
      log.info('in the request');
      await new Promise((r) => setImmediate(r));
      LogContext.assign({ jobId: 'job-1' });
      log.info('after the job row');
      await LogContext.run({ attempt: 2 }, async () => log.info('in a try'));
      log.info({ jobId: 'explicit' }, 'a field of the call wins');
    });
    log.info('after');
    expect(lines.map(({ msg, requestId, jobId, attempt }) => ({ msg, requestId, jobId, attempt }))).toEqual([
      { msg: 'before', requestId: undefined, jobId: undefined, attempt: undefined },
      { msg: 'in the request', requestId: 'req-1', jobId: undefined, attempt: undefined },
      { msg: 'after the job row', requestId: 'req-1', jobId: 'job-1', attempt: undefined },
      { msg: 'in a try', requestId: 'req-1', jobId: 'job-1', attempt: 2 },
      { msg: 'a field of the call wins', requestId: 'req-1', jobId: 'explicit', attempt: undefined },
      { msg: 'after', requestId: undefined, jobId: undefined, attempt: undefined },
    ]);
  });

  it('keeps concurrent contexts apart and leaves out a null request id', async () => {
    const { lines, log } = capture();
    const job = (jobId: string, requestId: string | null) =>
      LogContext.run({ jobId, requestId }, async () => {
        await new Promise((r) => setTimeout(r, 5));
        log.info('done');
      });
    await Promise.all([job('a', 'ra'), job('b', null)]);
    expect(lines.map(({ jobId, requestId }) => ({ jobId, requestId })).sort((x, y) => String(x.jobId).localeCompare(String(y.jobId)))).toEqual([
      { jobId: 'a', requestId: 'ra' },
      { jobId: 'b', requestId: undefined },
    ]);
    expect(Object.keys(lines.find((l) => l.jobId === 'b') ?? {})).not.toContain('requestId');
  });
});
