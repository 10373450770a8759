import { Injectable } from '@nestjs/common';
import type { LoadedModel, RunningJob } from '@gridline/contract';
import { ReplicaView, pickReplica } from '@gridline/scheduling';

interface Claim {
  model: string;
  since: number;
}

interface NodeState {
  models: LoadedModel[];
  lastSeen: number;
  /** Attempts dispatched to the node that have not ended, by `jobId/attempt`. */
  inFlight: Map<string, Claim>;
  /** The node's last heartbeat list of running attempts, and when it came. */
  reported: { at: number; jobs: Set<string> } | null;
}

export const runningKey = (jobId: string, attempt: number) => `${jobId}/${attempt}`;

/** How long a released attempt is remembered, so that a heartbeat sent before its end does not count it again. */
const RELEASED_MEMORY_MS = 60_000;

/**
 * The scheduler's live view of loaded replicas and the attempts on them, fed by registrations,
 * heartbeats, dispatches and ends. Postgres keeps the durable rows; this answers routing
 * without a query. Claims are per attempt, and only the attempt's own end releases one.
 */
@Injectable()
export class ReplicaRegistry {
  private readonly nodes = new Map<string, NodeState>();
  private readonly released = new Map<string, number>();

  seen(nodeId: string, models: LoadedModel[], at: number): void {
    const state = this.nodes.get(nodeId);
    if (state) {
      state.models = models;
      state.lastSeen = Math.max(state.lastSeen, at);
    } else {
      this.nodes.set(nodeId, { models, lastSeen: at, inFlight: new Map(), reported: null });
    }
  }

  /**
   * Takes in a heartbeat's running attempts. An attempt the scheduler counts against the node,
   * claimed more than `graceMs` before, that the node does not run is no longer counted (its end
   * was missed); one the node runs that the scheduler did not count is (an earlier scheduler
   * dispatched it), unless its end was already seen.
   */
  report(nodeId: string, running: RunningJob[], at: number, graceMs: number): void {
    const state = this.nodes.get(nodeId);
    if (!state) return;
    this.prune(at);
    const keys = new Set(running.map((j) => runningKey(j.jobId, j.attempt)));
    state.reported = { at, jobs: keys };
    for (const [key, claim] of state.inFlight) if (!keys.has(key) && claim.since < at - graceMs) state.inFlight.delete(key);
    const model = state.models[0]?.name ?? '';
    for (const key of keys) if (!state.inFlight.has(key) && !this.released.has(key)) state.inFlight.set(key, { model, since: at });
  }

  isAlive(nodeId: string, now: number, timeoutMs: number): boolean {
    const state = this.nodes.get(nodeId);
    return !!state && now - state.lastSeen <= timeoutMs;
  }

  lastReport(nodeId: string): { at: number; jobs: ReadonlySet<string> } | null {
    return this.nodes.get(nodeId)?.reported ?? null;
  }

  /** Counts an attempt the node holds (rebuilt from the jobs table at start). */
  hold(nodeId: string, jobId: string, attempt: number, model: string, since: number): void {
    this.nodes.get(nodeId)?.inFlight.set(runningKey(jobId, attempt), { model, since });
  }

  /** The node an attempt is claimed on, if any (a duplicate delivery must not claim twice). */
  holder(jobId: string, attempt: number): string | null {
    const key = runningKey(jobId, attempt);
    for (const [nodeId, state] of this.nodes) if (state.inFlight.has(key)) return nodeId;
    return null;
  }

  /** Picks a node for one attempt and counts it against the node; null when none is free. */
  claim(model: string, jobId: string, attempt: number, now: number, timeoutMs: number): string | null {
    const views: ReplicaView[] = [];
    for (const [nodeId, state] of this.nodes) {
      const ready = now - state.lastSeen <= timeoutMs;
      for (const m of state.models) views.push({ nodeId, model: m.name, ready, slots: m.parallel, inFlight: state.inFlight.size });
    }
    const chosen = pickReplica(views, model);
    if (!chosen) return null;
    this.nodes.get(chosen.nodeId)?.inFlight.set(runningKey(jobId, attempt), { model, since: now });
    return chosen.nodeId;
  }

  /** Frees an attempt's sequence; returns the model it ran (to wake a job waiting for it), or null if it held none. */
  release(nodeId: string | null, jobId: string, attempt: number, at = Date.now()): string | null {
    if (!nodeId) return null;
    const key = runningKey(jobId, attempt);
    this.released.set(key, at);
    const state = this.nodes.get(nodeId);
    const claim = state?.inFlight.get(key);
    if (!claim) return null;
    state?.inFlight.delete(key);
    return claim.model;
  }

  hasModel(model: string): boolean {
    for (const state of this.nodes.values()) if (state.models.some((m) => m.name === model)) return true;
    return false;
  }

  private prune(now: number): void {
    for (const [key, at] of this.released) if (at < now - RELEASED_MEMORY_MS) this.released.delete(key);
  }
}
