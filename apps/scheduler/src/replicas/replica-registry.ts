import { Injectable } from '@nestjs/common';
import type { LoadedModel, RunningJob } from '@gridline/contract';
import { ReplicaView, pickReplica } from '@gridline/scheduling';

interface NodeState {
  models: LoadedModel[];
  lastSeen: number;
  /** Jobs dispatched to the node that have not ended: job id → when it was claimed. */
  inFlight: Map<string, number>;
  /** The node's last heartbeat list of running jobs (`jobId/attempt`), and when it came. */
  reported: { at: number; jobs: Set<string> } | null;
}

export const runningKey = (jobId: string, attempt: number) => `${jobId}/${attempt}`;

/**
 * The scheduler's live view of loaded replicas and the jobs on them, fed by registrations,
 * heartbeats and dispatches. Postgres keeps the durable rows; this answers routing without a query.
 */
@Injectable()
export class ReplicaRegistry {
  private readonly nodes = new Map<string, NodeState>();

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
   * Takes in a heartbeat's running jobs. A job the scheduler counts against the node, claimed
   * more than `graceMs` before, that the node does not run is no longer counted: its end was
   * missed, and keeping it would leave a sequence idle for good.
   */
  report(nodeId: string, running: RunningJob[], at: number, graceMs: number): void {
    const state = this.nodes.get(nodeId);
    if (!state) return;
    state.reported = { at, jobs: new Set(running.map((j) => runningKey(j.jobId, j.attempt))) };
    const runningIds = new Set(running.map((j) => j.jobId));
    for (const [jobId, since] of state.inFlight) if (!runningIds.has(jobId) && since < at - graceMs) state.inFlight.delete(jobId);
    for (const j of running) if (!state.inFlight.has(j.jobId)) state.inFlight.set(j.jobId, at);
  }

  forget(nodeId: string): void {
    this.nodes.delete(nodeId);
  }

  isAlive(nodeId: string, now: number, timeoutMs: number): boolean {
    const state = this.nodes.get(nodeId);
    return !!state && now - state.lastSeen <= timeoutMs;
  }

  lastReport(nodeId: string): { at: number; jobs: ReadonlySet<string> } | null {
    return this.nodes.get(nodeId)?.reported ?? null;
  }

  /** Counts a job the node holds (rebuilt from the jobs table at start). */
  hold(nodeId: string, jobId: string, since: number): void {
    this.nodes.get(nodeId)?.inFlight.set(jobId, since);
  }

  /** Picks a node for one job and counts the job against it; null when none is free. */
  claim(model: string, jobId: string, now: number, timeoutMs: number): string | null {
    const views: ReplicaView[] = [];
    for (const [nodeId, state] of this.nodes) {
      const ready = now - state.lastSeen <= timeoutMs;
      for (const m of state.models) views.push({ nodeId, model: m.name, ready, slots: m.parallel, inFlight: state.inFlight.size });
    }
    const chosen = pickReplica(views, model);
    if (!chosen) return null;
    this.nodes.get(chosen.nodeId)?.inFlight.set(jobId, now);
    return chosen.nodeId;
  }

  release(nodeId: string | null, jobId: string): void {
    if (nodeId) this.nodes.get(nodeId)?.inFlight.delete(jobId);
  }

  hasModel(model: string): boolean {
    for (const state of this.nodes.values()) if (state.models.some((m) => m.name === model)) return true;
    return false;
  }
}
