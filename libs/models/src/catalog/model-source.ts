import { open, realpath } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GgufFormatError, GgufHeader, decodeGgufHeader } from '../gguf/gguf-reader';
import { loadabilityProblems } from './model-facts';

/** Why a model source was refused: each a different thing for the caller to fix. */
export type ModelSourceProblem = 'invalid_source' | 'source_unreachable' | 'invalid_model_file';

export class ModelSourceError extends Error {
  override readonly name = 'ModelSourceError';
  constructor(
    readonly problem: ModelSourceProblem,
    message: string,
  ) {
    super(message);
  }
}

export interface InspectedModel {
  header: GgufHeader;
  /** Bytes of the whole file. */
  sizeBytes: number;
  /** The file holds the header and no tensor data: it validates and plans, never deploys. */
  headerOnly: boolean;
}

export interface ModelSourceOptions {
  /** Directories `file://` sources must lie in (symbolic links resolved). */
  fileRoots: string[];
  /** The largest header read before giving up (tokenizer arrays make headers megabytes long). */
  maxHeaderBytes?: number;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

const FIRST_WINDOW = 1 << 20;
const DEFAULT_MAX_HEADER = 256 << 20;

/** Reads up to `length` bytes from the start of the source; `size` is the whole file's. */
type RangeReader = (length: number) => Promise<{ bytes: Buffer; size: number }>;

/**
 * Reads only the header of a model file named by its source, checks it is a GGUF that
 * llama.cpp can be handed, and tells whether its weights are there: absent (header-only),
 * complete, or cut short (refused). A 40 GB file costs a few megabytes of reading.
 */
export async function inspectModelSource(source: string, options: ModelSourceOptions): Promise<InspectedModel> {
  const read = await readerFor(source, options);
  const header = await readHeader(read, options.maxHeaderBytes ?? DEFAULT_MAX_HEADER);
  const problems = loadabilityProblems(header.header);
  if (problems.length > 0) throw new ModelSourceError('invalid_model_file', `the GGUF header lacks what llama.cpp needs: ${problems.slice(0, 5).join('; ')}`);
  const { dataOffset, tensorBytes } = header.header;
  const size = header.size;
  const headerOnly = size <= dataOffset;
  if (!headerOnly && size < dataOffset + tensorBytes) {
    throw new ModelSourceError('invalid_model_file', `the file is truncated: its header describes ${dataOffset + tensorBytes} bytes, the file has ${size}`);
  }
  return { header: header.header, sizeBytes: size, headerOnly };
}

async function readHeader(read: RangeReader, maxBytes: number): Promise<{ header: GgufHeader; size: number }> {
  let window = FIRST_WINDOW;
  for (;;) {
    const { bytes, size } = await read(Math.min(window, maxBytes));
    try {
      return { header: decodeGgufHeader(bytes), size };
    } catch (e) {
      if (!(e instanceof GgufFormatError)) throw e;
      const incomplete = e.message === 'file ends inside its GGUF header';
      if (!incomplete || bytes.length >= size) throw new ModelSourceError('invalid_model_file', e.message);
      if (window >= maxBytes) throw new ModelSourceError('invalid_model_file', `the GGUF header is larger than ${maxBytes} bytes`);
      window *= 4;
    }
  }
}

async function readerFor(source: string, options: ModelSourceOptions): Promise<RangeReader> {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new ModelSourceError('invalid_source', 'the source must be a file:// or http(s):// URL');
  }
  if (url.protocol === 'file:') return fileReader(url, options.fileRoots);
  if (url.protocol === 'http:' || url.protocol === 'https:') return httpReader(url, options.fetch ?? fetch, options.timeoutMs ?? 30_000);
  throw new ModelSourceError('invalid_source', 'the source must be a file:// or http(s):// URL');
}

async function fileReader(url: URL, roots: string[]): Promise<RangeReader> {
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch {
    throw new ModelSourceError('invalid_source', 'a file:// source must be an absolute local path');
  }
  if (!isAbsolute(path)) throw new ModelSourceError('invalid_source', 'a file:// source must be an absolute local path');
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw new ModelSourceError('source_unreachable', 'no file at that path');
  }
  const allowed = await Promise.all(roots.map((r) => realpath(resolve(r)).catch(() => null)));
  if (!allowed.some((root) => root !== null && (real === root || real.startsWith(root + sep)))) {
    // Said the same way whether or not the file exists, so paths outside the roots cannot be probed.
    throw new ModelSourceError('invalid_source', 'file:// sources must lie in a model directory of the control plane (GRIDLINE_MODEL_ROOTS)');
  }
  return async (length) => {
    const handle = await open(real, 'r');
    try {
      const { size } = await handle.stat();
      const bytes = Buffer.alloc(Math.min(length, size));
      await handle.read(bytes, 0, bytes.length, 0);
      return { bytes, size };
    } finally {
      await handle.close();
    }
  };
}

function httpReader(url: URL, fetchImpl: typeof fetch, timeoutMs: number): RangeReader {
  return async (length) => {
    let res: Response;
    try {
      res = await fetchImpl(url, { headers: { range: `bytes=0-${length - 1}` }, signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
    } catch {
      throw new ModelSourceError('source_unreachable', `${url.host} did not answer`);
    }
    if (res.status !== 206 && res.status !== 200) {
      await res.body?.cancel();
      throw new ModelSourceError('source_unreachable', `${url.host} answered HTTP ${res.status}`);
    }
    const total = res.status === 206 ? Number(/\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1]) : Number(res.headers.get('content-length'));
    // A server that ignores the range sends the whole file: only its first `length` bytes are read.
    const chunks: Buffer[] = [];
    let got = 0;
    const reader = res.body?.getReader();
    while (reader && got < length) {
      const { value, done } = await reader.read();
      if (done) break;
      chunks.push(Buffer.from(value));
      got += value.length;
    }
    await reader?.cancel();
    const bytes = Buffer.concat(chunks, got).subarray(0, length);
    if (!Number.isFinite(total) || total <= 0) throw new ModelSourceError('source_unreachable', `${url.host} did not say how large the file is (Content-Range or Content-Length)`);
    return { bytes, size: total };
  };
}
