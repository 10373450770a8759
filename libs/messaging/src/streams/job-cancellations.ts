import { Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { MessagingConnections } from '../messaging.connections';

/**
 * The cancel channel: the control plane announces a job it closed (cancelled, expired,
 * failed) so the node running it stops at once instead of at its next write.
 */
@Injectable()
export class JobCancellations {
  private readonly logger = new Logger('JobCancellations');
  private subscriber: Redis | null = null;

  constructor(private readonly connections: MessagingConnections) {
    connections.onClose('readers', async () => {
      await this.subscriber?.quit().catch(() => undefined);
    });
  }

  async listen(onCancel: (jobId: string) => void): Promise<void> {
    if (this.subscriber) throw new Error('already listening for cancellations');
    const channel = this.connections.keys.jobCancelChannel;
    const sub = this.connections.dedicated('cancel');
    this.subscriber = sub;
    sub.on('message', (ch: string, jobId: string) => {
      if (ch === channel) onCancel(jobId);
    });
    // ioredis re-subscribes after a reconnect by itself.
    await sub.subscribe(channel);
    this.logger.debug(`listening on ${channel}`);
  }
}
