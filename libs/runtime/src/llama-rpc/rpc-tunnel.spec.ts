import { groupTunnelKey, tunnelIdentity } from './rpc-tunnel';

describe('replica group tunnel keys', () => {
  it("derives a group's tunnel key from the leader's credential and the group, so another group or another leader gets another key", () => {
    const key = groupTunnelKey('leader-secret', 'group-1', 'node-a');
    expect(key).toHaveLength(32);
    expect(groupTunnelKey('leader-secret', 'group-1', 'node-a').equals(key)).toBe(true);
    expect(groupTunnelKey('leader-secret', 'group-2', 'node-a').equals(key)).toBe(false);
    expect(groupTunnelKey('leader-secret', 'group-1', 'node-b').equals(key)).toBe(false);
    expect(groupTunnelKey('other-secret', 'group-1', 'node-a').equals(key)).toBe(false);
    expect(tunnelIdentity('group-1', 'node-a')).toBe('group-1/node-a');
  });
});
