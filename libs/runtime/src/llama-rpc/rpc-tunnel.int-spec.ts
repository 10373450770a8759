import { randomBytes } from 'node:crypto';
import { AddressInfo, Server, Socket, createConnection, createServer } from 'node:net';
import { RpcTunnel, openRpcTunnel, serveRpcTunnel, tunnelIdentity, tunnelKey } from './rpc-tunnel';

/** A stand-in for llama.cpp's rpc-server: echoes what it gets, and keeps count of it. */
function echoServer(): Promise<{ server: Server; port: number; received: () => number }> {
  let received = 0;
  const server = createServer((s) => s.on('data', (d: Buffer) => {
    received += d.length;
    s.write(d);
  }));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, received: () => received })));
}

/** Sends `data` on a new connection to `port` and collects what comes back until it closes or `expect` bytes came. */
function roundTrip(port: number, data: Buffer, expect: number, timeoutMs = 5000): Promise<{ back: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const socket: Socket = createConnection(port, '127.0.0.1', () => socket.write(data));
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ back: Buffer.concat(chunks), closed });
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      size += d.length;
      if (size >= expect) done(false);
    });
    socket.on('close', () => done(true));
    socket.on('error', () => undefined);
  });
}

/**
 * The tunnel between the members of a replica group, on real sockets: a member with its key
 * reaches the RPC server through it; a stranger (plain TCP, a wrong key, another group's
 * identity) is refused during the handshake and never reaches it.
 */
describe('RPC tunnel (TLS with pre-shared keys)', () => {
  const groupSecret = randomBytes(32);
  const leader = tunnelIdentity('group-1', 'node-a');
  const members = new Set([leader]);
  const refusals: string[] = [];
  let rpc: Awaited<ReturnType<typeof echoServer>>;
  let worker: RpcTunnel;
  const opened: RpcTunnel[] = [];

  beforeAll(async () => {
    rpc = await echoServer();
    worker = await serveRpcTunnel({
      host: '127.0.0.1',
      port: 0,
      targetPort: rpc.port,
      keyFor: (identity) => (members.has(identity) ? tunnelKey(groupSecret, identity) : null),
      onRefused: (why) => refusals.push(why),
    });
  });

  afterAll(async () => {
    for (const t of opened) await t.close();
    await worker?.close();
    await new Promise((r) => rpc?.server.close(r));
  });

  const open = async (identity: string, key: Buffer) => {
    const t = await openRpcTunnel({ remoteHost: '127.0.0.1', remotePort: worker.port, identity, key });
    opened.push(t);
    return t;
  };

  it("carries a member's traffic to the RPC server and back, byte for byte", async () => {
    const tunnel = await open(leader, tunnelKey(groupSecret, leader));
    const payload = randomBytes(1024 * 1024);
    const { back } = await roundTrip(tunnel.port, payload, payload.length);
    expect(back.equals(payload)).toBe(true);
    expect(rpc.received()).toBe(payload.length);
  });

  it('refuses a stranger speaking plain TCP to the worker: nothing reaches the RPC server', async () => {
    const before = rpc.received();
    const { back, closed } = await roundTrip(worker.port, Buffer.from('GET_DEVICE_MEMORY\n'), 1);
    expect({ closed, echoed: back.length }).toEqual({ closed: true, echoed: 0 });
    expect(rpc.received()).toBe(before);
    expect(refusals.length).toBeGreaterThan(0);
  });

  it('refuses a member identity with the wrong key, and an identity outside the group', async () => {
    const before = rpc.received();
    const wrongKey = await open(leader, tunnelKey(randomBytes(32), leader));
    const outsider = tunnelIdentity('group-2', 'node-x');
    const otherGroup = await open(outsider, tunnelKey(groupSecret, outsider));
    for (const t of [wrongKey, otherGroup]) {
      const { back, closed } = await roundTrip(t.port, Buffer.from('hello'), 1);
      expect({ closed, echoed: back.length }).toEqual({ closed: true, echoed: 0 });
    }
    expect(rpc.received()).toBe(before);
  });

  it('derives a different key per member and per group, and refuses short secrets', () => {
    const other = tunnelIdentity('group-1', 'node-b');
    expect(tunnelKey(groupSecret, leader).equals(tunnelKey(groupSecret, other))).toBe(false);
    expect(tunnelKey(groupSecret, leader)).toHaveLength(32);
    expect(() => tunnelKey(randomBytes(16), leader)).toThrow(RangeError);
  });
});
