/**
 * `npm run llama:build-rpc`: builds llama.cpp's RPC-enabled `llama-server` and RPC server
 * from the source node-llama-cpp bundles (offline: a git clone of the bundle file), and
 * installs them into the cache `@gridline/runtime` reads (`GRIDLINE_LLAMA_CACHE`, default
 * `~/.cache/gridline/llama`), under `<release>-<options key>/`. A second run with the same
 * release and options finds them there and only checks them.
 *
 * The build happens in a temporary folder inside the cache root and is renamed into place
 * once complete, so an interrupted build never leaves a directory that looks like a cache
 * entry. SIGINT/SIGTERM stop the compilers and remove the folder; after a SIGKILL the next
 * run removes the folder (the orphaned compilers then fail, having nowhere to write).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import {
  bundledLlamaCppRelease,
  inspectRpcBinaries,
  LLAMA_RPC_CMAKE_OPTIONS,
  LlamaRpcRole,
  llamaCacheRoot,
  MANIFEST_FILE,
  nodeLlamaCppLlamaDir,
  optionsKey,
  RpcBinariesManifest,
  RpcBinaryEntry,
  rpcBinariesDir,
  sha256File,
} from '@gridline/runtime';

const TEMP_PREFIX = '.build-';

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** The running git or cmake, whose process group an interrupt stops (the compilers are its grandchildren). */
let running: ChildProcess | null = null;

function run(command: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // Its own process group, so stopping the build reaches make and every compiler under it.
    const child = (running = spawn(command, args, { cwd, stdio: 'inherit', detached: true }));
    child.on('error', (e) => reject(new Error(`${command}: ${e.message} (is it installed?)`)));
    child.on('exit', (code, signal) => {
      running = null;
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`));
    });
  });
}

function stopRunning(): void {
  if (!running?.pid) return;
  try {
    process.kill(-running.pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
}

function capture(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`${command} ${args.join(' ')} failed (exit ${code})`))));
  });
}

/**
 * The RPC server's CMake target has been renamed between llama.cpp releases (`rpc-server`,
 * then `ggml-rpc-server`): read it from the source rather than guess.
 */
async function rpcServerTarget(source: string): Promise<string> {
  const cmake = await readFile(join(source, 'tools', 'rpc', 'CMakeLists.txt'), 'utf8');
  const m = /set\s*\(\s*TARGET\s+([A-Za-z0-9_-]+)\s*\)/.exec(cmake);
  if (!m?.[1]) throw new Error('tools/rpc/CMakeLists.txt names no TARGET: this llama.cpp release builds its RPC server differently');
  return m[1];
}

/** Temporary folders of runs whose process is gone (`.build-<pid>-…`): a killed build's leftovers. */
async function removeStaleTemps(cacheRoot: string): Promise<void> {
  for (const name of await readdir(cacheRoot)) {
    const pid = Number(/^\.build-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || isAlive(pid)) continue;
    await rm(join(cacheRoot, name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

async function main(): Promise<void> {
  const started = Date.now();
  const cacheRoot = llamaCacheRoot(process.env['GRIDLINE_LLAMA_CACHE']);
  const llamaDir = nodeLlamaCppLlamaDir();
  const release = await bundledLlamaCppRelease(llamaDir);
  const options = { ...LLAMA_RPC_CMAKE_OPTIONS };
  const dir = rpcBinariesDir(cacheRoot, release, options);

  const existing = await inspectRpcBinaries(cacheRoot, release, options);
  if (existing.status === 'present') {
    say(`llama.cpp ${release} RPC binaries are built: ${dir} (checked in ${Date.now() - started} ms)`);
    for (const [role, path] of Object.entries(existing.paths)) say(`  ${role}: ${path}`);
    return;
  }
  if (existing.status === 'mismatch') say(`rebuilding: ${existing.reason}`);

  await mkdir(cacheRoot, { recursive: true });
  await removeStaleTemps(cacheRoot);
  // Inside the cache root, so the final rename stays on one filesystem.
  const temp = await mkdtemp(join(cacheRoot, `${TEMP_PREFIX}${process.pid}-`));
  const cleanUp = (): void => {
    stopRunning();
    void rm(temp, { recursive: true, force: true }).finally(() => process.exit(130));
  };
  process.once('SIGINT', cleanUp);
  process.once('SIGTERM', cleanUp);
  try {
    const source = join(temp, 'src');
    const build = join(temp, 'build');
    const bundle = join(llamaDir, 'gitRelease.bundle');
    say(`cloning llama.cpp ${release} from ${bundle}`);
    await run('git', ['clone', '--quiet', '-c', 'advice.detachedHead=false', bundle, source]);
    const commit = await capture('git', ['rev-parse', 'HEAD'], source);
    const targets: Record<LlamaRpcRole, string> = { 'llama-server': 'llama-server', 'rpc-server': await rpcServerTarget(source) };

    const jobs = availableParallelism();
    say(`configuring and building ${Object.values(targets).join(', ')} with ${jobs} jobs (several minutes)`);
    const buildStarted = Date.now();
    await run('cmake', ['-S', source, '-B', build, ...Object.entries(options).map(([k, v]) => `-D${k}=${v}`)]);
    await run('cmake', ['--build', build, '--config', 'Release', '--parallel', String(jobs), '--target', ...Object.values(targets)]);
    const buildSeconds = Math.round((Date.now() - buildStarted) / 1000);

    const staged = join(temp, 'out');
    await mkdir(join(staged, 'bin'), { recursive: true });
    const binaries = {} as Record<LlamaRpcRole, RpcBinaryEntry>;
    for (const [role, target] of Object.entries(targets) as [LlamaRpcRole, string][]) {
      const built = join(build, 'bin', target);
      const installed = join(staged, 'bin', basename(built));
      await copyFile(built, installed);
      binaries[role] = { file: basename(built), target, sha256: await sha256File(installed), sizeBytes: (await stat(installed)).size };
    }
    const manifest: RpcBinariesManifest = { release, commit, options, optionsKey: optionsKey(options), builtAt: new Date().toISOString(), buildSeconds, binaries };
    await writeFile(join(staged, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);

    // A mismatching entry is moved aside (not deleted in place) so the swap stays two renames.
    if (existsSync(dir)) await rename(dir, join(temp, 'replaced'));
    await rename(staged, dir);
    say(`built in ${buildSeconds} s; installed in ${dir}`);
    for (const [role, b] of Object.entries(binaries)) say(`  ${role}: ${join(dir, 'bin', b.file)} (${mib(b.sizeBytes)})`);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`llama:build-rpc: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
