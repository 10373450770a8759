import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { GenerateJobPayload, JobErrorCode, JobEvent, JobTrace, RunningJob, jobTraceOf } from '@gridline/contract';
import { LogContext } from '@gridline/common';
import { DeltaWriter, JobCancellations, JobStreams, OnQueue, Queues } from '@gridline/messaging';
import { RunnerError } from '@gridline/runtime';
import { ReplicaManager } from '../replicas/replica-manager';
import { NodeIdentity } from '../node/node-identity';
import { AgentMetrics } from '../metrics/agent-metrics';

/** Pauses between tries of an attempt's last write: it frees the sequence, so it outlasts a Redis restart. */
const END_RETRY_DELAYS_MS = [250, 500, 1000, 2000, 4000];

/** The attempt's last word, tried again while Redis is unreachable (a repeat is fenced: harmless). */
async function endWithRetries(write: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; ; i++) {
    try {
      return await write();
    } catch (e) {
      if (i >= END_RETRY_DELAYS_MS.length) throw e;
      await new Promise((r) => setTimeout(r, END_RETRY_DELAYS_MS[i]));
    }
  }
}

/**
 * Runs the jobs of this node's queue on the model's sequences and writes their events. Every
 * write is fenced by the job's attempt: a closed (cancelled, expired) or re-assigned job makes
 * the write fail, and the generation is stopped at once; so does a cancel announcement.
 */
@Injectable()
export class JobRunner implements OnApplicationBootstrap {
  private readonly logger = new Logger('Jobs');
  private readonly running = new Map<string, RunningJob>();
  /** The log fields of each running job, for lines written outside its handler (a cancel heard on the bus). */
  private readonly traces = new Map<string, JobTrace>();

  constructor(
    private readonly replicas: ReplicaManager,
    private readonly identity: NodeIdentity,
    private readonly streams: JobStreams,
    private readonly cancellations: JobCancellations,
    private readonly metrics: AgentMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.cancellations.listen((jobId) => {
      if (!this.running.has(jobId)) return;
      LogContext.run(this.traces.get(jobId) ?? { jobId }, () => this.logger.log('cancel received: stopping the generation'));
      this.replicas.cancel(jobId);
    });
  }

  /** What the heartbeat reports. */
  runningJobs(): RunningJob[] {
    return [...this.running.values()];
  }

  @OnQueue(Queues.node)
  async run(job: GenerateJobPayload): Promise<void> {
    const arrived = performance.now();
    const nodeId = this.identity.id;
    const { jobId, attempt } = job;
    const end = (events: JobEvent[]) => endWithRetries(() => this.streams.end(jobId, attempt, job.nodeId, events));
    const replica = nodeId === job.nodeId ? this.replicas.forJob(job.replicaId, job.model) : null;
    if (!replica) {
      await end([{ type: 'error', code: 'no_capacity', message: `this node does not serve ${job.model} now` }]);
      this.metrics.jobEnded(job.model, 'failed', 'no_capacity');
      return;
    }
    const resume = job.resume;
    const started: JobEvent = { type: 'started', attempt, nodeId, ...(resume ? { fromDelta: resume.deltas } : {}) };
    // The model starts at once, while `started` is written (the fence: false when the job was
    // cancelled or expired before it started, or a newer attempt owns it); the first delta waits
    // for it, and a refused start stops the generation. So the write costs no time to first token.
    const begun = this.streams.append(jobId, attempt, nodeId, [started]).then(
      (ok) => {
        if (!ok) this.replicas.cancel(jobId);
        return ok;
      },
      (e: unknown) => {
        this.replicas.cancel(jobId);
        throw e;
      },
    );
    this.running.set(jobId, { jobId, attempt, replicaId: replica.id });
    const trace = jobTraceOf(job);
    this.traces.set(jobId, trace);
    const deltas = new DeltaWriter(
      async (events) => (await begun) && this.streams.append(jobId, attempt, nodeId, events),
      (why) => {
        if (why === 'failed') this.logger.error({ jobId }, 'writing the job\'s events failed: stopping the generation');
        this.replicas.cancel(jobId);
      },
      undefined,
      resume?.deltas ?? 0,
    );
    /** False (and the scheduler told) when the start was refused; a Redis failure throws, as a refused write would have before the model started. */
    const startAccepted = async (): Promise<boolean> => {
      if (await begun) return true;
      await deltas.finish();
      await end([]);
      this.metrics.jobEnded(job.model, 'not_started');
      return false;
    };
    try {
      const asked = performance.now();
      let timed = false;
      const result = await this.replicas.generate(
        replica,
        jobId,
        job.request,
        (text, logprobs) => {
          if (timed) return deltas.push(text, undefined, logprobs);
          // The node's account of the first text only (the api adds it to its own).
          timed = true;
          const now = performance.now();
          deltas.push(text, { nodeMs: now - arrived, runnerMs: now - asked }, logprobs);
        },
        resume,
        trace,
      );
      if (!(await startAccepted())) return;
      const rest = await deltas.finish();
      if (deltas.stoppedBy === 'failed') {
        // Some text never reached the stream: its reader must not take the rest for a whole answer.
        await end([{ type: 'error', code: 'stream_interrupted', message: 'the node could not write part of the job\'s output (Redis unreachable)' }]);
        this.metrics.jobEnded(job.model, 'failed', 'stream_interrupted');
        return;
      }
      if (result.finishReason === 'cancelled' || deltas.stoppedBy === 'fenced') {
        await end([{ type: 'error', code: 'cancelled', message: 'the job was cancelled' }]);
        this.metrics.jobEnded(job.model, 'cancelled', 'cancelled');
        this.logger.log({ jobId, requestId: job.requestId, completionTokens: result.completionTokens }, 'job cancelled');
        return;
      }
      await end([
        ...rest,
        ...(result.toolCalls ?? []).map((call, index): JobEvent => ({ type: 'tool_call', index, ...call })),
        { type: 'usage', promptTokens: result.promptTokens, completionTokens: result.completionTokens, cachedPromptTokens: result.cachedPromptTokens },
        { type: 'finished', finishReason: result.finishReason, firstTokenMs: result.firstTokenMs, totalMs: result.totalMs, deltas: deltas.deltas },
      ]);
      this.metrics.jobEnded(job.model, 'succeeded');
      this.logger.log(
        { jobId, requestId: job.requestId, attempt, ...(resume ? { resumedAfterDeltas: resume.deltas } : {}), promptTokens: result.promptTokens, completionTokens: result.completionTokens, firstTokenMs: Math.round(result.firstTokenMs), totalMs: Math.round(result.totalMs) },
        'job done',
      );
    } catch (e) {
      if (!(await startAccepted())) return;
      if (e instanceof RunnerError && e.code === 'context_length_exceeded') {
        // The client's own error, found by the runner's exact count before it generated anything.
        this.logger.log({ jobId, requestId: job.requestId }, 'job refused: it does not fit the context');
        await deltas.finish();
        await end([{ type: 'error', code: e.code, message: e.message }]);
        this.metrics.jobEnded(job.model, 'failed', e.code);
        return;
      }
      if (e instanceof RunnerError && e.code === 'invalid_request') {
        // The client asked for what this replica or model cannot do (tools or output controls on a spanning replica, a token id outside the vocabulary, a schema its grammar cannot express), found before it generated anything.
        this.logger.log({ jobId, requestId: job.requestId, param: e.param }, 'job refused by the runner');
        await deltas.finish();
        await end([{ type: 'error', code: e.code, message: e.message, ...(e.param ? { param: e.param } : {}) }]);
        this.metrics.jobEnded(job.model, 'failed', e.code);
        return;
      }
      const code: JobErrorCode = e instanceof RunnerError && (e.code === 'runner_exited' || e.code === 'runner_unavailable') ? 'runner_crashed' : 'generation_failed';
      this.logger.error({ jobId, requestId: job.requestId, code }, `generation failed: ${(e as Error).message}`);
      await deltas.finish();
      await end([{ type: 'error', code, message: code === 'runner_crashed' ? 'the model process exited while running the job' : 'generation failed on the node' }]);
      this.metrics.jobEnded(job.model, 'failed', code);
    } finally {
      this.running.delete(jobId);
      this.traces.delete(jobId);
    }
  }
}
