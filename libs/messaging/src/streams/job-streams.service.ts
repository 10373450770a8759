import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { JobEvent, REQUEST_LIMITS, TerminalJobEvent, parseJobEvent } from '@gridline/contract';
import { MessagingConnections } from '../messaging.connections';
import { APPEND_SCRIPT, CLOSE_SCRIPT, OPEN_SCRIPT, REASSIGN_SCRIPT } from './job-stream.scripts';

/**
 * Entries kept per job stream (approximate trim): above a longest completion written one token per
 * entry. A completion never exceeds REQUEST_LIMITS.maxTokens.max tokens, also without max_tokens
 * (the runner caps the rest of the context at it).
 */
export const JOB_STREAM_MAXLEN = 2 * REQUEST_LIMITS.maxTokens.max + 1000;
/** How long a job's stream lives after its last write while it runs. */
export const JOB_STREAM_OPEN_TTL_SECONDS = 24 * 3600;
/**
 * How long an ended job's events stay readable until its row is finished (the finisher reads
 * them; a scheduler that was down catches up within this).
 */
export const JOB_STREAM_ENDED_TTL_SECONDS = 3600;
/**
 * How long a job's stream and control hash stay once its row is finished: its live reader
 * has had everything by then, and the row (Postgres) holds the result. A node that writes
 * later finds no control hash and is fenced off all the same.
 */
export const JOB_STREAM_SETTLED_TTL_SECONDS = 30;

export interface StoredJobEvent {
  id: string;
  attempt: number;
  event: JobEvent;
  /** Written by the control plane when it ended the job, not by the node running it. */
  control: boolean;
}

export type CloseReason = 'cancelled' | 'expired' | 'failed';

/** What closing found: closed now, or closed before (by the node's end, or by an earlier ender), or another attempt's. */
export type CloseResult = { closed: true } | { closed: false; before: CloseReason | 'ended' | 'stale' };

type Scripted = Redis & {
  glJobAppend(stream: string, ctl: string, progress: string, ...args: (string | number)[]): Promise<number>;
  glJobOpen(ctl: string, ...args: (string | number)[]): Promise<number>;
  glJobClose(stream: string, ctl: string, ...args: (string | number)[]): Promise<string>;
  glJobReassign(ctl: string, ...args: (string | number)[]): Promise<number>;
};

function noteFor(event: JobEvent): string {
  if (event.type === 'started') return 'started';
  if (event.type === 'delta' && event.index === 0) return 'first_token';
  return '';
}

/**
 * A job's event stream, written and read through one typed API: nodes append fenced by
 * attempt; the control plane opens an attempt and closes the job; readers get parsed events.
 */
@Injectable()
export class JobStreams {
  private readonly redis: Scripted;

  constructor(private readonly connections: MessagingConnections) {
    const r = connections.commands;
    if (!('glJobAppend' in r)) {
      r.defineCommand('glJobAppend', { numberOfKeys: 3, lua: APPEND_SCRIPT });
      r.defineCommand('glJobOpen', { numberOfKeys: 1, lua: OPEN_SCRIPT });
      r.defineCommand('glJobClose', { numberOfKeys: 2, lua: CLOSE_SCRIPT });
      r.defineCommand('glJobReassign', { numberOfKeys: 1, lua: REASSIGN_SCRIPT });
    }
    this.redis = r as Scripted;
  }

  /** Lets `attempt` write the job's stream; false when the job is already closed. */
  async open(jobId: string, attempt: number): Promise<boolean> {
    return (await this.redis.glJobOpen(this.keys.jobControl(jobId), attempt, JOB_STREAM_OPEN_TTL_SECONDS)) === 1;
  }

  /**
   * Takes the job from a lost attempt for the next one: the lost attempt is fenced off at once.
   * False when it may not be: the job is closed, a token was written (unless `resuming`: the next
   * attempt continues the text written so far), or another attempt owns it.
   */
  async reassign(jobId: string, lost: number, next: number, options: { resuming?: boolean } = {}): Promise<boolean> {
    return (await this.redis.glJobReassign(this.keys.jobControl(jobId), lost, next, JOB_STREAM_OPEN_TTL_SECONDS, options.resuming ? '1' : '')) === 1;
  }

  /** Appends events of one attempt; false when fenced (a newer attempt, or the job was closed). */
  async append(jobId: string, attempt: number, nodeId: string, events: JobEvent[]): Promise<boolean> {
    return this.write('append', jobId, attempt, nodeId, events);
  }

  /**
   * The node's last word on an attempt: appends the final events when not fenced, and always
   * tells the scheduler (progress `ended`) so it frees the sequence.
   */
  async end(jobId: string, attempt: number, nodeId: string, events: JobEvent[]): Promise<boolean> {
    return this.write('end', jobId, attempt, nodeId, events);
  }

  /**
   * Closes the job from the control plane with a final event for its readers, and announces
   * it on the cancel channel so the node stops. With `attempt`, only while that attempt owns it.
   */
  async close(jobId: string, reason: CloseReason, event: TerminalJobEvent | null, attempt?: number): Promise<CloseResult> {
    const k = this.keys;
    const r = await this.redis.glJobClose(
      k.jobEvents(jobId),
      k.jobControl(jobId),
      JOB_STREAM_MAXLEN,
      event ? JSON.stringify(event) : '',
      JOB_STREAM_ENDED_TTL_SECONDS,
      reason,
      k.jobCancelChannel,
      jobId,
      attempt ?? '',
    );
    return r === 'closed' ? { closed: true } : { closed: false, before: r as CloseReason | 'ended' | 'stale' };
  }

  /** The job's row is finished: its stream and control hash expire soon (never later than already set). */
  async retire(jobId: string): Promise<void> {
    await this.redis
      .multi()
      .expire(this.keys.jobEvents(jobId), JOB_STREAM_SETTLED_TTL_SECONDS, 'LT')
      .expire(this.keys.jobControl(jobId), JOB_STREAM_SETTLED_TTL_SECONDS, 'LT')
      .exec();
  }

  /** Every stored event of the job, in order. */
  async read(jobId: string): Promise<StoredJobEvent[]> {
    const entries = (await this.redis.xrange(this.keys.jobEvents(jobId), '-', '+')) as [string, string[]][];
    return entries.map(([id, fields]) => decodeEntry(id, fields)).filter((e): e is StoredJobEvent => e !== null);
  }

  private async write(mode: 'append' | 'end', jobId: string, attempt: number, nodeId: string, events: JobEvent[]): Promise<boolean> {
    const k = this.keys;
    const pairs = events.flatMap((e) => [noteFor(e), JSON.stringify(e)]);
    const r = await this.redis.glJobAppend(
      k.jobEvents(jobId),
      k.jobControl(jobId),
      k.jobProgress,
      JOB_STREAM_MAXLEN,
      attempt,
      jobId,
      nodeId,
      mode,
      JOB_STREAM_OPEN_TTL_SECONDS,
      JOB_STREAM_ENDED_TTL_SECONDS,
      ...pairs,
    );
    return r === 1;
  }

  private get keys() {
    return this.connections.keys;
  }
}

/** One stream entry (`a` attempt, `e` event JSON) parsed; null when malformed. */
export function decodeEntry(id: string, fields: string[]): StoredJobEvent | null {
  let attempt = NaN;
  let raw: string | null = null;
  let control = false;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'a') attempt = Number(fields[i + 1]);
    else if (fields[i] === 'e') raw = fields[i + 1];
    else if (fields[i] === 'c') control = fields[i + 1] === '1';
  }
  const event = raw === null ? null : parseJobEvent(raw);
  return event && Number.isFinite(attempt) ? { id, attempt, event, control } : null;
}
