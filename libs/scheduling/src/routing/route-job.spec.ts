import type { ReplicaView } from './pick-replica';
import { PrefixIndex, promptBlockHashes } from './prefix-index';
import { routeJob } from './route-job';
import { RoutingView } from './routing-view';

const r = (nodeId: string, inFlight: number, extra: Partial<ReplicaView> = {}): ReplicaView => ({ nodeId, replicaId: `${nodeId}-r`, model: 'm', ready: true, slots: 4, inFlight, ...extra });
const system = 'You are a careful assistant. '.repeat(40); // 1,160 bytes: 4 blocks
const prompt = (user: string) => promptBlockHashes(system + user.padEnd(256, '.'));

describe('routeJob', () => {
  it('without affinity: idle first, then least in flight, ties by node then replica id', () => {
    const route = (replicas: ReplicaView[]) => routeJob(replicas, { model: 'm', blocks: prompt('hi') }, new PrefixIndex())?.replica.replicaId;
    expect(route([r('a', 2), r('b', 0), r('c', 1)])).toBe('b-r');
    expect(route([r('a', 3), r('c', 1)])).toBe('c-r');
    expect(route([r('z', 1), r('k', 1)])).toBe('k-r');
    expect(route([r('k', 1, { replicaId: 'k-2' }), r('k', 1, { replicaId: 'k-1' })])).toBe('k-1');
    // Load is a fraction of the slots: 2 of 8 is lighter than 1 of 2.
    expect(route([r('a', 1, { slots: 2 }), r('b', 2, { slots: 8 })])).toBe('b-r');
    // A job queued on a replica weighs 0.5, more than 1 busy sequence of 8 (2 × 1/8).
    expect(route([r('a', 0, { queueDepth: 1 }), r('b', 1, { slots: 8 })])).toBe('b-r');
  });

  it('sends a prompt to the replica that has seen its prefix when both are equally loaded', () => {
    const index = new PrefixIndex();
    index.record('b-r', prompt('earlier question'));
    const decision = routeJob([r('a', 1), r('b', 1)], { model: 'm', blocks: prompt('new question') }, index);
    expect(decision?.replica.nodeId).toBe('b');
    expect(decision?.matchedBlocks).toBe(4);
    // Equal affinity (none) goes to the idle replica.
    expect(routeJob([r('a', 1), r('b', 0)], { model: 'm', blocks: prompt('x') }, new PrefixIndex())?.replica.nodeId).toBe('b');
  });

  it('lets load beat affinity past the crossover: the full match wins while its extra load is under half the slots', () => {
    const index = new PrefixIndex();
    const seen = promptBlockHashes('shared prefix '.repeat(100)); // 5 full blocks
    index.record('busy-r', seen);
    const route = (busyInFlight: number) => routeJob([r('busy', busyInFlight, { slots: 8 }), r('idle', 0, { slots: 8 })], { model: 'm', blocks: seen }, index)?.replica.nodeId;
    // score = 1 × matched/total − 2 × inFlight/slots: 1 − 2 × 3/8 = 0.25 > 0; 1 − 2 × 4/8 = 0 ties (idle wins); 5/8 loses.
    expect(route(3)).toBe('busy');
    expect(route(4)).toBe('idle');
    expect(route(5)).toBe('idle');
    expect(route(7)).toBe('idle');
  });

  it('never chooses a replica without a free sequence, however affine', () => {
    const index = new PrefixIndex();
    const blocks = prompt('q');
    index.record('a-r', blocks);
    expect(routeJob([r('a', 4), r('b', 3)], { model: 'm', blocks }, index)?.replica.nodeId).toBe('b');
    expect(routeJob([r('a', 4), r('b', 4)], { model: 'm', blocks }, index)).toBeNull();
    expect(routeJob([], { model: 'm' })).toBeNull();
  });

  it('skips replicas of other models and replicas not ready', () => {
    const index = new PrefixIndex();
    const blocks = prompt('q');
    index.record('a-r', blocks);
    index.record('b-r', blocks);
    expect(routeJob([r('a', 0, { model: 'other' }), r('b', 0, { ready: false }), r('c', 2)], { model: 'm', blocks }, index)?.replica.nodeId).toBe('c');
  });

  it('refuses weights without a load term', () => {
    expect(() => routeJob([r('a', 0)], { model: 'm' }, undefined, { affinity: 1, load: 0, queue: 0 })).toThrow(RangeError);
    expect(() => routeJob([r('a', 0)], { model: 'm' }, undefined, { affinity: -1, load: 1, queue: 0 })).toThrow(RangeError);
  });
});

describe('routeJob over a RoutingView', () => {
  it('chooses what the scan of the whole fleet chooses', () => {
    let seed = 7;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const prompts = Array.from({ length: 6 }, (_, i) => promptBlockHashes(`system ${i} `.repeat(60) + `user ${i}`.padEnd(512, '.')));
    const fleet = Array.from({ length: 300 }, (_, i) => r(`n${Math.floor(random() * 40)}`, 0, { replicaId: `r${i}`, model: `m${i % 3}`, slots: 4, ready: random() < 0.9 }));
    const view = new RoutingView();
    const index = new PrefixIndex({ perReplica: 64, total: 2000 });
    for (let i = 0; i < 2000; i++) {
      for (let k = 0; k < 5; k++) {
        const moved = fleet[Math.floor(random() * fleet.length)];
        moved.inFlight = Math.floor(random() * 5);
        moved.queueDepth = random() < 0.1 ? 1 : 0;
      }
      for (const v of fleet) view.upsert(v);
      const job = { model: `m${i % 3}`, blocks: prompts[Math.floor(random() * prompts.length)] };
      const viaView = routeJob(view, job, index);
      expect(viaView).toEqual(routeJob(fleet, job, index));
      if (viaView) index.record(viaView.replica.replicaId, job.blocks);
    }
    expect(index.replicasWithPrefix(prompts[0]).size).toBeGreaterThan(1);
  });
});

describe('RoutingView', () => {
  it('groups replicas by model and follows their updates', () => {
    const view = new RoutingView();
    view.upsert(r('a', 0));
    view.upsert(r('b', 0));
    view.upsert(r('c', 0, { model: 'x' }));
    view.upsert(r('a', 4));
    expect(routeJob(view, { model: 'm' })?.replica.nodeId).toBe('b');
    expect(view.get('a-r')?.inFlight).toBe(4);
    view.upsert(r('b', 0, { model: 'x' }));
    expect(view.replicasOf('m').map((v) => v.nodeId)).toEqual(['a']);
    expect(view.replicasOf('x').map((v) => v.nodeId).sort()).toEqual(['b', 'c']);
    view.remove('a-r');
    view.remove('a-r');
    expect(view.replicasOf('m')).toEqual([]);
    expect(view.size).toBe(2);
  });
});
