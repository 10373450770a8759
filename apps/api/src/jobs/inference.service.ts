import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { DomainError, RedisKeys } from '@gridline/common';
import { JobRepository, ModelRepository } from '@gridline/db';
import { ChatMessage, GenerationRequest, JobEvent, JobProducer } from '@gridline/scheduling';
import { ApiConfig } from '../api.config';
import { Principal } from '../auth/principal';
import { JobEventsReader } from './job-events.reader';

export const DEFAULT_MAX_TOKENS = 256;

export interface ChatInput {
  model: string;
  messages: { role: string; content: string | { type: 'text'; text: string }[] }[];
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  stop?: string | string[];
}

export interface SubmittedJob {
  jobId: string;
  createdAt: Date;
  /** The job's events in order; ends after `done` or `error`, or with a timeout error. */
  events: AsyncGenerator<JobEvent>;
}

function normaliseMessages(messages: ChatInput['messages']): ChatMessage[] {
  return messages.map((m) => ({
    role: m.role === 'developer' ? 'system' : (m.role as ChatMessage['role']),
    content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join(''),
  }));
}

/** Admits an inference request: persists the job, enqueues it, and follows its events. */
@Injectable()
export class InferenceService implements OnApplicationShutdown {
  private readonly producer: JobProducer;

  constructor(
    private readonly config: ApiConfig,
    private readonly jobs: JobRepository,
    private readonly models: ModelRepository,
    private readonly reader: JobEventsReader,
    private readonly keys: RedisKeys,
    @Inject(Redis) redis: Redis,
  ) {
    this.producer = new JobProducer(redis, keys.bullPrefix);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.producer.close();
  }

  async submitChat(principal: Principal, input: ChatInput, requestId: string | null): Promise<SubmittedJob> {
    const allowed = principal.credential.kind === 'token' ? principal.credential.models : null;
    if (allowed && !allowed.includes(input.model)) {
      throw new DomainError('model_not_allowed', 403, `this token may not use the model '${input.model}'`, { param: 'model' });
    }
    if (!(await this.models.findByName(input.model))) {
      throw new DomainError('model_not_found', 404, `The model '${input.model}' does not exist`, { param: 'model' });
    }
    const request: GenerationRequest = {
      messages: normaliseMessages(input.messages),
      maxTokens: input.maxTokens ?? DEFAULT_MAX_TOKENS,
      temperature: input.temperature ?? 1,
      topP: input.topP ?? 1,
      ...(input.seed !== undefined ? { seed: input.seed } : {}),
      ...(input.stop !== undefined ? { stop: typeof input.stop === 'string' ? [input.stop] : input.stop } : {}),
    };
    const job = await this.jobs.create({
      teamId: principal.teamId,
      keypairId: principal.credential.kind === 'keypair' ? principal.credential.id : null,
      kind: 'chat.completion',
      model: input.model,
      request: request as unknown as Record<string, unknown>,
      requestId,
    });
    const events = this.follow(job.id);
    await this.producer.enqueue('chat.completion', {
      jobId: job.id,
      teamId: principal.teamId,
      model: input.model,
      requestId,
      acceptedAt: job.createdAt.getTime(),
      request,
    });
    return { jobId: job.id, createdAt: job.createdAt, events };
  }

  private async *follow(jobId: string): AsyncGenerator<JobEvent> {
    const stream = this.reader.follow(this.keys.jobEvents(jobId));
    const deadline = Date.now() + this.config.GRIDLINE_REQUEST_TIMEOUT_SECONDS * 1000;
    try {
      for (;;) {
        const remaining = deadline - Date.now();
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(0, remaining))));
        const next = await Promise.race([stream.next(), timeout]);
        clearTimeout(timer);
        if (next === 'timeout') {
          yield { type: 'error', code: 'timeout', message: `the job did not finish within ${this.config.GRIDLINE_REQUEST_TIMEOUT_SECONDS} seconds` };
          return;
        }
        if (next.done) return;
        yield next.value;
        if (next.value.type !== 'chunk') return;
      }
    } finally {
      await stream.return(undefined);
    }
  }
}
