import { age, conditionHistory, desiredOf, nodesOf, phaseColor, scaleRequest } from './rollout';

const replica = (id: string, nodeId: string, nodeName: string, members?: { nodeId: string; nodeName: string }[]) => ({ id, nodeId, nodeName, state: 'Ready', ...(members ? { members } : {}) });

describe('the Deployments page figures', () => {
  it('lists each node a deployment runs on once, spanning members included', () => {
    expect(nodesOf({ status: null })).toEqual([]);
    expect(
      nodesOf({
        status: {
          replicas: [
            replica('r1', 'n2', 'gpu-l4'),
            replica('r2', 'n2', 'gpu-l4'),
            replica('r3', 'n1', 'gpu-a', [
              { nodeId: 'n1', nodeName: 'gpu-a' },
              { nodeId: 'n3', nodeName: 'gpu-b' },
            ]),
          ],
        },
      }),
    ).toEqual([
      { id: 'n1', name: 'gpu-a' },
      { id: 'n3', name: 'gpu-b' },
      { id: 'n2', name: 'gpu-l4' },
    ]);
  });

  it('wants what the scheduler observed, else the spec', () => {
    expect(desiredOf({ replicas: 3, status: null })).toBe(3);
    expect(desiredOf({ replicas: 3, status: { desiredReplicas: 1, replicas: [] } })).toBe(1);
  });

  it('shows the condition history newest first, the newest as the current state', () => {
    const history = conditionHistory([
      { type: 'Placed', status: true, reason: 'PlanAccepted', message: 'planned', at: '2026-01-01T00:00:00Z' },
      { type: 'Loading', status: true, reason: 'Loading', message: 'pulling', at: '2026-01-01T00:00:05Z' },
      { type: 'Ready', status: true, reason: 'AllReady', message: '1/1', at: '2026-01-01T00:00:05Z' },
    ]);
    expect(history.map((c) => [c.type, c.current])).toEqual([
      ['Ready', true],
      ['Loading', false],
      ['Placed', false],
    ]);
    expect([phaseColor('Ready'), phaseColor('Failed'), phaseColor('Loading')]).toEqual(['green', 'red', 'blue']);
  });

  it('scales to a whole number of replicas that differs from now and respects minReplicas', () => {
    expect(scaleRequest({ replicas: 1, minReplicas: null }, '2')).toEqual({ body: { replicas: 2 } });
    expect(scaleRequest({ replicas: 1, minReplicas: null }, 1)).toEqual({ problem: 'already 1 replica(s)' });
    expect(scaleRequest({ replicas: 1, minReplicas: null }, 0)).toEqual({ problem: expect.stringContaining('1 to 64') });
    expect(scaleRequest({ replicas: 1, minReplicas: null }, 1.5)).toEqual({ problem: expect.stringContaining('whole number') });
    expect(scaleRequest({ replicas: 4, minReplicas: 3 }, 2)).toEqual({ problem: expect.stringContaining('minReplicas (3)') });
  });

  it('writes ages the way kubectl does', () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    expect(age('2026-01-01T00:00:00Z', t0 + 45_000)).toBe('45s');
    expect(age('2026-01-01T00:00:00Z', t0 + 12 * 60_000)).toBe('12m');
    expect(age('2026-01-01T00:00:00Z', t0 + 5 * 3600_000)).toBe('5h');
    expect(age('2026-01-01T00:00:00Z', t0 + 3 * 86_400_000)).toBe('3d');
  });
});
