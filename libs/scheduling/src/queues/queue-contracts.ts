import { assertShape, PayloadError } from './payload-guard';

/** Every queue Gridline uses. Node queues are per agent: `node.<nodeId>`. */
export const QueueName = {
  /** api → scheduler: admitted jobs waiting for a replica. */
  Inference: 'inference',
  /** agent → scheduler: final outcomes of jobs. */
  Results: 'results',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export function nodeQueueName(nodeId: string): string {
  return `node.${nodeId}`;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The generation a client asked for, normalised by the api. */
export interface GenerationRequest {
  messages: ChatMessage[];
  maxTokens: number;
  temperature: number;
  topP: number;
  seed?: number;
  stop?: string[];
}

export interface InferenceJobData {
  jobId: string;
  teamId: string;
  model: string;
  requestId: string | null;
  /** Epoch ms when the api accepted the job; bounds how long it may wait for a replica. */
  acceptedAt: number;
  request: GenerationRequest;
}

export interface GenerateJobData extends InferenceJobData {
  nodeId: string;
}

export type FinishReason = 'stop' | 'length' | 'cancelled';

export interface GenerationResult {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  /** Milliseconds from the start of generation to the first token, and in total. */
  firstTokenMs: number;
  totalMs: number;
}

export type JobFinishedData =
  | { jobId: string; nodeId: string | null; status: 'succeeded'; result: GenerationResult }
  | { jobId: string; nodeId: string | null; status: 'failed'; errorCode: string; errorMessage: string };

/** Every job name on every queue, with its payload (Immich's JobItem pattern). */
export type JobItem =
  | { queue: typeof QueueName.Inference; name: 'chat.completion'; data: InferenceJobData }
  | { queue: 'node'; name: 'generate'; data: GenerateJobData }
  | { queue: typeof QueueName.Results; name: 'job.finished'; data: JobFinishedData };

export type JobName = JobItem['name'];
export type JobOf<N extends JobName> = Extract<JobItem, { name: N }>['data'];

/** BullMQ job ids are derived here only: one job row, one id on each queue it passes through. */
export function bullJobId(name: JobName, jobId: string): string {
  return `${name}-${jobId}`;
}

function assertGenerationRequest(value: unknown): void {
  assertShape('request', value, { messages: 'array', maxTokens: 'number', temperature: 'number', topP: 'number', seed: 'number?', stop: 'array?' });
  for (const m of (value as GenerationRequest).messages) assertShape('message', m, { role: 'string', content: 'string' });
}

/** Validates a payload as a worker receives it; throws PayloadError for anything malformed. */
export function parseJobData<N extends JobName>(name: N, data: unknown): JobOf<N> {
  switch (name) {
    case 'chat.completion':
    case 'generate':
      assertShape(name, data, { jobId: 'string', teamId: 'string', model: 'string', requestId: 'string?', acceptedAt: 'number', request: 'object' });
      assertGenerationRequest((data as InferenceJobData).request);
      if (name === 'generate') assertShape(name, data, { nodeId: 'string' });
      return data as JobOf<N>;
    case 'job.finished': {
      assertShape(name, data, { jobId: 'string', nodeId: 'string?', status: 'string' });
      const d = data as JobFinishedData;
      if (d.status === 'succeeded') {
        assertShape('result', d.result, { text: 'string', finishReason: 'string', promptTokens: 'number', completionTokens: 'number', firstTokenMs: 'number', totalMs: 'number' });
      } else if (d.status === 'failed') {
        assertShape(name, d, { errorCode: 'string', errorMessage: 'string' });
      } else {
        throw new PayloadError(`job.finished: unknown status`);
      }
      return data as JobOf<N>;
    }
    default: {
      const unknown: never = name;
      throw new PayloadError(`unknown job name ${String(unknown)}`);
    }
  }
}
