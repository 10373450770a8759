/**
 * A worker node's part of a replica spanning nodes: a child of the agent (started by
 * RpcWorkerClient with `fork()`) that runs llama.cpp's RPC server on loopback and lets the
 * group's leader reach it through the TLS-PSK tunnel, and nobody else. It lives exactly as long
 * as its agent: when the IPC channel closes (the agent exited or was killed, even by SIGKILL)
 * it stops the RPC server and exits; when the RPC server dies it says so and exits non-zero.
 */
import { RpcTunnel, serveRpcTunnel } from './rpc-tunnel';
import type { RpcWorkerEvent, RpcWorkerOptions, RpcWorkerRequest } from './rpc-worker-protocol';
import { SupervisedProcess, accepts, describeExit, freePort, superviseBinary, waitUntil } from './supervised-process';

/** How long the RPC server may take to listen (it only enumerates devices first). */
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 3000;

if (!process.send) {
  process.stderr.write('rpc-worker must be started with an IPC channel (child_process.fork)\n');
  process.exit(2);
}

let rpcServer: SupervisedProcess | null = null;
let tunnel: RpcTunnel | null = null;
let leaving = false;

/** Resolves once the event is handed to the channel (so that an exit right after it does not lose it). */
function send(event: RpcWorkerEvent): Promise<void> {
  if (!process.connected) {
    void leave(0);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    process.send?.(event, undefined, undefined, (err: Error | null) => {
      resolve();
      if (err) void leave(0);
    });
  });
}

/** Stops the RPC server (before anything else: it must not outlive the group's trust) and the tunnel, then exits. */
async function leave(code: number): Promise<void> {
  if (leaving) return;
  leaving = true;
  await rpcServer?.stop(STOP_GRACE_MS).catch(() => undefined);
  await tunnel?.close().catch(() => undefined);
  process.exit(code);
}

async function start(options: RpcWorkerOptions): Promise<void> {
  if (rpcServer) throw new Error('already started');
  const key = Buffer.from(options.keyHex, 'hex');
  const port = await freePort('127.0.0.1');
  // Loopback only: the RPC protocol has no authentication; the tunnel is the only way in.
  const server = superviseBinary(options.rpcServerBinary, ['-H', '127.0.0.1', '-p', String(port), '-t', String(options.threads)]);
  rpcServer = server;
  void server.exited.then((exit) => {
    if (leaving) return;
    const lines = server.tail().slice(-8);
    void send({ type: 'failed', message: `the RPC server exited (${describeExit(exit)})${lines.length ? `:\n${lines.join('\n')}` : ''}` }).then(() => leave(1));
  });
  await waitUntil('the RPC server', () => accepts(port), { process: server, timeoutMs: START_TIMEOUT_MS });
  tunnel = await serveRpcTunnel({
    host: options.listenHost,
    port: options.listenPort,
    targetPort: port,
    // One identity only: the group's leader. Every other member, group or stranger is refused in the handshake.
    keyFor: (identity) => (identity === options.leaderIdentity ? key : null),
    onRefused: (why) => void send({ type: 'refused', why }),
  });
  void send({ type: 'started', port: tunnel.port, rpcServerPid: server.pid });
}

process.on('message', (msg: RpcWorkerRequest) => {
  if (msg.type === 'stop') return void leave(0);
  start(msg.options).catch((e: unknown) => {
    void send({ type: 'failed', message: e instanceof Error ? e.message : String(e) }).then(() => leave(1));
  });
});
process.on('disconnect', () => void leave(0));
process.on('error', () => void leave(0));
