import { createHmac } from 'node:crypto';
import { AddressInfo, Server, Socket, createServer } from 'node:net';
import { TLSSocket, connect as tlsConnect, createServer as createTlsServer } from 'node:tls';

/**
 * llama.cpp's RPC protocol has no authentication and no encryption: whoever reaches an
 * `rpc-server` port can use that node's devices and read what flows. So the RPC server listens on
 * loopback only, and members of a replica group reach each other through these tunnels: TLS 1.2
 * with a pre-shared key (ECDHE-PSK with ChaCha20-Poly1305, or DHE-PSK with AES-256-GCM: forward secrecy, an
 * AEAD, no certificates to manage). Each connecting member has its own key, derived from the
 * group's secret and its identity, so a key that leaks names its holder and opens one group only.
 * A connection without a valid key is refused during the handshake, before a byte reaches the
 * RPC server.
 */

const CIPHERS = 'ECDHE-PSK-CHACHA20-POLY1305:DHE-PSK-AES256-GCM-SHA384';
const TLS_VERSION = 'TLSv1.2';
/** Bytes of a tunnel key; shorter secrets are refused. */
export const TUNNEL_KEY_BYTES = 32;

/** The identity a member presents: its group and its node. */
export function tunnelIdentity(groupId: string, nodeId: string): string {
  return `${groupId}/${nodeId}`;
}

/** A member's key: HMAC-SHA256 of its identity under the group's secret (which the control plane gives the group's members only). */
export function tunnelKey(groupSecret: Buffer, identity: string): Buffer {
  if (groupSecret.length < TUNNEL_KEY_BYTES) throw new RangeError(`a group secret needs at least ${TUNNEL_KEY_BYTES} bytes`);
  return createHmac('sha256', groupSecret).update(identity).digest();
}

/**
 * The key of a replica group's tunnel: HMAC-SHA256 under the leader node's credential secret
 * makes the group's secret, and the leader's identity in the group its key. The leader derives
 * it from its own credential; the api, which holds the credential sealed, derives it for the
 * workers and gives it to each in its heartbeat's answer only. A new group has a new id, so the
 * key dies with its group; the credential itself never leaves its node.
 */
export function groupTunnelKey(leaderSecretKey: string, groupId: string, leaderNodeId: string): Buffer {
  const groupSecret = createHmac('sha256', leaderSecretKey).update('gridline/rpc-tunnel/v1').digest();
  return tunnelKey(groupSecret, tunnelIdentity(groupId, leaderNodeId));
}

export interface RpcTunnel {
  /** The port it listens on. */
  readonly port: number;
  close(): Promise<void>;
}

export interface RpcTunnelServerOptions {
  /** Where members connect (the node's address). */
  host: string;
  /** 0: any free port. */
  port: number;
  /** The RPC server behind it, on loopback. */
  targetPort: number;
  /** The key of an identity allowed in, or null: refused. */
  keyFor(identity: string): Buffer | null;
  /** A connection refused (no key, a wrong key, not TLS): for the log, never with key material. */
  onRefused?(why: string): void;
}

/** The worker's side: accepts members' tunnels and forwards each connection to the local RPC server. */
export async function serveRpcTunnel(options: RpcTunnelServerOptions): Promise<RpcTunnel> {
  const server = createTlsServer(
    {
      ciphers: CIPHERS,
      minVersion: TLS_VERSION,
      maxVersion: TLS_VERSION,
      pskCallback: (_socket: TLSSocket, identity: string) => {
        const key = options.keyFor(identity);
        return key && key.length >= TUNNEL_KEY_BYTES ? key : null;
      },
    },
    (secure) => pipeBoth(secure, new Socket().connect(options.targetPort, '127.0.0.1')),
  );
  server.on('tlsClientError', (e: NodeJS.ErrnoException) => options.onRefused?.(e.code ?? 'handshake failed'));
  return listen(server, options.host, options.port);
}

export interface RpcTunnelClientOptions {
  /** The worker's tunnel. */
  remoteHost: string;
  remotePort: number;
  identity: string;
  key: Buffer;
  /** The loopback port the leader's llama.cpp connects to (`--rpc 127.0.0.1:<port>`); 0: any. */
  localPort?: number;
  /** A tunnelled connection ended (either side closed it or failed): the leader tells a lost worker by it. */
  onConnectionClosed?(): void;
}

/** The leader's side: a loopback port whose connections go to the worker through the tunnel. */
export async function openRpcTunnel(options: RpcTunnelClientOptions): Promise<RpcTunnel> {
  if (options.key.length < TUNNEL_KEY_BYTES) throw new RangeError(`a tunnel key needs at least ${TUNNEL_KEY_BYTES} bytes`);
  const server = createServer((local) => {
    pipeBoth(local, connectRemote(options), options.onConnectionClosed);
  });
  return listen(server, '127.0.0.1', options.localPort ?? 0);
}

function connectRemote(options: Pick<RpcTunnelClientOptions, 'remoteHost' | 'remotePort' | 'identity' | 'key'>): TLSSocket {
  return tlsConnect({
    host: options.remoteHost,
    port: options.remotePort,
    ciphers: CIPHERS,
    minVersion: TLS_VERSION,
    maxVersion: TLS_VERSION,
    // PSK authenticates both ends; there is no certificate to check.
    checkServerIdentity: () => undefined,
    pskCallback: () => ({ identity: options.identity, psk: options.key }),
  });
}

/**
 * Whether a worker's tunnel lets this identity in now: a handshake, closed at once (the worker
 * forwards it to its RPC server, which sees a client come and go). False when the worker is not
 * listening yet, refuses the key, or does not answer within `timeoutMs`.
 */
export function probeRpcTunnel(options: Pick<RpcTunnelClientOptions, 'remoteHost' | 'remotePort' | 'identity' | 'key'>, timeoutMs = 5000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectRemote(options);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** Bytes both ways; when either side ends or fails, both are closed. */
function pipeBoth(a: Socket, b: Socket, onClosed?: () => void): void {
  // llama.cpp's RPC is request/response with small messages (a graph, one token's activations):
  // Nagle's algorithm would hold each one back for the peer's delayed ACK, ~40 ms a token.
  a.setNoDelay(true);
  b.setNoDelay(true);
  let closed = false;
  const close = () => {
    a.destroy();
    b.destroy();
    if (closed) return;
    closed = true;
    onClosed?.();
  };
  a.on('error', close).on('close', close);
  b.on('error', close).on('close', close);
  a.pipe(b);
  b.pipe(a);
}

function listen(server: Server, host: string, port: number): Promise<RpcTunnel> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
