import { freeTunnelPort, spanningRelease } from './replica-group';

describe('replica groups', () => {
  it('lets a node span only with RPC binaries and a tunnel address', () => {
    const rpc = { address: '10.0.0.2', ports: [7400, 7401] as [number, number] };
    expect(spanningRelease({ capabilities: ['simulated-gpus', 'llama-rpc@v0.5.0'], rpc })).toBe('v0.5.0');
    expect(spanningRelease({ capabilities: ['llama-rpc@v0.5.0'] })).toBeNull();
    expect(spanningRelease({ capabilities: ['simulated-gpus'], rpc })).toBeNull();
  });

  it('assigns the lowest free port of the range, and none when all are taken', () => {
    expect(freeTunnelPort([7400, 7402], new Set([7400]))).toBe(7401);
    expect(freeTunnelPort([7400, 7401], new Set([7400, 7401]))).toBeNull();
    expect(freeTunnelPort([7400, 7400], new Set())).toBe(7400);
  });
});
