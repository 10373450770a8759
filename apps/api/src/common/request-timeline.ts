import type { IncomingMessage } from 'node:http';
import type { DeltaTiming } from '@gridline/contract';

/**
 * Where one request's time goes inside the api, from its arrival to its first byte of
 * output: named steps in order, each measured from the end of the one before. Read back as
 * a `server-timing` header, so a client (and `npm run bench:overhead`) sees the same
 * account the api keeps, per request, at no cost beyond a clock read per step.
 */
export class RequestTimeline {
  readonly startedAt = performance.now();
  private last = this.startedAt;
  private readonly steps: [string, number][] = [];

  /** Ends the step `name` now; steps may repeat (their times add up). */
  mark(name: string): void {
    const now = performance.now();
    this.steps.push([name, now - this.last]);
    this.last = now;
  }

  /** Adds a step measured elsewhere (another process's own account), without moving the clock. */
  add(name: string, ms: number): void {
    this.steps.push([name, Math.max(0, ms)]);
  }

  /**
   * Ends the wait for the job's first output, split by the node's own account of it (when it
   * sent one): `runner`, the model's work (IPC to the runner included); `node`, the agent's
   * part; `transit`, the rest (the job's way to the node and the event's way back).
   */
  markFirstOutput(timing: DeltaTiming | undefined): void {
    const now = performance.now();
    this.firstOutputMs ??= now - this.startedAt;
    const wait = now - this.last;
    this.last = now;
    if (!timing) {
      this.steps.push(['first-output', wait]);
      return;
    }
    this.runnerMs = timing.runnerMs;
    this.steps.push(['transit', Math.max(0, wait - timing.nodeMs)], ['node', Math.max(0, timing.nodeMs - timing.runnerMs)], ['runner', timing.runnerMs]);
  }

  /** Milliseconds from the request's arrival to its first output (null until then). */
  firstOutputMs: number | null = null;

  /** The model's own milliseconds so far, as the node reported them (0 when it did not). */
  runnerMs = 0;

  /** Milliseconds spent outside the model's own work so far: Gridline's overhead. */
  overhead(): number {
    return Math.max(0, this.elapsed() - this.runnerMs);
  }

  /** Milliseconds since the request arrived. */
  elapsed(): number {
    return performance.now() - this.startedAt;
  }

  /** `auth;dur=0.210, model;dur=0.402, …` (RFC: W3C Server Timing). */
  serverTiming(): string {
    return this.steps.map(([name, ms]) => `${name};dur=${ms.toFixed(3)}`).join(', ');
  }
}

const TIMELINE = Symbol('gridline.timeline');

/** Starts the request's timeline (the first middleware); later code reads it with `timelineOf`. */
export function startTimeline(req: IncomingMessage): RequestTimeline {
  const t = new RequestTimeline();
  (req as IncomingMessage & { [TIMELINE]?: RequestTimeline })[TIMELINE] = t;
  return t;
}

/** The request's timeline; a detached one when none was started (in-process tests without the middleware). */
export function timelineOf(req: IncomingMessage): RequestTimeline {
  return (req as IncomingMessage & { [TIMELINE]?: RequestTimeline })[TIMELINE] ?? startTimeline(req);
}
