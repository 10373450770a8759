import { Injectable } from '@nestjs/common';
import type { InferenceInput, RunningJob } from '@gridline/contract';
import { BeatReplica, BlockHash, DEFAULT_BLOCK_BYTES, NodeBeat, PrefixIndex, ReplicaView, RoutingView, promptBlockHashes, routeJob } from '@gridline/scheduling';

interface Claim {
  model: string;
  replicaId: string;
  since: number;
}

interface NodeState {
  schedulable: boolean;
  replicas: BeatReplica[];
  lastSeen: number;
  /** Attempts dispatched to the node that have not ended, by `jobId/attempt`. */
  inFlight: Map<string, Claim>;
  /** The node's last heartbeat list of running attempts, and when it came. */
  reported: { at: number; jobs: Set<string> } | null;
  /** A decision found its heartbeats stale: out of routing until the next heartbeat. */
  expired: boolean;
}

export interface Placement {
  nodeId: string;
  replicaId: string;
}

export const runningKey = (jobId: string, attempt: number) => `${jobId}/${attempt}`;

/**
 * The prompt as prefix blocks: chat messages in order, each with its role, so that requests
 * sharing a system prompt (or a conversation's earlier turns) share leading blocks.
 */
export function promptBlocks(input: InferenceInput): BlockHash[] {
  const text = input.kind === 'chat' ? input.messages.map((m) => `<${m.role}>${m.content}`).join('') : input.prompt;
  return promptBlockHashes(text);
}

/** UTF-8 bytes a token of text covers, on average, for the tokenizers of common models (English prose ≈ 4). */
const BYTES_PER_TOKEN = 4;

/** How many prefix blocks a replica's KV cache holds: unbounded (the index's own limit) when unknown. */
export function cacheBlocks(cacheTokens: number | undefined): number {
  return cacheTokens ? Math.ceil((cacheTokens * BYTES_PER_TOKEN) / DEFAULT_BLOCK_BYTES) : Infinity;
}

/** How long a released attempt is remembered, so that a heartbeat sent before its end does not count it again. */
const RELEASED_MEMORY_MS = 60_000;

/**
 * The scheduler's live view of loaded replicas and the attempts on them, fed by node beats
 * (verified heartbeats and admins' changes, passed on by the api), dispatches and ends.
 * Postgres keeps the durable rows; this answers routing without a query. Claims are per
 * attempt and per replica, and only the attempt's own end releases one.
 */
@Injectable()
export class ReplicaRegistry {
  private readonly nodes = new Map<string, NodeState>();
  private readonly released = new Map<string, number>();
  /** The prompt prefixes recently sent to each replica (approximate, bounded): routing prefers a replica that holds a job's prefix, the load term always counting. */
  private readonly prefixes = new PrefixIndex();
  /** Every replica as routing sees it, grouped by model and updated as nodes, claims and ends change it: a decision scans one model's replicas. */
  private readonly view = new RoutingView();
  /** The node of each counted attempt (`jobId/attempt`). */
  private readonly claimed = new Map<string, string>();
  /** When each replica last took or ended a job: idle unloading and eviction pick the least recently used. */
  private readonly lastUsed = new Map<string, number>();

  /** Takes in a node beat; one with running jobs is a heartbeat (the node is alive at `at`). */
  beat(beat: NodeBeat, graceMs: number): void {
    let state = this.nodes.get(beat.nodeId);
    if (!state) {
      state = { schedulable: false, replicas: [], lastSeen: 0, inFlight: new Map(), reported: null, expired: false };
      this.nodes.set(beat.nodeId, state);
    }
    state.schedulable = beat.schedulable;
    // A replica that is gone (or was loaded again: a new id) holds none of the prefixes it had.
    for (const old of state.replicas) if (!beat.replicas.some((r) => r.id === old.id)) this.prefixes.forget(old.id);
    for (const old of state.replicas) if (!beat.replicas.some((r) => r.id === old.id)) this.view.remove(old.id);
    state.replicas = beat.replicas;
    if (beat.runningJobs) {
      state.lastSeen = Math.max(state.lastSeen, beat.at);
      this.report(beat.nodeId, state, beat.runningJobs, beat.at, graceMs);
    }
    this.refresh(beat.nodeId, state);
  }

  /**
   * Re-derives a node's replicas in the routing view: ready when the node may take jobs and the
   * replica is loaded (liveness is checked again when a decision picks it), and in flight what is
   * counted against each. An attempt counted before its replica was known goes to its model's first.
   */
  private refresh(nodeId: string, state: NodeState): void {
    const counts = new Map<string, number>();
    for (const c of state.inFlight.values()) {
      const id = c.replicaId || state.replicas.find((r) => r.model === c.model)?.id;
      if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const r of state.replicas) {
      this.view.upsert({ nodeId, replicaId: r.id, model: r.model, ready: state.schedulable && r.ready && !state.expired, slots: r.parallel, inFlight: counts.get(r.id) ?? 0 });
    }
  }

  /**
   * An attempt the scheduler counts against the node, claimed more than `graceMs` before, that
   * the node does not run is no longer counted (its end was missed); one the node runs that the
   * scheduler did not count is (an earlier scheduler dispatched it), unless its end was seen.
   */
  private report(nodeId: string, state: NodeState, running: RunningJob[], at: number, graceMs: number): void {
    this.prune(at);
    state.expired = false;
    const keys = new Set(running.map((j) => runningKey(j.jobId, j.attempt)));
    state.reported = { at, jobs: keys };
    for (const [key, claim] of state.inFlight) {
      if (keys.has(key) || claim.since >= at - graceMs) continue;
      state.inFlight.delete(key);
      this.claimed.delete(key);
    }
    for (const j of running) {
      const key = runningKey(j.jobId, j.attempt);
      if (state.inFlight.has(key) || this.released.has(key)) continue;
      const replica = state.replicas.find((r) => r.id === j.replicaId) ?? state.replicas[0];
      state.inFlight.set(key, { model: replica?.model ?? '', replicaId: replica?.id ?? '', since: at });
      this.claimed.set(key, nodeId);
    }
  }

  isAlive(nodeId: string, now: number, timeoutMs: number): boolean {
    const state = this.nodes.get(nodeId);
    return !!state && now - state.lastSeen <= timeoutMs;
  }

  /** Whether a heartbeat of the node came at or after `since`. */
  heardSince(nodeId: string, since: number): boolean {
    return (this.nodes.get(nodeId)?.lastSeen ?? 0) >= since;
  }

  lastReport(nodeId: string): { at: number; jobs: ReadonlySet<string> } | null {
    return this.nodes.get(nodeId)?.reported ?? null;
  }

  /** Counts an attempt the node holds (rebuilt from the jobs table at start). */
  hold(nodeId: string, jobId: string, attempt: number, model: string, replicaId: string | null, since: number): void {
    const state = this.nodes.get(nodeId);
    if (!state) return;
    const key = runningKey(jobId, attempt);
    state.inFlight.set(key, { model, replicaId: replicaId ?? '', since });
    this.claimed.set(key, nodeId);
    this.refresh(nodeId, state);
  }

  /** The node an attempt is claimed on, if any (a duplicate delivery must not claim twice). */
  holder(jobId: string, attempt: number): string | null {
    return this.claimed.get(runningKey(jobId, attempt)) ?? null;
  }

  /**
   * Picks a replica for one attempt and counts it against it; null when none is free. With the
   * prompt's prefix blocks, a replica that recently served the same prefix is preferred while its
   * load allows (see routeJob), and it is recorded as holding that prefix.
   */
  claim(model: string, jobId: string, attempt: number, now: number, timeoutMs: number, blocks: readonly BlockHash[] = []): Placement | null {
    for (;;) {
      const decision = routeJob(this.view, { model, blocks }, this.prefixes);
      if (!decision) return null;
      const chosen: ReplicaView = decision.replica;
      const state = this.nodes.get(chosen.nodeId);
      if (!state) {
        this.view.remove(chosen.replicaId);
        continue;
      }
      // A node whose heartbeats stopped is taken out of routing when a decision meets it; its next heartbeat brings it back.
      if (now - state.lastSeen > timeoutMs) {
        state.expired = true;
        this.refresh(chosen.nodeId, state);
        continue;
      }
      if (blocks.length > 0) this.prefixes.record(chosen.replicaId, blocks, cacheBlocks(state.replicas.find((r) => r.id === chosen.replicaId)?.cacheTokens));
      this.lastUsed.set(chosen.replicaId, now);
      const key = runningKey(jobId, attempt);
      state.inFlight.set(key, { model, replicaId: chosen.replicaId, since: now });
      this.claimed.set(key, chosen.nodeId);
      this.refresh(chosen.nodeId, state);
      return { nodeId: chosen.nodeId, replicaId: chosen.replicaId };
    }
  }

  /** Frees an attempt's sequence; returns the model it ran (to wake a job waiting for it), or null if it held none. */
  release(nodeId: string | null, jobId: string, attempt: number, at = Date.now()): string | null {
    if (!nodeId) return null;
    const key = runningKey(jobId, attempt);
    this.released.set(key, at);
    const state = this.nodes.get(nodeId);
    const claim = state?.inFlight.get(key);
    if (!state || !claim) return null;
    state.inFlight.delete(key);
    this.claimed.delete(key);
    if (claim.replicaId) this.lastUsed.set(claim.replicaId, Math.max(at, this.lastUsed.get(claim.replicaId) ?? 0));
    this.refresh(nodeId, state);
    return claim.model;
  }

  /**
   * A replica's load as routing counts it: attempts in flight, and when it last took or ended one
   * (`since` for a replica that never ran a job, so a new replica is not idle from the start).
   */
  usage(replicaId: string, since: number): { inFlight: number; lastUsedAt: number } {
    return { inFlight: this.view.get(replicaId)?.inFlight ?? 0, lastUsedAt: Math.max(since, this.lastUsed.get(replicaId) ?? 0) };
  }

  /** Sequences of the model's ready replicas free now (liveness is checked when one is claimed). */
  freeSlots(model: string): number {
    let free = 0;
    for (const r of this.view.replicasOf(model)) if (r.ready) free += Math.max(0, r.slots - r.inFlight);
    return free;
  }

  /** Whether any node that may take jobs serves the model (ready or still loading). */
  /** Whether a live, schedulable node other than `except` has a ready replica of the model. */
  servesElsewhere(model: string, except: string | null, now: number, timeoutMs: number): boolean {
    for (const [id, state] of this.nodes) {
      if (id !== except && state.schedulable && now - state.lastSeen <= timeoutMs && state.replicas.some((r) => r.model === model && r.ready)) return true;
    }
    return false;
  }

  hasModel(model: string): boolean {
    for (const state of this.nodes.values()) if (state.schedulable && state.replicas.some((r) => r.model === model)) return true;
    return false;
  }

  private prune(now: number): void {
    for (const [key, at] of this.released) if (at < now - RELEASED_MEMORY_MS) this.released.delete(key);
  }
}
