import type { Response } from 'express';

/** Sends a model file with byte ranges (resumable downloads) and its sha256 (`x-gridline-sha256`, `repr-digest`). */
export async function sendModelFile(res: Response, path: string, sha256: string | null): Promise<void> {
  if (sha256) {
    res.setHeader('x-gridline-sha256', sha256);
    res.setHeader('repr-digest', `sha-256=:${Buffer.from(sha256, 'hex').toString('base64')}:`);
  }
  await new Promise<void>((resolve, reject) => res.sendFile(path, { acceptRanges: true, dotfiles: 'allow', headers: { 'content-type': 'application/octet-stream' } }, (e) => (e && !res.headersSent ? reject(e) : resolve())));
}
