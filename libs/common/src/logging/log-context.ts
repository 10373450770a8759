import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The fields that tie a log line to the work it is about: the api request (`x-request-id`) and
 * the job it submitted (with its try). Set where the work enters a process (an HTTP request, a
 * queue job) and added by pino's mixin to every line logged while that work runs, so one job
 * can be followed from the api through the scheduler and the agent to its runner.
 */
export interface LogFields {
  requestId?: string | null;
  jobId?: string;
  attempt?: number;
}

const storage = new AsyncLocalStorage<LogFields>();

export const LogContext = {
  /** Runs `fn` with `fields` added to the current context (its own copy: siblings never see them). */
  run<T>(fields: LogFields, fn: () => T): T {
    return storage.run({ ...storage.getStore(), ...defined(fields) }, fn);
  },

  /** Adds fields to the context the caller runs in (a request learns its job id once the row exists); no-op outside one. */
  assign(fields: LogFields): void {
    const store = storage.getStore();
    if (store) Object.assign(store, defined(fields));
  },

  current(): Readonly<LogFields> | undefined {
    return storage.getStore();
  },

  /** The context's fields as a log line carries them (pino's mixin): nothing null or unset. */
  mixin(): Record<string, unknown> {
    const store = storage.getStore();
    if (!store) return {};
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(store)) if (v !== undefined && v !== null) out[k] = v;
    return out;
  },
};

function defined(fields: LogFields): LogFields {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as LogFields;
}
