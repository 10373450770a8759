import { InferenceRequest, assertInferenceRequest } from './inference-request';
import { PayloadError, assertShape } from './shape';

/** api → scheduler (`inference` queue): an admitted job waiting for a replica. */
export interface InferenceJobPayload {
  jobId: string;
  teamId: string;
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
  assertInferenceRequest(d.request);
  return d;
}

export function parseGenerateJobPayload(data: unknown): GenerateJobPayload {
  parseInferenceJobPayload(data);
  assertShape('generate job', data, { nodeId: 'string' });
  return data as GenerateJobPayload;
}
