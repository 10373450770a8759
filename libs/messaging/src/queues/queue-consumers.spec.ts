import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { GenerateJobPayload, InferenceJobPayload } from '@gridline/contract';
import { MessagingModule } from '../messaging.module';
import { ConsumedQueue } from '../messaging.options';
import { OnQueue } from './on-queue.decorator';
import { handlerProblems } from './queue-consumers.service';
import { Queues } from './queue-spec';

@Injectable()
class Router {
  handled: InferenceJobPayload[] = [];

  @OnQueue(Queues.inference)
  async route(job: InferenceJobPayload): Promise<void> {
    this.handled.push(job);
  }
}

@Injectable()
class SecondRouter {
  @OnQueue(Queues.inference)
  async route(_job: InferenceJobPayload): Promise<void> {
    throw new Error('never called: the app refuses to boot');
  }
}

@Injectable()
class NodeRunner {
  @OnQueue(Queues.node)
  async run(_job: GenerateJobPayload): Promise<void> {
    throw new Error('not called in these tests');
  }
}

/** Boots an app context with the messaging module and the given providers; returns the boot error, if any. */
async function boot(consumes: ConsumedQueue[], providers: (new (...args: never[]) => unknown)[]): Promise<Error | null> {
  @Module({
    imports: [MessagingModule.forRoot({ redisUrl: 'redis://127.0.0.1:6379', prefix: 'gl_unit_boot', connectionName: 'unit', consumes })],
    providers,
  })
  class TestModule {}
  // createApplicationContext runs the bootstrap hooks, where the check happens.
  try {
    const app = await NestFactory.createApplicationContext(TestModule, { logger: false, abortOnError: false });
    await app.close();
    return null;
  } catch (e) {
    return e as Error;
  }
}

describe('queue handler registry', () => {
  it('finds nothing wrong with one handler per consumed queue', () => {
    expect(handlerProblems(['inference'], [{ queue: 'inference', owner: 'Router.route' }])).toEqual([]);
  });

  it('names a consumed queue without a handler, one with two, and a handler of a queue not consumed', () => {
    expect(handlerProblems(['inference'], [])).toEqual(['queue "inference" is consumed but has no @OnQueue handler']);
    expect(handlerProblems(['inference'], [{ queue: 'inference', owner: 'A.route' }, { queue: 'inference', owner: 'B.route' }])).toEqual([
      'queue "inference" has 2 handlers (A.route, B.route); it must have one',
    ]);
    expect(handlerProblems([], [{ queue: 'node', owner: 'NodeRunner.run' }])).toEqual(['NodeRunner.run handles queue "node", which this app does not consume']);
  });

  it('refuses to boot an app that consumes a queue with no handler, naming it', async () => {
    const err = await boot([{ queue: Queues.node, concurrency: 1 }], [Router]);
    expect(err?.message).toMatch(/queue "node" is consumed but has no @OnQueue handler/);
  });

  it('refuses to boot an app with two handlers for a queue, naming both', async () => {
    const err = await boot([{ queue: Queues.inference, concurrency: 1 }], [Router, SecondRouter]);
    expect(err?.message).toMatch(/queue "inference" has 2 handlers \(Router\.route, SecondRouter\.route\)/);
  });

  it('boots when every consumed queue has exactly one handler (parametric queues start later)', async () => {
    expect(await boot([{ queue: Queues.node, concurrency: 1 }], [NodeRunner])).toBeNull();
  });
});
