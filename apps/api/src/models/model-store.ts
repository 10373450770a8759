import { Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { ApiError } from '@gridline/common';
import { ApiConfig } from '../api.config';

export interface StoredUpload {
  /** Where the bytes are, not yet under their final name. */
  partPath: string;
  sizeBytes: number;
  sha256: string;
}

/**
 * The control plane's model store: the first of GRIDLINE_MODEL_ROOTS. Uploads stream into a
 * part file, hashed and counted as they arrive and cut off at the size limit; they get their
 * final name only once the catalog has accepted them, so a refused or broken upload leaves
 * nothing behind.
 */
@Injectable()
export class ModelStore {
  constructor(private readonly config: ApiConfig) {}

  get root(): string {
    return resolve(this.config.modelRoots[0]);
  }

  async receive(body: Readable, declaredBytes: number | null): Promise<StoredUpload> {
    const limit = this.config.GRIDLINE_MODEL_UPLOAD_MAX_BYTES;
    if (declaredBytes !== null && declaredBytes > limit) {
      body.resume();
      throw new ApiError('payload_too_large', `model uploads are limited to ${limit} bytes`);
    }
    await mkdir(join(this.root, '.uploads'), { recursive: true });
    const partPath = join(this.root, '.uploads', `${randomUUID()}.part`);
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > limit) return done(new ApiError('payload_too_large', `model uploads are limited to ${limit} bytes`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(partPath, { mode: 0o640 }));
    } catch (e) {
      await rm(partPath, { force: true });
      if (e instanceof ApiError) {
        body.resume();
        throw e;
      }
      throw new ApiError('validation_failed', 'the upload was cut off before its end');
    }
    if (size === 0) {
      await rm(partPath, { force: true });
      throw new ApiError('invalid_model_file', 'the upload is empty');
    }
    return { partPath, sizeBytes: size, sha256: hash.digest('hex') };
  }

  /** Gives an accepted upload its final name (`<stem>.gguf` in the store); returns its path. */
  async keep(upload: StoredUpload, stem: string): Promise<string> {
    const path = join(this.root, `${stem}.gguf`);
    await rename(upload.partPath, path);
    return path;
  }

  /** Removes what is left of an upload (nothing, once kept). */
  async discard(upload: StoredUpload): Promise<void> {
    await rm(upload.partPath, { force: true });
  }
}
