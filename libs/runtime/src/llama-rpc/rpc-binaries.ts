import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * llama.cpp's RPC backend (issue #12) needs binaries node-llama-cpp does not ship: its
 * prebuilt ones have no RPC. `npm run llama:build-rpc` builds them from the llama.cpp
 * source node-llama-cpp bundles, once per machine, into a cache outside the checkout keyed
 * by the llama.cpp release and the build options; this module is the one place that says
 * where that cache is and whether what is in it can be trusted.
 */

/**
 * The CMake options of the build. Changing one changes the cache key, so a machine never
 * runs binaries built with other options than these.
 * - No UI and no OpenSSL: the build runs offline, and the leader's HTTP server is only
 *   reached through the agent.
 * - Static libraries: `bin/` is self-contained (no libllama.so beside it to go missing),
 *   and the manifest's hashes cover everything that runs.
 * - GGML_NATIVE stays at its default (on): the binaries use this machine's CPU features,
 *   which is why the cache lives on the machine and is not shared between hosts.
 */
export const LLAMA_RPC_CMAKE_OPTIONS: Readonly<Record<string, string>> = Object.freeze({
  CMAKE_BUILD_TYPE: 'Release',
  BUILD_SHARED_LIBS: 'OFF',
  GGML_RPC: 'ON',
  LLAMA_BUILD_UI: 'OFF',
  LLAMA_USE_PREBUILT_UI: 'OFF',
  LLAMA_OPENSSL: 'OFF',
  LLAMA_BUILD_TESTS: 'OFF',
  LLAMA_BUILD_EXAMPLES: 'OFF',
});

/** What each binary is for; the CMake target behind a role may change name between releases. */
export type LlamaRpcRole = 'llama-server' | 'rpc-server';
export const LLAMA_RPC_ROLES: readonly LlamaRpcRole[] = ['llama-server', 'rpc-server'];

/** The inventory capability of a node whose RPC binaries are present and intact: `llama-rpc@<release>`. */
export const LLAMA_RPC_CAPABILITY = 'llama-rpc';
export function llamaRpcCapability(release: string): string {
  return `${LLAMA_RPC_CAPABILITY}@${release}`;
}

export interface RpcBinaryEntry {
  /** File name under `bin/`. */
  file: string;
  /** The CMake target it was built from. */
  target: string;
  sha256: string;
  sizeBytes: number;
}

export interface RpcBinariesManifest {
  release: string;
  /** The commit of the bundled source the binaries were built from. */
  commit: string;
  options: Record<string, string>;
  optionsKey: string;
  builtAt: string;
  buildSeconds: number;
  binaries: Record<LlamaRpcRole, RpcBinaryEntry>;
}

export type RpcBinariesState =
  | { status: 'present'; dir: string; release: string; paths: Record<LlamaRpcRole, string>; manifest: RpcBinariesManifest }
  | { status: 'absent'; dir: string; release: string; reason: string }
  | { status: 'mismatch'; dir: string; release: string; reason: string };

export const MANIFEST_FILE = 'manifest.json';

/** `GRIDLINE_LLAMA_CACHE` when set (the caller reads the environment), else `~/.cache/gridline/llama`. */
export function llamaCacheRoot(configured?: string): string {
  return configured && configured.length > 0 ? configured : join(homedir(), '.cache', 'gridline', 'llama');
}

/** 12 hex of the sha256 of the options, keys sorted: the same options in any order give the same key. */
export function optionsKey(options: Readonly<Record<string, string>>): string {
  const sorted = Object.keys(options)
    .sort()
    .map((k) => [k, options[k]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 12);
}

export function rpcBinariesDir(cacheRoot: string, release: string, options: Readonly<Record<string, string>> = LLAMA_RPC_CMAKE_OPTIONS): string {
  return join(cacheRoot, `${release}-${optionsKey(options)}`);
}

/** node-llama-cpp's `llama/` folder: the bundled source and the file naming its release. */
export function nodeLlamaCppLlamaDir(): string {
  // The package exports no package.json; its entry point is `dist/index.js`.
  return join(dirname(require.resolve('node-llama-cpp')), '..', 'llama');
}

/** The llama.cpp release the installed node-llama-cpp bundles (`llama/llama.cpp.info.json`). */
export async function bundledLlamaCppRelease(llamaDir = nodeLlamaCppLlamaDir()): Promise<string> {
  const info: unknown = JSON.parse(await readFile(join(llamaDir, 'llama.cpp.info.json'), 'utf8'));
  const tag = isRecord(info) ? info['tag'] : undefined;
  // The tag becomes a directory name: refuse anything that could step out of the cache.
  if (typeof tag !== 'string' || !/^[A-Za-z0-9._-]+$/.test(tag)) throw new Error(`${join(llamaDir, 'llama.cpp.info.json')} has no usable "tag"`);
  return tag;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Whether the cache holds binaries for this release and these options that are what the
 * manifest says (same sha256): a file changed or truncated after the build is a mismatch,
 * and the node does not claim the capability for it.
 */
export async function inspectRpcBinaries(
  cacheRoot: string,
  release: string,
  options: Readonly<Record<string, string>> = LLAMA_RPC_CMAKE_OPTIONS,
): Promise<RpcBinariesState> {
  const dir = rpcBinariesDir(cacheRoot, release, options);
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch (e) {
    if (isErrno(e) && e.code === 'ENOENT') return { status: 'absent', dir, release, reason: `no ${MANIFEST_FILE} in ${dir}` };
    throw e;
  }
  const mismatch = (reason: string): RpcBinariesState => ({ status: 'mismatch', dir, release, reason });
  let manifest: RpcBinariesManifest;
  try {
    manifest = parseManifest(JSON.parse(text));
  } catch (e) {
    return mismatch(`${MANIFEST_FILE} is not a manifest: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (manifest.release !== release) return mismatch(`built for ${manifest.release}, not ${release}`);
  if (manifest.optionsKey !== optionsKey(options) || optionsKey(manifest.options) !== optionsKey(options)) return mismatch('built with other options');
  const paths = {} as Record<LlamaRpcRole, string>;
  for (const role of LLAMA_RPC_ROLES) {
    const entry = manifest.binaries[role];
    const path = join(dir, 'bin', entry.file);
    let actual: string;
    try {
      actual = await sha256File(path);
    } catch (e) {
      if (isErrno(e) && e.code === 'ENOENT') return mismatch(`${role} (${path}) is missing`);
      throw e;
    }
    if (actual !== entry.sha256) return mismatch(`${role} (${path}) is not the file that was built (sha256 differs)`);
    paths[role] = path;
  }
  return { status: 'present', dir, release, paths, manifest };
}

/** Checks a parsed manifest's shape: it is read from disk, so nothing in it is taken on trust. */
export function parseManifest(raw: unknown): RpcBinariesManifest {
  if (!isRecord(raw)) throw new Error('not an object');
  const str = (v: unknown, name: string): string => {
    if (typeof v !== 'string' || v.length === 0) throw new Error(`${name} is not a string`);
    return v;
  };
  const num = (v: unknown, name: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${name} is not a number`);
    return v;
  };
  const options = raw['options'];
  if (!isRecord(options) || !Object.values(options).every((v) => typeof v === 'string')) throw new Error('options is not a map of strings');
  const binaries = raw['binaries'];
  if (!isRecord(binaries)) throw new Error('binaries is not an object');
  const entries = {} as Record<LlamaRpcRole, RpcBinaryEntry>;
  for (const role of LLAMA_RPC_ROLES) {
    const b = binaries[role];
    if (!isRecord(b)) throw new Error(`binaries.${role} is missing`);
    const file = str(b['file'], `binaries.${role}.file`);
    // A file name, never a path: the manifest must not point outside bin/.
    if (!/^[A-Za-z0-9._-]+$/.test(file)) throw new Error(`binaries.${role}.file is not a file name`);
    const sha256 = str(b['sha256'], `binaries.${role}.sha256`);
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`binaries.${role}.sha256 is not a sha256`);
    entries[role] = { file, target: str(b['target'], `binaries.${role}.target`), sha256, sizeBytes: num(b['sizeBytes'], `binaries.${role}.sizeBytes`) };
  }
  return {
    release: str(raw['release'], 'release'),
    commit: str(raw['commit'], 'commit'),
    options: options as Record<string, string>,
    optionsKey: str(raw['optionsKey'], 'optionsKey'),
    builtAt: str(raw['builtAt'], 'builtAt'),
    buildSeconds: num(raw['buildSeconds'], 'buildSeconds'),
    binaries: entries,
  };
}

/**
 * The binaries for the installed node-llama-cpp's release and our options, checked. A node
 * without node-llama-cpp's release file has no RPC binaries to speak of: absent, not an error.
 */
export async function rpcBinaries(cacheRoot: string): Promise<RpcBinariesState> {
  let release: string;
  try {
    release = await bundledLlamaCppRelease();
  } catch (e) {
    return { status: 'absent', dir: cacheRoot, release: 'unknown', reason: `llama.cpp release unknown: ${e instanceof Error ? e.message : String(e)}` };
  }
  return inspectRpcBinaries(cacheRoot, release);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Not `instanceof Error`: errors from Node's fs fail it under Jest's separate realm. */
function isErrno(e: unknown): e is NodeJS.ErrnoException {
  return typeof e === 'object' && e !== null && 'code' in e;
}
