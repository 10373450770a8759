import { InferenceRequest, assertInferenceRequest } from './inference-request';
import { PayloadError, assertShape } from './shape';

/** api → scheduler (`inference` queue): an admitted job waiting for a replica. */
export interface InferenceJobPayload {
  jobId: string;
  teamId: string;
  /** The keypair or token it was submitted with (its key-scoped quotas apply); absent for older jobs. */
  keyId?: string;
  model: string;
  requestId: string | null;
  /** `sync`: a client waits on the connection (bounded queue wait); `async`: waits for capacity until its deadline. */
  mode: 'sync' | 'async';
  /** Which try this is; a node accepts writes to the job's stream only for the current one. */
  attempt: number;
  /** Order among the team's waiting jobs (higher first); 0 when not given. */
  priority?: number;
  /** Epoch ms when the api accepted the job; bounds how long it may wait for a replica. */
  acceptedAt: number;
  /** Epoch ms after which the job is expired wherever it is. */
  deadlineAt: number;
  request: InferenceRequest;
  /** Present when an earlier attempt streamed text before its node was lost: this attempt continues it. */
  resume?: JobResume;
}

/**
 * What earlier attempts of a job already streamed to its client. The next attempt generates what
 * follows `text` and numbers its deltas from `deltas`, so the client's text goes on without a
 * token lost or repeated. (The runner generates a greedy or seeded job's text again and keeps it
 * back, which is exact; a sampled one continues after the prompt and `text`.)
 */
export interface JobResume {
  /** The text streamed so far (every delta, in order). */
  text: string;
  /**
   * How many deltas carried it: the index of the next one. (No token count: the control plane
   * has no tokenizer; the runner counts the text's tokens as it evaluates them again, and those
   * count against max_tokens and in the job's usage.)
   */
  deltas: number;
}

/**
 * What every log line about a job carries, in every process (api, scheduler, agent, runner):
 * the job, its try, and the api request (`x-request-id`) that submitted it. Derived from a
 * payload with `jobTraceOf`, never copied field by field.
 */
export interface JobTrace {
  jobId: string;
  requestId: string | null;
  attempt?: number;
}

export function jobTraceOf(p: Pick<InferenceJobPayload, 'jobId' | 'requestId' | 'attempt'>): JobTrace {
  return { jobId: p.jobId, requestId: p.requestId ?? null, attempt: p.attempt };
}

/** scheduler → agent (`node.<id>` queue): run this attempt on this node. */
export interface GenerateJobPayload extends InferenceJobPayload {
  nodeId: string;
  /** The replica on the node the job was routed to (a node may serve several models, or one model twice). */
  replicaId?: string;
}

export function parseInferenceJobPayload(data: unknown): InferenceJobPayload {
  // Jobs queued before `mode` existed wait like synchronous ones.
  if (typeof data === 'object' && data !== null && (data as { mode?: unknown }).mode === undefined) (data as { mode: string }).mode = 'sync';
  assertShape('inference job', data, { jobId: 'string', teamId: 'string', model: 'string', requestId: 'string?', mode: 'string', attempt: 'number', acceptedAt: 'number', deadlineAt: 'number', request: 'object' });
  const d = data as InferenceJobPayload;
  if (d.mode !== 'sync' && d.mode !== 'async') throw new PayloadError('inference job: mode must be sync or async');
  if (!Number.isInteger(d.attempt) || d.attempt < 1) throw new PayloadError('inference job: attempt must be a positive integer');
  if (d.priority !== undefined && !Number.isInteger(d.priority)) throw new PayloadError('inference job: priority must be an integer');
  if (d.keyId !== undefined && typeof d.keyId !== 'string') throw new PayloadError('inference job: keyId must be a string');
  assertInferenceRequest(d.request);
  if (d.resume !== undefined) assertResume(d.resume);
  return d;
}

function assertResume(value: unknown): asserts value is JobResume {
  assertShape('inference job resume', value, { text: 'string', deltas: 'number' });
  const r = value as JobResume;
  if (!Number.isInteger(r.deltas) || r.deltas < 1) throw new PayloadError('inference job: resume.deltas must be a positive integer');
}

export function parseGenerateJobPayload(data: unknown): GenerateJobPayload {
  parseInferenceJobPayload(data);
  assertShape('generate job', data, { nodeId: 'string' });
  return data as GenerateJobPayload;
}
