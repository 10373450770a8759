import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { AddressInfo, createConnection, createServer } from 'node:net';

/**
 * The llama.cpp binaries a spanning replica runs (`llama-server` on the leader, the RPC server on
 * each worker) are plain processes under a Node supervisor (the runner, the worker child). This
 * module starts them so that they never outlive it, reads what they print, and stops them.
 */

/** util-linux's setpriv: on Linux it makes the kernel kill the binary when its supervisor dies, even by SIGKILL. */
const SETPRIV = '/usr/bin/setpriv';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the binary could not be started at all (not found, not executable). */
  error?: string;
}

export interface SupervisedProcess {
  readonly pid: number | null;
  /** Resolves once it has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  /** Whether it still runs. */
  readonly running: boolean;
  /** The last lines it printed that `keepLine` kept: for the report of an unexpected exit. */
  tail(): string[];
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SuperviseOptions {
  /** Every line it prints (stdout and stderr), as it comes. */
  onLine?(line: string): void;
  /** Which lines the tail keeps (default: all): a line that may carry a user's text should not. */
  keepLine?(line: string): boolean;
  tailLines?: number;
}

/** A supervised `binary args…`. */
export function superviseBinary(binary: string, args: string[], options: SuperviseOptions = {}): SupervisedProcess {
  // PDEATHSIG: the supervisor's SIGKILL cannot be caught, so only the kernel can take the binary down with it.
  const [command, argv] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', binary, ...args]] : [binary, args];
  const child: ChildProcess = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const limit = options.tailLines ?? 40;
  const onLine = (line: string) => {
    options.onLine?.(line);
    if (options.keepLine && !options.keepLine(line)) return;
    tail.push(line);
    if (tail.length > limit) tail.shift();
  };
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) onLine(l);
    });
    stream?.on('end', () => {
      if (partial) onLine(partial);
      partial = '';
    });
  }
  let running = true;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('error', (e) => {
      running = false;
      resolve({ code: null, signal: null, error: e.message });
    });
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  return {
    get pid() {
      return child.pid ?? null;
    },
    exited,
    get running() {
      return running;
    },
    tail: () => [...tail],
    async stop(graceMs = 5000) {
      if (!running) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** How a process ended, in words. */
export function describeExit(exit: ProcessExit): string {
  if (exit.error) return exit.error;
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

/** A port nobody listens on now (the OS's choice): for a binary that cannot be told to pick one itself. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on host:port now. */
export function accepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Polls until `ready()` holds; fails when the process exits first or the time runs out. The
 * error says which, with the process's last lines.
 */
export async function waitUntil(
  what: string,
  ready: () => Promise<boolean>,
  { process: proc, timeoutMs, intervalMs = 100 }: { process?: SupervisedProcess; timeoutMs: number; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const state: { exit: ProcessExit | null } = { exit: null };
  void proc?.exited.then((e) => (state.exit = e));
  for (;;) {
    if (state.exit) throw new Error(`${what}: the process exited (${describeExit(state.exit)})${lastLines(proc)}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${Math.round(timeoutMs / 1000)} s${lastLines(proc)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function lastLines(proc: SupervisedProcess | undefined): string {
  const lines = proc?.tail().slice(-12) ?? [];
  return lines.length ? `\n${lines.join('\n')}` : '';
}
