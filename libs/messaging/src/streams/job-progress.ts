import { Injectable, Logger } from '@nestjs/common';
import { RedisConnectionWatch } from '@gridline/common';
import { MessagingConnections } from '../messaging.connections';

/** A lifecycle note a node writes with the events it concerns (see job-stream.scripts). */
export interface ProgressNote {
  id: string;
  jobId: string;
  attempt: number;
  kind: 'started' | 'first_token' | 'ended';
  nodeId: string;
  /** On `ended`: the attempt's final events were refused (stale attempt or closed job). */
  fenced: boolean;
}

function decode(id: string, fields: string[]): ProgressNote | null {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  const attempt = Number(f.a);
  if (!f.job || !Number.isFinite(attempt) || !['started', 'first_token', 'ended'].includes(f.kind)) return null;
  return { id, jobId: f.job, attempt, kind: f.kind as ProgressNote['kind'], nodeId: f.node ?? '', fenced: f.fenced === '1' };
}

/**
 * How often notes whose handling failed are tried again, and how long notes a dead scheduler
 * read and never acknowledged wait before the next leader takes them.
 */
const PENDING_RETRY_MS = 5_000;

type GroupReply = [key: string, entries: [id: string, fields: string[] | null][]][] | null;

/**
 * Consumes the progress stream as a consumer group: a note is acknowledged only after its
 * handler succeeded, so a scheduler that dies mid-way leaves it pending for the next one.
 */
@Injectable()
export class JobProgressFeed {
  private readonly logger = new Logger('JobProgress');
  private loop: Promise<void> | null = null;
  private stopping = false;

  constructor(private readonly connections: MessagingConnections) {
    connections.onClose('readers', () => this.stop());
  }

  /**
   * Consumes as `consumer` of `group`. While `active()` says no (a standby scheduler), nothing is
   * read: notes wait in the stream for whoever is active.
   */
  consume(group: string, consumer: string, handle: (note: ProgressNote) => Promise<void>, active: () => boolean = () => true): void {
    if (this.loop) throw new Error('the progress feed is already consumed by this process');
    const blocking = this.connections.dedicated('progress');
    const key = this.connections.keys.jobProgress;
    const watch = new RedisConnectionWatch('job-progress reader', this.connections.options.redisUrl, this.logger, () => this.stopping);
    this.loop = (async () => {
      let ready = false;
      let cursor = '0';
      let lastPendingScan = 0;
      while (!this.stopping) {
        if (!active()) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        try {
          if (!ready) {
            await blocking.xgroup('CREATE', key, group, '0', 'MKSTREAM').catch((e: Error) => {
              if (!/BUSYGROUP/.test(e.message)) throw e;
            });
            ready = true;
          }
          // First what this consumer left pending (a crash between handling and XACK, a failed
          // handler), then new notes; pending ones are looked at again every PENDING_RETRY_MS.
          if (cursor === '>' && Date.now() - lastPendingScan > PENDING_RETRY_MS) cursor = '0';
          if (cursor === '0') {
            lastPendingScan = Date.now();
            // Notes a dead consumer (a scheduler that crashed) took and never acknowledged become ours.
            await blocking.xautoclaim(key, group, consumer, PENDING_RETRY_MS, '0-0', 'COUNT', 200, 'JUSTID');
          }
          const reply = (await blocking.xreadgroup('GROUP', group, consumer, 'COUNT', 200, 'BLOCK', cursor === '0' ? 1 : 2000, 'STREAMS', key, cursor)) as GroupReply;
          const entries = reply?.[0]?.[1] ?? [];
          const rescanning = cursor === '0';
          // One job's notes in their order, different jobs' at once: a job's end (which frees its
          // sequence) never waits behind other jobs' database writes. Handled ones are acknowledged
          // together; a failed one stays pending, to be taken again.
          const perJob = new Map<string, [string, ProgressNote][]>();
          const handled: string[] = [];
          for (const [id, fields] of entries) {
            const note = fields ? decode(id, fields) : null;
            if (!note) handled.push(id);
            else perJob.set(note.jobId, [...(perJob.get(note.jobId) ?? []), [id, note]]);
          }
          await Promise.all(
            [...perJob.values()].map(async (notes) => {
              for (const [id, note] of notes) {
                try {
                  await handle(note);
                } catch (e) {
                  this.logger.warn({ jobId: note.jobId }, `handling ${note.kind} failed: ${(e as Error).message}`);
                  continue;
                }
                handled.push(id);
              }
            }),
          );
          if (handled.length > 0) await blocking.xack(key, group, ...handled);
          if (rescanning) cursor = '>';
          watch.up();
        } catch (e) {
          if (this.stopping) return;
          ready = false;
          // A Redis restarted empty lost the group (NOGROUP): it is created again on the next turn.
          if (/NOGROUP/.test((e as Error).message)) this.logger.warn('the progress stream\'s consumer group is gone (Redis restarted empty?): creating it again');
          else watch.down(e);
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    })();
  }

  private async stop(): Promise<void> {
    this.stopping = true;
    await this.loop?.catch(() => undefined);
  }
}
