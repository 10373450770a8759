import { ReplicaView, pickReplica } from './pick-replica';

const r = (nodeId: string, inFlight: number, extra: Partial<ReplicaView> = {}): ReplicaView => ({ nodeId, replicaId: `${nodeId}-r`, model: 'm', ready: true, slots: 4, inFlight, ...extra });

describe('pickReplica', () => {
  it('prefers an idle replica, then the least in-flight', () => {
    expect(pickReplica([r('a', 2), r('b', 0), r('c', 1)], 'm')?.nodeId).toBe('b');
    expect(pickReplica([r('a', 3), r('c', 1)], 'm')?.nodeId).toBe('c');
  });

  it('skips replicas of other models, not ready, or with no free slot', () => {
    expect(pickReplica([r('a', 0, { model: 'x' }), r('b', 0, { ready: false }), r('c', 4), r('d', 3)], 'm')?.nodeId).toBe('d');
  });

  it('returns null when every replica is full or none exists', () => {
    expect(pickReplica([r('a', 4), r('b', 4)], 'm')).toBeNull();
    expect(pickReplica([], 'm')).toBeNull();
  });

  it('breaks ties by node id so the choice is deterministic', () => {
    expect(pickReplica([r('z', 1), r('k', 1)], 'm')?.nodeId).toBe('k');
  });
});
