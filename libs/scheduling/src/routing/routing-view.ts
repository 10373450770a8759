import type { ReplicaView } from './pick-replica';

/**
 * The fleet's replicas grouped by model, kept up to date one replica at a time, so that a
 * routing decision scans the replicas of one model (about 100) instead of the whole fleet.
 */
export class RoutingView {
  private readonly byModel = new Map<string, ReplicaView[]>();
  private readonly byId = new Map<string, ReplicaView>();

  get size(): number {
    return this.byId.size;
  }

  /** The replicas of a model, in no particular order: hand them to `routeJob`. */
  replicasOf(model: string): readonly ReplicaView[] {
    return this.byModel.get(model) ?? [];
  }

  get(replicaId: string): ReplicaView | undefined {
    return this.byId.get(replicaId);
  }

  /** Adds a replica or replaces its previous state (its load, readiness, even its model). */
  upsert(replica: ReplicaView): void {
    const old = this.byId.get(replica.replicaId);
    if (old && old.model === replica.model) {
      const list = this.byModel.get(old.model) ?? [];
      list[list.indexOf(old)] = replica;
    } else {
      if (old) this.remove(old.replicaId);
      const list = this.byModel.get(replica.model);
      if (list) list.push(replica);
      else this.byModel.set(replica.model, [replica]);
    }
    this.byId.set(replica.replicaId, replica);
  }

  remove(replicaId: string): void {
    const old = this.byId.get(replicaId);
    if (!old) return;
    this.byId.delete(replicaId);
    const list = this.byModel.get(old.model) ?? [];
    const at = list.indexOf(old);
    // Order within a model does not matter (routing breaks ties by id): swap-remove in O(1).
    list[at] = list[list.length - 1];
    list.pop();
    if (list.length === 0) this.byModel.delete(old.model);
  }
}
