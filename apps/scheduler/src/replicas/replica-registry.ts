import { Injectable } from '@nestjs/common';
import { LoadedModel, ReplicaView, pickReplica } from '@gridline/scheduling';

interface NodeState {
  models: LoadedModel[];
  lastSeen: number;
  /** Jobs this scheduler dispatched to the node that have not reported back. */
  inFlight: Map<string, string>;
}

/**
 * The scheduler's live view of loaded replicas, fed by agent registrations and heartbeats.
 * Postgres keeps the durable node rows; this map answers routing questions without a query.
 */
@Injectable()
export class ReplicaRegistry {
  private readonly nodes = new Map<string, NodeState>();

  seen(nodeId: string, models: LoadedModel[], at: number): void {
    const state = this.nodes.get(nodeId);
    if (state) {
      state.models = models;
      state.lastSeen = at;
    } else {
      this.nodes.set(nodeId, { models, lastSeen: at, inFlight: new Map() });
    }
  }

  forget(nodeId: string): void {
    this.nodes.delete(nodeId);
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
    this.nodes.get(chosen.nodeId)?.inFlight.set(jobId, model);
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
