import { createHash } from 'node:crypto';
import type { ModelRecord } from '@gridline/db';

/**
 * OpenAI's `system_fingerprint`: what, besides the request, decides the text a model gives.
 * Here that is the model file and the context it is served with, so the fingerprint is
 * `gl-<first 12 hex digits of the file's SHA-256>-c<context tokens per sequence>`. Two
 * answers with the same fingerprint, request and seed come from the same weights under the
 * same context; a new file under the model's name, or a change of the served context, changes
 * it. A file whose digest is not known yet (registered without one, not yet hashed) stands in
 * by its catalog id, hashed (`gl-id…`); a model no agent announced yet by `c0`.
 */
export function systemFingerprint(model: Pick<ModelRecord, 'id' | 'sha256' | 'facts'>): string {
  const file = model.sha256 ? model.sha256.slice(0, 12) : `id${createHash('sha256').update(model.id).digest('hex').slice(0, 10)}`;
  return `gl-${file}-c${model.facts.serving?.contextTokens ?? 0}`;
}
