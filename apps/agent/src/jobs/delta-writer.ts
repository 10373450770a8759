import type { JobEvent } from '@gridline/contract';

/**
 * Coalesces text produced faster than it is worth writing (one fenced append per flush, at
 * most every `intervalMs`), numbering deltas from 0 and keeping their order with the final
 * events. `onFenced` runs once when a write is refused: the job was closed or re-assigned.
 */
export class DeltaWriter {
  private buffer = '';
  private index = 0;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<boolean> = Promise.resolve(true);
  private fenced = false;

  constructor(
    private readonly write: (events: JobEvent[]) => Promise<boolean>,
    private readonly onFenced: () => void,
    private readonly intervalMs = 15,
  ) {}

  get deltas(): number {
    return this.index;
  }

  push(text: string): void {
    if (this.fenced) return;
    this.buffer += text;
    if (!this.timer) this.timer = setTimeout(() => this.flush(), this.intervalMs);
  }

  /** Writes what is buffered; resolves false when the stream refused a write. */
  async drain(): Promise<boolean> {
    this.flush();
    return this.chain;
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.buffer || this.fenced) return;
    const event: JobEvent = { type: 'delta', index: this.index++, text: this.buffer };
    this.buffer = '';
    this.chain = this.chain.then(async (ok) => {
      if (!ok) return false;
      const written = await this.write([event]);
      if (!written && !this.fenced) {
        this.fenced = true;
        this.onFenced();
      }
      return written;
    });
  }
}
