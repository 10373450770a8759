import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bundledLlamaCppRelease,
  inspectRpcBinaries,
  LLAMA_RPC_CMAKE_OPTIONS,
  llamaCacheRoot,
  llamaRpcCapability,
  MANIFEST_FILE,
  optionsKey,
  RpcBinariesManifest,
  rpcBinariesDir,
} from './rpc-binaries';

const RELEASE = 'v0.5.0';
let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'gridline-rpc-binaries-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A cache entry as the build script installs it, with stand-in files for the binaries. */
async function install(over: { release?: string; options?: Record<string, string>; manifest?: (m: RpcBinariesManifest) => unknown } = {}): Promise<string> {
  const release = over.release ?? RELEASE;
  const options = over.options ?? { ...LLAMA_RPC_CMAKE_OPTIONS };
  const dir = rpcBinariesDir(root, release, options);
  await mkdir(join(dir, 'bin'), { recursive: true });
  await writeFile(join(dir, 'bin', 'llama-server'), 'server bytes');
  await writeFile(join(dir, 'bin', 'ggml-rpc-server'), 'rpc bytes');
  const manifest: RpcBinariesManifest = {
    release,
    commit: 'de3ff815ea7d559ee917f063901b8986f038abc6',
    options,
    optionsKey: optionsKey(options),
    builtAt: '2026-01-01T00:00:00.000Z',
    buildSeconds: 450,
    binaries: {
      'llama-server': { file: 'llama-server', target: 'llama-server', sha256: sha256('server bytes'), sizeBytes: 12 },
      'rpc-server': { file: 'ggml-rpc-server', target: 'ggml-rpc-server', sha256: sha256('rpc bytes'), sizeBytes: 9 },
    },
  };
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(over.manifest ? over.manifest(manifest) : manifest));
  return dir;
}

describe('RPC binaries cache', () => {
  it('finds binaries whose files match the manifest, with the path of each', async () => {
    const dir = await install();
    const state = await inspectRpcBinaries(root, RELEASE);
    expect(state).toMatchObject({
      status: 'present',
      dir,
      paths: { 'llama-server': join(dir, 'bin', 'llama-server'), 'rpc-server': join(dir, 'bin', 'ggml-rpc-server') },
    });
  });

  it('keys the directory by release and the options, in any order', () => {
    const reversed = Object.fromEntries(Object.entries(LLAMA_RPC_CMAKE_OPTIONS).reverse());
    expect(rpcBinariesDir(root, RELEASE, reversed)).toBe(rpcBinariesDir(root, RELEASE));
    expect(rpcBinariesDir(root, RELEASE)).toMatch(new RegExp(`/v0\\.5\\.0-[0-9a-f]{12}$`));
    expect(rpcBinariesDir(root, RELEASE, { ...LLAMA_RPC_CMAKE_OPTIONS, GGML_CUDA: 'ON' })).not.toBe(rpcBinariesDir(root, RELEASE));
    expect(rpcBinariesDir(root, 'v0.6.0')).not.toBe(rpcBinariesDir(root, RELEASE));
  });

  it('reports nothing built as absent', async () => {
    expect(await inspectRpcBinaries(root, RELEASE)).toMatchObject({ status: 'absent' });
  });

  it('does not take binaries built with other options or for another release', async () => {
    await install({ options: { ...LLAMA_RPC_CMAKE_OPTIONS, GGML_NATIVE: 'OFF' } });
    await install({ release: 'v0.4.0' });
    expect(await inspectRpcBinaries(root, RELEASE)).toMatchObject({ status: 'absent' });
  });

  it('calls a binary changed after the build a mismatch', async () => {
    const dir = await install();
    await truncate(join(dir, 'bin', 'llama-server'), 3);
    const state = await inspectRpcBinaries(root, RELEASE);
    expect(state.status).toBe('mismatch');
    expect(state.status === 'mismatch' && state.reason).toMatch(/^llama-server .*sha256 differs/);
  });

  it('calls a missing binary a mismatch', async () => {
    const dir = await install();
    await rm(join(dir, 'bin', 'ggml-rpc-server'));
    expect(await inspectRpcBinaries(root, RELEASE)).toMatchObject({ status: 'mismatch', reason: expect.stringMatching(/^rpc-server .* is missing$/) });
  });

  it('calls a manifest that disagrees with its directory a mismatch', async () => {
    await install({ manifest: (m) => ({ ...m, release: 'v0.4.0' }) });
    expect(await inspectRpcBinaries(root, RELEASE)).toMatchObject({ status: 'mismatch', reason: 'built for v0.4.0, not v0.5.0' });
    await install({ manifest: (m) => ({ ...m, options: { ...m.options, GGML_RPC: 'OFF' } }) });
    expect(await inspectRpcBinaries(root, RELEASE)).toMatchObject({ status: 'mismatch', reason: 'built with other options' });
  });

  it('refuses a manifest that is malformed or points outside bin/', async () => {
    await install({ manifest: (m) => ({ ...m, binaries: { ...m.binaries, 'rpc-server': { ...m.binaries['rpc-server'], file: '../../../bin/sh' } } }) });
    expect(await inspectRpcBinaries(root, RELEASE)).toMatchObject({ status: 'mismatch', reason: expect.stringContaining('rpc-server.file is not a file name') });
    const dir = await install();
    await writeFile(join(dir, MANIFEST_FILE), '{"release": ');
    expect(await inspectRpcBinaries(root, RELEASE)).toMatchObject({ status: 'mismatch', reason: expect.stringContaining('is not a manifest') });
  });

  it('names the capability with the release, and defaults the cache to ~/.cache/gridline/llama', () => {
    expect(llamaRpcCapability(RELEASE)).toBe('llama-rpc@v0.5.0');
    expect(llamaCacheRoot('/srv/llama')).toBe('/srv/llama');
    expect(llamaCacheRoot('')).toMatch(/\/\.cache\/gridline\/llama$/);
  });

  it('reads the release from node-llama-cpp\'s llama.cpp.info.json, refusing a tag that is not a plain name', async () => {
    await writeFile(join(root, 'llama.cpp.info.json'), JSON.stringify({ tag: 'b6000', llamaCppGithubRepo: 'ggml-org/llama.cpp' }));
    expect(await bundledLlamaCppRelease(root)).toBe('b6000');
    await writeFile(join(root, 'llama.cpp.info.json'), JSON.stringify({ tag: '../../etc' }));
    await expect(bundledLlamaCppRelease(root)).rejects.toThrow('has no usable "tag"');
  });
});
