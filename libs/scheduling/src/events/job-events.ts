import { FinishReason, GenerationResult } from '../queues/queue-contracts';

/**
 * Entries of a job's event stream (one Redis stream per job), written by the agent and read
 * by the api that holds the client's connection. Every field is a string in Redis.
 */
export type JobEvent =
  | { type: 'chunk'; text: string }
  | { type: 'done'; result: GenerationResult }
  | { type: 'error'; code: string; message: string };

export function encodeJobEvent(event: JobEvent): string[] {
  return ['e', JSON.stringify(event)];
}

const FINISH: FinishReason[] = ['stop', 'length', 'cancelled'];

export function decodeJobEvent(fields: string[]): JobEvent | null {
  const i = fields.indexOf('e');
  if (i < 0 || i + 1 >= fields.length) return null;
  try {
    const parsed = JSON.parse(fields[i + 1]) as JobEvent;
    if (parsed.type === 'chunk' && typeof parsed.text === 'string') return parsed;
    if (parsed.type === 'error' && typeof parsed.code === 'string') return parsed;
    if (parsed.type === 'done' && parsed.result && FINISH.includes(parsed.result.finishReason)) return parsed;
    return null;
  } catch {
    return null;
  }
}

/** How long a finished job's events stay readable (a reconnecting client or a late api replica). */
export const JOB_EVENTS_TTL_SECONDS = 3600;
