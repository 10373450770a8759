import type { JobEvent } from '@gridline/contract';

/**
 * Writes generated text as numbered deltas (from 0), in order, with no timer: text is written
 * as soon as no write is in flight, and what arrives during a write is coalesced into the
 * next one. So the first token goes out at once, and a fast model costs one write per Redis
 * round trip, not one per token. `onFenced` runs once when a write is refused: the job was
 * closed or re-assigned.
 */
export class DeltaWriter {
  private buffer = '';
  private index = 0;
  private inFlight: Promise<void> | null = null;
  private fenced = false;
  private closed = false;

  constructor(
    private readonly write: (events: JobEvent[]) => Promise<boolean>,
    private readonly onFenced: () => void,
  ) {}

  get deltas(): number {
    return this.index;
  }

  get refused(): boolean {
    return this.fenced;
  }

  push(text: string): void {
    if (this.fenced || this.closed) return;
    this.buffer += text;
    if (!this.inFlight) this.flush();
  }

  /**
   * Stops writing: waits for the write in flight and returns what is still buffered as a last
   * delta, to be written with the final events in one call. Empty when fenced.
   */
  async finish(): Promise<JobEvent[]> {
    this.closed = true;
    while (this.inFlight) await this.inFlight;
    if (this.fenced || !this.buffer) return [];
    const last: JobEvent = { type: 'delta', index: this.index++, text: this.buffer };
    this.buffer = '';
    return [last];
  }

  private flush(): void {
    const event: JobEvent = { type: 'delta', index: this.index++, text: this.buffer };
    this.buffer = '';
    this.inFlight = this.write([event]).then(
      (ok) => this.settled(ok),
      () => this.settled(false),
    );
  }

  private settled(ok: boolean): void {
    this.inFlight = null;
    if (!ok) {
      if (!this.fenced) {
        this.fenced = true;
        this.onFenced();
      }
      return;
    }
    if (this.buffer && !this.closed) this.flush();
  }
}
