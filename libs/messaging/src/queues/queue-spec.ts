import { GenerateJobPayload, InferenceJobPayload, JobTrace, jobTraceOf, parseGenerateJobPayload, parseInferenceJobPayload } from '@gridline/contract';

/**
 * One queue, declared once: its name, payload type (with the parser that checks what Redis
 * gives back), how BullMQ job ids derive from a payload, and its retry, stall and retention
 * policy. A parametric queue exists once per parameter (`node.<nodeId>`).
 */
export interface QueueSpec<P> {
  readonly name: string;
  readonly parametric: boolean;
  readonly parse: (data: unknown) => P;
  readonly jobId: (payload: P) => string;
  /** What every log line written while a consumer handles the payload carries (request and job ids). */
  readonly trace: (payload: P) => JobTrace;
  /** Tries of one BullMQ job; retries beyond it are the job lifecycle's business. */
  readonly attempts: number;
  /**
   * How often a job whose worker died (lock expired) is run again. 0: never; it is failed
   * instead, and the sweeper decides (a re-run would write to a stream that may carry tokens).
   */
  readonly maxStalledCount: number;
  readonly lockDurationMs: number;
  /**
   * A completed BullMQ job is removed at once (its payload holds the whole request; the job's
   * row and stream carry everything after it); a failed one is kept this long, for operators.
   */
  readonly retention: { failedAgeSeconds: number; failedCount: number };
}

function defineQueue<P>(spec: QueueSpec<P>): QueueSpec<P> {
  return Object.freeze(spec);
}

const RETENTION = { failedAgeSeconds: 3600, failedCount: 1000 };

/** Every queue Gridline uses. */
export const Queues = {
  /** api → scheduler: admitted jobs waiting for a replica. Routing is idempotent, so a stalled routing may run again. */
  inference: defineQueue<InferenceJobPayload>({
    name: 'inference',
    parametric: false,
    parse: parseInferenceJobPayload,
    jobId: (p) => `${p.jobId}-a${p.attempt}`,
    trace: jobTraceOf,
    attempts: 1,
    maxStalledCount: 1,
    // Routing takes milliseconds: a job a killed leader was routing is back for the next within seconds.
    lockDurationMs: 5_000,
    retention: RETENTION,
  }),
  /** scheduler → agent: one attempt of a job on that node. Never re-run by stall recovery. */
  node: defineQueue<GenerateJobPayload>({
    name: 'node',
    parametric: true,
    parse: parseGenerateJobPayload,
    jobId: (p) => `${p.jobId}-a${p.attempt}`,
    trace: jobTraceOf,
    attempts: 1,
    maxStalledCount: 0,
    lockDurationMs: 30_000,
    retention: RETENTION,
  }),
} as const;

/** The BullMQ queue name of a spec (with its parameter for parametric queues). */
export function queueName<P>(spec: QueueSpec<P>, param?: string): string {
  if (spec.parametric) {
    if (!param) throw new Error(`queue ${spec.name} needs a parameter`);
    return `${spec.name}.${param}`;
  }
  return spec.name;
}
