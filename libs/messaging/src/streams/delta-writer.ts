import type { DeltaTiming, JobEvent, TokenLogprob } from '@gridline/contract';

/**
 * Writes generated text as numbered deltas (from 0, or from `firstIndex` when the attempt
 * continues an earlier one's text), in order, with no timer: text is written
 * as soon as no write is in flight, and what arrives during a write is coalesced into the
 * next one. So the first token goes out at once, and a fast model costs one write per Redis
 * round trip, not one per token. A write that fails (Redis unreachable) is tried again a few
 * times (a repeat is harmless: deltas are numbered). `onStop` runs once when writing stops:
 * `fenced`, the job was closed or re-assigned; `failed`, Redis could not be written.
 * Log probabilities (when the request asked for them) travel with their text: a coalesced delta
 * carries those of every piece it joins, in order.
 */
export class DeltaWriter {
  private buffer = '';
  /** The first delta's timing, until it is written. */
  private timing: DeltaTiming | null = null;
  private timed = false;
  /** The buffered text's log probabilities; null when the request asked for none. */
  private logprobs: TokenLogprob[] | null = null;
  private index: number;
  private inFlight: Promise<void> | null = null;
  private stopped: 'fenced' | 'failed' | null = null;
  private closed = false;

  constructor(
    private readonly write: (events: JobEvent[]) => Promise<boolean>,
    private readonly onStop: (why: 'fenced' | 'failed') => void,
    private readonly retryDelaysMs: readonly number[] = [100, 300, 900],
    firstIndex = 0,
  ) {
    this.index = firstIndex;
  }

  /** The index of the next delta: how many the job's text has been written in so far. */
  get deltas(): number {
    return this.index;
  }

  /** Why writing stopped early, if it did. */
  get stoppedBy(): 'fenced' | 'failed' | null {
    return this.stopped;
  }

  /** Buffers text; `timing` (the node's account of the first text) goes out with the first delta only. */
  push(text: string, timing?: DeltaTiming, logprobs?: TokenLogprob[]): void {
    if (this.stopped || this.closed) return;
    if (timing && !this.timed) {
      this.timed = true;
      this.timing = timing;
    }
    this.buffer += text;
    if (logprobs) (this.logprobs ??= []).push(...logprobs);
    if (!this.inFlight) this.flush();
  }

  /**
   * Stops writing: waits for the write in flight and returns what is still buffered as a last
   * delta, to be written with the final events in one call. Empty when fenced.
   */
  async finish(): Promise<JobEvent[]> {
    this.closed = true;
    while (this.inFlight) await this.inFlight;
    if (this.stopped || !this.buffer) return [];
    const last = this.delta();
    return [last];
  }

  private delta(): JobEvent {
    const event: JobEvent = { type: 'delta', index: this.index++, text: this.buffer, ...(this.timing ? { timing: this.timing } : {}), ...(this.logprobs ? { logprobs: this.logprobs } : {}) };
    this.buffer = '';
    this.timing = null;
    this.logprobs = null;
    return event;
  }

  private flush(): void {
    const event = this.delta();
    this.inFlight = this.writeWithRetries([event]).then((outcome) => this.settled(outcome));
  }

  private async writeWithRetries(events: JobEvent[]): Promise<'ok' | 'fenced' | 'failed'> {
    for (let i = 0; ; i++) {
      try {
        return (await this.write(events)) ? 'ok' : 'fenced';
      } catch {
        if (i >= this.retryDelaysMs.length) return 'failed';
        await new Promise((r) => setTimeout(r, this.retryDelaysMs[i]));
      }
    }
  }

  private settled(outcome: 'ok' | 'fenced' | 'failed'): void {
    this.inFlight = null;
    if (outcome !== 'ok') {
      if (!this.stopped) {
        this.stopped = outcome;
        this.onStop(outcome);
      }
      return;
    }
    if (this.buffer && !this.closed) this.flush();
  }
}
