import { DeploymentScale, FAILED_AFTER_LOADS, ObservedReplica, PhaseInput, deploymentPhase, reconcileDeployment } from './reconcile-deployment';

const NOW = 1_800_000_000_000;
const MINUTE = 60_000;

/** A replica Ready on a Ready node, nothing in flight, last used a second ago; node `n-<id>` named `gpu-<id>`. */
const replica = (id: string, extra: Partial<ObservedReplica> = {}): ObservedReplica => ({
  id,
  nodeId: `n-${id}`,
  nodeName: `gpu-${id}`,
  nodeStatus: 'Ready',
  nodeLeaving: false,
  state: 'Ready',
  reason: null,
  inFlight: 0,
  lastUsedAt: NOW - 1000,
  ...extra,
});
const fixed = (replicas: number): DeploymentScale => ({ replicas, minReplicas: null, idleMs: 5 * MINUTE });
const onDemand = (replicas: number, minReplicas: number, idleMs = 5 * MINUTE): DeploymentScale => ({ replicas, minReplicas, idleMs });
const ids = (xs: readonly { id: string }[]) => xs.map((x) => x.id);
const idle = (id: string, extra: Partial<ObservedReplica> = {}) => replica(id, { lastUsedAt: NOW - 10 * MINUTE, ...extra });

describe('reconcileDeployment: replicas that no longer count', () => {
  it('forgets a replica whose node is Lost or gone and places it again', () => {
    const d = reconcileDeployment(fixed(3), [replica('a', { nodeStatus: 'Lost' }), replica('b', { nodeStatus: 'Gone' }), replica('c')], 0, NOW);
    expect(d.forget).toEqual([
      { id: 'a', nodeId: 'n-a', reason: 'ReplicaLost', message: 'node gpu-a is Lost: the replica is placed again' },
      { id: 'b', nodeId: 'n-b', reason: 'ReplicaLost', message: 'node gpu-b is gone: the replica is placed again' },
    ]);
    expect(d.unload).toEqual([]);
    expect(ids(d.kept)).toEqual(['c']);
    expect(d.place).toBe(2);
  });

  it('forgets a replica on a Lost node even when it reported Failed or its node was leaving', () => {
    const d = reconcileDeployment(fixed(2), [replica('a', { nodeStatus: 'Lost', state: 'Failed' }), replica('b', { nodeStatus: 'Gone', nodeLeaving: true, inFlight: 2 })], 0, NOW);
    expect(ids(d.forget)).toEqual(['a', 'b']);
    expect(d.unload).toEqual([]);
    expect(d.failedOn).toEqual([]);
    expect(d.place).toBe(2);
  });

  it('unloads a replica whose load failed, keeps off its node and places it again', () => {
    const d = reconcileDeployment(fixed(2), [replica('a', { state: 'Failed', reason: 'out of GPU memory' }), replica('b', { state: 'Failed' }), replica('c')], 0, NOW);
    expect(d.unload).toEqual([
      { id: 'a', nodeId: 'n-a', reason: 'LoadFailed', message: 'the load on gpu-a failed (out of GPU memory): retrying on another node' },
      { id: 'b', nodeId: 'n-b', reason: 'LoadFailed', message: 'the load on gpu-b failed: retrying on another node' },
    ]);
    expect(d.failedOn).toEqual(['n-a', 'n-b']);
    expect(d.forget).toEqual([]);
    expect(ids(d.kept)).toEqual(['c']);
    expect(d.place).toBe(1);
  });

  it('replaces a replica on a draining node at once and unloads it only once its jobs in flight are done', () => {
    const busy = reconcileDeployment(fixed(2), [replica('a', { nodeLeaving: true, inFlight: 3 }), replica('b')], 0, NOW);
    expect(busy.unload).toEqual([]);
    expect(busy.forget).toEqual([]);
    expect(ids(busy.kept)).toEqual(['b']);
    expect(busy.place).toBe(1);

    const done = reconcileDeployment(fixed(2), [replica('a', { nodeLeaving: true, inFlight: 0 }), replica('b'), replica('c')], 0, NOW);
    expect(done.unload).toEqual([{ id: 'a', nodeId: 'n-a', reason: 'Drained', message: 'node gpu-a is draining: the replica is unloaded (a replacement is placed elsewhere)' }]);
    expect(ids(done.kept)).toEqual(['b', 'c']);
    expect(done.place).toBe(0);
  });

  it('still counts a replica whose node is NotReady: the node may come back', () => {
    const d = reconcileDeployment(fixed(2), [replica('a', { nodeStatus: 'NotReady' }), replica('b', { nodeStatus: 'NotReady', state: 'Loading' })], 0, NOW);
    expect(d.forget).toEqual([]);
    expect(d.unload).toEqual([]);
    expect(ids(d.kept)).toEqual(['a', 'b']);
    expect(d.desired).toBe(2);
    expect(d.place).toBe(0);
  });
});

describe('reconcileDeployment: how many replicas are wanted', () => {
  it('wants `replicas` of a fixed deployment, busy or idle, with or without waiting jobs', () => {
    expect(reconcileDeployment(fixed(3), [], 0, NOW)).toMatchObject({ desired: 3, place: 3, unload: [], forget: [] });
    expect(reconcileDeployment(fixed(3), [idle('a')], 0, NOW)).toMatchObject({ desired: 3, place: 2, unload: [] });
    expect(reconcileDeployment(fixed(2), [replica('a', { inFlight: 4 }), replica('b', { inFlight: 4 })], 50, NOW)).toMatchObject({ desired: 2, place: 0, unload: [] });
  });

  it('on demand, keeps at least minReplicas loaded while idle', () => {
    const d = reconcileDeployment(onDemand(4, 1), [idle('a', { lastUsedAt: NOW - 20 * MINUTE }), idle('b')], 0, NOW);
    expect(d.desired).toBe(1);
    // The least recently used goes; the floor stays loaded although it is idle too.
    expect(ids(d.unload)).toEqual(['a']);
    expect(ids(d.kept)).toEqual(['b']);
    expect(reconcileDeployment(onDemand(4, 2), [], 0, NOW)).toMatchObject({ desired: 2, place: 2 });
  });

  it('on demand, wants the replicas in use: in flight, used within idleMs, or still loading', () => {
    const replicas = [
      replica('busy', { inFlight: 1, lastUsedAt: NOW - 30 * MINUTE }),
      replica('recent', { lastUsedAt: NOW - (5 * MINUTE - 1) }),
      replica('pulling', { state: 'Pulling', lastUsedAt: NOW - 30 * MINUTE }),
      replica('new', { state: null, lastUsedAt: NOW - 30 * MINUTE }),
      idle('stale', { lastUsedAt: NOW - 5 * MINUTE }),
    ];
    const d = reconcileDeployment(onDemand(8, 0), replicas, 0, NOW);
    expect(d.desired).toBe(4);
    expect(d.unload).toEqual([{ id: 'stale', nodeId: 'n-stale', reason: 'IdleUnloaded', message: 'idle for 300 s on gpu-stale: unloaded' }]);
    expect(ids(d.kept)).toEqual(['busy', 'recent', 'pulling', 'new']);
    expect(d.place).toBe(0);
  });

  it('on demand, adds one replica when jobs wait and none is loading', () => {
    const busy = [replica('a', { inFlight: 4 }), replica('b', { inFlight: 4 })];
    expect(reconcileDeployment(onDemand(4, 0), busy, 3, NOW)).toMatchObject({ desired: 3, place: 1 });
    // A first replica for a deployment with none loaded.
    expect(reconcileDeployment(onDemand(4, 0), [], 1, NOW)).toMatchObject({ desired: 1, place: 1 });
    // One is already loading: the waiting jobs go to it, no second is started meanwhile.
    const loading = [...busy, replica('c', { state: 'Loading' })];
    expect(reconcileDeployment(onDemand(4, 0), loading, 3, NOW)).toMatchObject({ desired: 3, place: 0, unload: [] });
    // Not yet reported (state null) counts as loading too.
    expect(reconcileDeployment(onDemand(4, 0), [...busy, replica('c', { state: null })], 3, NOW)).toMatchObject({ desired: 3, place: 0 });
  });

  it('on demand, never wants more than `replicas`', () => {
    const busy = [replica('a', { inFlight: 4 }), replica('b', { inFlight: 4 })];
    expect(reconcileDeployment(onDemand(2, 0), busy, 10, NOW)).toMatchObject({ desired: 2, place: 0, unload: [] });
    expect(reconcileDeployment(onDemand(2, 5), [], 0, NOW)).toMatchObject({ desired: 2, place: 2 });
  });

  it('on demand with minReplicas 0, wants none once every replica is idle, and unloads them as idle', () => {
    expect(reconcileDeployment(onDemand(3, 0), [], 0, NOW)).toMatchObject({ desired: 0, place: 0, unload: [], kept: [] });
    const d = reconcileDeployment(onDemand(3, 0, MINUTE), [idle('a', { lastUsedAt: NOW - 90_000 }), idle('b', { lastUsedAt: NOW - MINUTE })], 0, NOW);
    expect(d.desired).toBe(0);
    expect(d.unload).toEqual([
      { id: 'a', nodeId: 'n-a', reason: 'IdleUnloaded', message: 'idle for 90 s on gpu-a: unloaded' },
      { id: 'b', nodeId: 'n-b', reason: 'IdleUnloaded', message: 'idle for 60 s on gpu-b: unloaded' },
    ]);
    expect(d.kept).toEqual([]);
    expect(d.place).toBe(0);
  });
});

describe('reconcileDeployment: scaling down', () => {
  it('unloads still-loading replicas first, then the least recently used, and keeps the rest', () => {
    const replicas = [
      replica('recent', { lastUsedAt: NOW - 1000 }),
      replica('old', { lastUsedAt: NOW - 50_000 }),
      replica('busy', { inFlight: 2, lastUsedAt: NOW - 90_000 }),
      replica('loading', { state: 'Loading', lastUsedAt: NOW }),
      replica('older', { lastUsedAt: NOW - 60_000 }),
    ];
    const d = reconcileDeployment(fixed(2), replicas, 0, NOW);
    expect(d.desired).toBe(2);
    expect(d.unload).toEqual([
      { id: 'loading', nodeId: 'n-loading', reason: 'ScaledDown', message: '5 replicas for 2 wanted: unloaded from gpu-loading' },
      { id: 'older', nodeId: 'n-older', reason: 'ScaledDown', message: '5 replicas for 2 wanted: unloaded from gpu-older' },
      { id: 'old', nodeId: 'n-old', reason: 'ScaledDown', message: '5 replicas for 2 wanted: unloaded from gpu-old' },
    ]);
    expect(ids(d.kept)).toEqual(['recent', 'busy']);
    expect(d.place).toBe(0);
  });

  it('never unloads a replica with jobs in flight: it stays over desired until they end', () => {
    const d = reconcileDeployment(fixed(1), [replica('a', { inFlight: 1, lastUsedAt: NOW - 99_000 }), replica('b', { inFlight: 3 }), replica('c')], 0, NOW);
    expect(ids(d.unload)).toEqual(['c']);
    expect(ids(d.kept)).toEqual(['a', 'b']);
    expect(d.place).toBe(0);

    const allBusy = reconcileDeployment(fixed(0), [replica('a', { inFlight: 1 }), replica('b', { inFlight: 1 })], 0, NOW);
    expect(allBusy.unload).toEqual([]);
    expect(ids(allBusy.kept)).toEqual(['a', 'b']);
  });

  it('on demand, unloads the idle replica rather than the one loading for the jobs that waited', () => {
    // Pass 1: jobs wait while the only replica sits on a NotReady node: one more is placed.
    const away = idle('away', { nodeStatus: 'NotReady' });
    const first = reconcileDeployment(onDemand(3, 0), [away], 2, NOW);
    expect(first).toMatchObject({ desired: 2, place: 1, unload: [] });
    // Pass 2: the new one is loading (not reported yet). The idle one goes, the loading one stays.
    const second = reconcileDeployment(onDemand(3, 0), [away, replica('fresh', { state: null, lastUsedAt: NOW })], 2, NOW + 1000);
    expect(second.desired).toBe(1);
    expect(second.unload).toEqual([{ id: 'away', nodeId: 'n-away', reason: 'IdleUnloaded', message: 'idle for 601 s on gpu-away: unloaded' }]);
    expect(ids(second.kept)).toEqual(['fresh']);
    expect(second.place).toBe(0);
  });

  it('says ScaledDown, not IdleUnloaded, for a replica removed because `replicas` went below what is in use', () => {
    // Both loading count as in use, but the deployment was cut to one replica.
    const d = reconcileDeployment(onDemand(1, 0), [replica('a', { state: 'Loading', lastUsedAt: NOW - 2000 }), replica('b', { state: 'Pulling', lastUsedAt: NOW - 1000 })], 0, NOW);
    expect(d.desired).toBe(1);
    expect(d.unload).toEqual([{ id: 'a', nodeId: 'n-a', reason: 'ScaledDown', message: '2 replicas for 1 wanted: unloaded from gpu-a' }]);
    expect(ids(d.kept)).toEqual(['b']);
  });

  it('says ScaledDown for an idle replica of a fixed deployment (idleness unloads only on demand)', () => {
    const d = reconcileDeployment(fixed(1), [idle('a', { lastUsedAt: NOW - 60 * MINUTE }), idle('b')], 0, NOW);
    expect(d.unload).toEqual([{ id: 'a', nodeId: 'n-a', reason: 'ScaledDown', message: '2 replicas for 1 wanted: unloaded from gpu-a' }]);
    // A fixed deployment at its size keeps an idle replica however long it idles.
    expect(reconcileDeployment(fixed(1), [idle('a', { lastUsedAt: NOW - 60 * MINUTE })], 0, NOW)).toMatchObject({ desired: 1, unload: [], place: 0 });
  });
});

describe('deploymentPhase', () => {
  const phase = (p: Partial<PhaseInput> & Pick<PhaseInput, 'desired' | 'kept'>) => deploymentPhase({ unschedulable: null, consecutiveFailures: 0, onDemand: false, ...p });

  it('shows an on-demand deployment with nothing wanted as Ready, waiting for a job', () => {
    expect(phase({ desired: 0, kept: [], onDemand: true })).toEqual({ phase: 'Ready', reason: 'OnDemand', message: 'no replica loaded: one loads when a job arrives', readyReplicas: 0 });
  });

  it('is Ready when as many replicas as wanted are Ready on Ready nodes', () => {
    expect(phase({ desired: 2, kept: [replica('a'), replica('b')] })).toEqual({ phase: 'Ready', reason: 'AllReplicasReady', message: '2 of 2 replica(s) ready', readyReplicas: 2 });
    // A replica over desired (waiting for its jobs to end before it unloads) still shows ready.
    expect(phase({ desired: 1, kept: [replica('a'), replica('b', { inFlight: 1 })] })).toMatchObject({ phase: 'Ready', readyReplicas: 2 });
  });

  it('is Degraded, not Failed or Loading, while a replica spanning nodes has lost a member and is being repaired', () => {
    const lost = replica('a', { state: 'Degraded', reason: 'worker on gpu-b lost (its node is NotReady): replaced on gpu-c' });
    expect(phase({ desired: 1, kept: [lost], consecutiveFailures: FAILED_AFTER_LOADS })).toEqual({
      phase: 'Degraded',
      reason: 'MemberLost',
      message: '0 of 1 replica(s) ready; worker on gpu-b lost (its node is NotReady): replaced on gpu-c',
      readyReplicas: 0,
    });
    // A lost member is not a failed load: the replica is kept, not moved elsewhere.
    expect(reconcileDeployment(fixed(1), [lost], 0, NOW)).toMatchObject({ unload: [], failedOn: [], place: 0 });
  });

  it('is Degraded when some but not all are ready, saying how many load or why the rest cannot be placed', () => {
    expect(phase({ desired: 3, kept: [replica('a'), replica('b', { state: 'Loading' }), replica('c', { state: 'Pulling' })] })).toEqual({
      phase: 'Degraded',
      reason: 'ReplicasNotReady',
      message: '1 of 3 replica(s) ready; 2 loading',
      readyReplicas: 1,
    });
    expect(phase({ desired: 2, kept: [replica('a')], unschedulable: 'no node has 40 GiB of GPU memory free' })).toEqual({
      phase: 'Degraded',
      reason: 'Unschedulable',
      message: '1 of 2 replica(s) ready; no node has 40 GiB of GPU memory free',
      readyReplicas: 1,
    });
    // A Ready replica on a NotReady node is not ready.
    expect(phase({ desired: 2, kept: [replica('a'), replica('b', { nodeStatus: 'NotReady' })] })).toMatchObject({ phase: 'Degraded', reason: 'ReplicasNotReady', message: '1 of 2 replica(s) ready', readyReplicas: 1 });
    // Ready replicas keep a deployment Degraded, not Failed, however many loads failed elsewhere.
    expect(phase({ desired: 2, kept: [replica('a')], consecutiveFailures: FAILED_AFTER_LOADS + 2 })).toMatchObject({ phase: 'Degraded', readyReplicas: 1 });
  });

  it(`is Failed once ${FAILED_AFTER_LOADS} loads failed in a row with none ready, not before`, () => {
    expect(phase({ desired: 1, kept: [replica('a', { state: 'Loading' })], consecutiveFailures: FAILED_AFTER_LOADS })).toEqual({
      phase: 'Failed',
      reason: 'LoadsFailing',
      message: `${FAILED_AFTER_LOADS} loads failed in a row; retrying with backoff`,
      readyReplicas: 0,
    });
    expect(phase({ desired: 1, kept: [replica('a', { state: 'Loading' })], consecutiveFailures: FAILED_AFTER_LOADS - 1 })).toMatchObject({ phase: 'Loading' });
  });

  it('is Pending and Unschedulable when nothing could be placed', () => {
    expect(phase({ desired: 2, kept: [], unschedulable: 'no node matches the label selector gpu=h100' })).toEqual({
      phase: 'Pending',
      reason: 'Unschedulable',
      message: 'no node matches the label selector gpu=h100',
      readyReplicas: 0,
    });
    expect(phase({ desired: 1, kept: [], unschedulable: 'no node has 40 GiB of GPU memory free', onDemand: true })).toMatchObject({ phase: 'Pending', reason: 'Unschedulable' });
  });

  it('is Loading while a reported replica pulls or loads', () => {
    expect(phase({ desired: 2, kept: [replica('a', { state: 'Pulling' }), replica('b', { state: null })] })).toEqual({
      phase: 'Loading',
      reason: 'ReplicasLoading',
      message: '2 replica(s) pulling or loading',
      readyReplicas: 0,
    });
    // Placed somewhere, but another part could not be placed: the loads still show.
    expect(phase({ desired: 2, kept: [replica('a', { state: 'Loading' })], unschedulable: 'no node has 40 GiB of GPU memory free' })).toMatchObject({ phase: 'Loading' });
  });

  it('is Placed while no node has reported its replica yet, or their nodes are away', () => {
    expect(phase({ desired: 2, kept: [replica('a', { state: null }), replica('b', { state: null })] })).toEqual({
      phase: 'Placed',
      reason: 'ReplicasPlaced',
      message: '2 replica(s) placed; waiting for their nodes',
      readyReplicas: 0,
    });
    expect(phase({ desired: 1, kept: [replica('a', { nodeStatus: 'NotReady' })] })).toMatchObject({ phase: 'Placed', readyReplicas: 0 });
  });

  it('is Placed, not Unschedulable, right after a pass placed every wanted replica (none is kept yet)', () => {
    expect(phase({ desired: 2, kept: [] })).toEqual({ phase: 'Placed', reason: 'ReplicasPlaced', message: '2 replica(s) placed; waiting for their nodes', readyReplicas: 0 });
    expect(phase({ desired: 1, kept: [], onDemand: true })).toEqual({ phase: 'Placed', reason: 'LoadOnDemand', message: '1 replica(s) placed; waiting for their nodes', readyReplicas: 0 });
  });
});
