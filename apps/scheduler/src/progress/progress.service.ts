import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { hostname } from 'node:os';
import { JobLifecycle } from '@gridline/jobs';
import { JobProgressFeed, ProgressNote } from '@gridline/messaging';
import { WaitingJobs } from '../dispatch/waiting-jobs';
import { Leadership } from '../leadership/leadership.service';
import { ReplicaRegistry } from '../replicas/replica-registry';

/**
 * Moves jobs along their lifecycle from the nodes' progress notes, and frees sequences. Only the
 * leader reads them: its view of free sequences must hear every end (a standby's notes would be
 * lost to it), and notes sent while no scheduler leads wait in the stream for the next leader.
 */
@Injectable()
export class ProgressService implements OnApplicationBootstrap {
  constructor(
    private readonly feed: JobProgressFeed,
    private readonly lifecycle: JobLifecycle,
    private readonly replicas: ReplicaRegistry,
    private readonly waiting: WaitingJobs,
    private readonly leadership: Leadership,
  ) {}

  onApplicationBootstrap(): void {
    this.feed.consume('scheduler', `${hostname()}-${process.pid}`, (note) => this.handle(note), () => this.leadership.leading);
  }

  async handle(note: ProgressNote): Promise<void> {
    switch (note.kind) {
      case 'started':
        await this.lifecycle.start(note.jobId, note.attempt);
        return;
      case 'first_token':
        await this.lifecycle.firstToken(note.jobId, note.attempt);
        return;
      case 'ended':
        this.waiting.wake(this.replicas.release(note.nodeId, note.jobId, note.attempt));
        if (!note.fenced) await this.lifecycle.settle(note.jobId, note.attempt);
        return;
    }
  }
}
