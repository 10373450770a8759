import { fileURLToPath } from 'node:url';
import { sha256File } from '@gridline/common';
import { ModelRecord, ModelRepository } from '@gridline/db';

/**
 * Nodes verify what they pull: a file registered in place gets its digest the first time a node
 * may need it (a replica put on a node, a deployment applied). Returns the model with it.
 */
export async function withChecksum(models: ModelRepository, model: ModelRecord): Promise<ModelRecord> {
  if (model.sha256 || !model.source?.startsWith('file:')) return model;
  const sha256 = await sha256File(fileURLToPath(model.source));
  await models.setSha256(model.id, sha256);
  return { ...model, sha256 };
}
