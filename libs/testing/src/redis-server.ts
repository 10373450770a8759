import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes';

export interface RedisServerOptions {
  /** `maxmemory` (e.g. '64mb'); none by default. */
  maxmemory?: string;
}

/**
 * A redis-server of a test's own, on a free port, for faults done for real: stalled
 * (SIGSTOP), killed, restarted empty or from its last `SAVE`. Never the shared Redis, which
 * other test files use at the same time. No automatic snapshots and no AOF: a restart loads
 * only what the test saved itself.
 */
export class RedisServer {
  private child: ChildProcess | null = null;
  output = '';

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), 'gl-redis-')), options);
    await server.spawn();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Freezes the server: connections stay open, nothing is answered. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Kills it (SIGKILL: no shutdown save) and starts it again on the same port: empty, or from its last SAVE. */
  async restart(options: { empty: boolean }): Promise<void> {
    await this.kill();
    if (options.empty) rmSync(join(this.dir, 'dump.rdb'), { force: true });
    await this.spawn();
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
    this.child = null;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async spawn(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', this.dir, '--dbfilename', 'dump.rdb'];
    if (this.options.maxmemory) args.push('--maxmemory', this.options.maxmemory, '--maxmemory-policy', 'noeviction');
    this.output += `--- start ${new Date().toISOString()}\n`;
    const from = this.output.length;
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server on ${this.port} did not start:\n${this.output.slice(-2000)}`)), 10_000);
      const onData = (d: Buffer) => {
        this.output += d.toString();
        if (/Ready to accept connections/.test(this.output.slice(from))) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server on ${this.port} exited (${code}):\n${this.output.slice(-2000)}`));
      });
    });
    await ready;
  }
}
