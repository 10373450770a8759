import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { MessagingConnections } from './messaging.connections';
import { MESSAGING_OPTIONS, MessagingOptions } from './messaging.options';
import { JobQueues } from './queues/job-queues.service';
import { QueueConsumers } from './queues/queue-consumers.service';
import { JobCancellations } from './streams/job-cancellations';
import { JobEventFollower } from './streams/job-event-follower';
import { JobProgressFeed } from './streams/job-progress';
import { JobStreams } from './streams/job-streams.service';

const SERVICES = [MessagingConnections, JobQueues, QueueConsumers, JobStreams, JobEventFollower, JobProgressFeed, JobCancellations];

/** Queues, job event streams, progress notes and cancellations for one app. */
@Module({})
export class MessagingModule {
  static forRoot(options: MessagingOptions): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      imports: [DiscoveryModule],
      providers: [{ provide: MESSAGING_OPTIONS, useValue: options }, ...SERVICES],
      exports: SERVICES,
    };
  }
}
