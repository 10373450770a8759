import { ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { RpcWorkerEvent, RpcWorkerOptions, RpcWorkerRequest } from './rpc-worker-protocol';


/** Where the compiled worker child sits next to this file in the build output. */
export const RPC_WORKER_ENTRY = join(__dirname, 'rpc-worker.js');

export class RpcWorkerError extends Error {
  override readonly name = 'RpcWorkerError';
}

/**
 * Drives one RPC worker child (rpc-worker.ts): a worker node's member of a replica spanning
 * nodes. Emits 'exit' (err: Error) when the child or its RPC server dies without being asked
 * to, and 'refused' (why: string) for each connection the tunnel refused.
 */
export class RpcWorkerClient extends EventEmitter {
  private child: ChildProcess | null = null;
  private stopping = false;
  private rpcServerPid: number | null = null;

  constructor(private readonly entry: string = RPC_WORKER_ENTRY) {
    super();
  }

  /** Resolves once the RPC server accepts on loopback and the tunnel listens, with the tunnel's port. */
  start(options: RpcWorkerOptions): Promise<{ port: number }> {
    if (this.child) return Promise.reject(new RpcWorkerError('the RPC worker is already started'));
    // Its own process group, like the runner: a signal to the agent's group reaches the agent,
    // which stops its children in order; a child whose agent is gone exits by itself.
    const child = fork(this.entry, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json', detached: true });
    this.child = child;
    this.stopping = false;
    let lastFailure: string | null = null;
    return new Promise((resolve, reject) => {
      let started = false;
      child.on('message', (event: RpcWorkerEvent) => {
        if (event.type === 'started') {
          started = true;
          this.rpcServerPid = event.rpcServerPid;
          resolve({ port: event.port });
        } else if (event.type === 'refused') {
          this.emit('refused', event.why);
        } else {
          lastFailure = event.message;
        }
      });
      child.once('exit', (code, signal) => {
        this.child = null;
        this.rpcServerPid = null;
        const message = `the RPC worker exited (${signal ?? `exit code ${code}`})${lastFailure ? `: ${lastFailure}` : ''}`;
        if (!started) return reject(new RpcWorkerError(message));
        if (!this.stopping) this.emit('exit', new RpcWorkerError(message));
      });
      child.send({ type: 'start', options } satisfies RpcWorkerRequest);
    });
  }

  /** The child's process id while it runs. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** The RPC server's process id while it runs (for a test or a status page). */
  get serverPid(): number | null {
    return this.rpcServerPid;
  }

  /** Asks the child to stop its RPC server and exit; kills its process group if it does not within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.stopping = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected) child.send({ type: 'stop' } satisfies RpcWorkerRequest);
    const timer = setTimeout(() => killGroup(child), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/** SIGKILL to a detached child's process group (the child and what it started), or to the child alone. */
export function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
