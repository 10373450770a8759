import type { NodeRecord } from '@gridline/db';
import { beatOf, presentStatus } from './node-view';

const timing = { timeoutMs: 15_000, lostMs: 300_000 };
const NOW = 1_000_000_000;
const node = (over: Partial<NodeRecord> = {}): NodeRecord => ({
  id: 'n1',
  name: 'gpu-1',
  status: 'Ready',
  approved: true,
  cordoned: false,
  draining: false,
  labels: {},
  taints: [],
  accessKey: null,
  revokedAt: null,
  agentVersion: 't',
  backend: 'cuda',
  gpus: [],
  totalMemoryBytes: 1,
  freeMemoryBytes: 1,
  inventory: {},
  replicaReports: [],
  runningJobs: [],
  lastHeartbeatAt: new Date(NOW - 1000),
  registeredAt: new Date(0),
  ...over,
});

describe('presentStatus', () => {
  it.each([
    ['a fresh, approved node', {}, 'Ready'],
    ['a node nobody approved', { approved: false, status: 'Pending' as const }, 'Pending'],
    ['a silence the scheduler has not marked yet', { lastHeartbeatAt: new Date(NOW - 20_000) }, 'NotReady'],
    ['a long silence', { lastHeartbeatAt: new Date(NOW - 400_000) }, 'Lost'],
    ['a drained node still holding a replica', { draining: true, replicaReports: [{ id: 'r' }] as never }, 'Draining'],
    ['a drained node still running a job', { draining: true, runningJobs: [{ jobId: 'j', attempt: 1 }] }, 'Draining'],
    ['a drained node that holds nothing', { draining: true }, 'Drained'],
    ['an agent shutting down', { inventory: { shuttingDown: true } }, 'Draining'],
    ['a cordoned node', { cordoned: true }, 'Cordoned'],
    ['a revoked node', { revokedAt: new Date(NOW - 5000) }, 'NotReady'],
  ])('%s is %s', (_, over, status) => {
    expect(presentStatus(node(over), NOW, timing).status).toBe(status);
  });

  it('says why, with the silence in seconds', () => {
    expect(presentStatus(node({ status: 'NotReady', lastHeartbeatAt: new Date(NOW - 21_400) }), NOW, timing).reason).toBe('no heartbeat for 21 s');
  });

  it('puts liveness before the admin flags: a cordoned node that went silent is NotReady', () => {
    expect(presentStatus(node({ cordoned: true, lastHeartbeatAt: new Date(NOW - 20_000) }), NOW, timing).status).toBe('NotReady');
  });
});

describe('beatOf', () => {
  const reports = [
    { id: 'r1', model: 'a', parallel: 2, state: 'Ready' },
    { id: 'r2', model: 'b', parallel: 4, state: 'Loading' },
    { id: 'r3', model: 'c', parallel: 1, state: 'Ready' },
  ];

  it('routes to Ready replicas the control plane still wants, on schedulable nodes only', () => {
    const wanted = [
      { id: 'r3', desired: 'Unloaded', settings: { contextSize: 512 } },
      { id: 'r1', desired: 'Loaded', settings: { contextSize: 1024 } },
    ] as never;
    const beat = beatOf(node({ replicaReports: reports }), wanted, NOW, timing, true);
    expect(beat).toMatchObject({ nodeId: 'n1', schedulable: true, runningJobs: [] });
    // What each replica's KV cache holds goes along when known (context × sequences).
    expect(beat.replicas).toEqual([
      { id: 'r1', model: 'a', parallel: 2, ready: true, cacheTokens: 2048 },
      { id: 'r2', model: 'b', parallel: 4, ready: false },
    ]);
    expect(beatOf(node({ cordoned: true, replicaReports: reports }), [], NOW, timing, false)).toMatchObject({ schedulable: false });
    expect(beatOf(node(), [], NOW, timing, false)).not.toHaveProperty('runningJobs');
  });
});
