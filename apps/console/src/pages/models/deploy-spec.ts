/**
 * The deployment the dialog asks for: built from the form, written as the request body, and read
 * back from the YAML a person reviewed (the shape the api's plan prints: apiVersion, kind,
 * metadata, spec; its `plan` block is the server's and is not sent).
 */
import { parse } from 'yaml';
import type { components } from '../../api/schema';

type S = components['schemas'];
export type DeploymentBody = S['CreateDeploymentDto'];
export type Plan = S['DeploymentPlanDto'];

export interface DeployForm {
  name: string;
  model: string;
  replicas: number;
  contextSize: number;
  parallel: number;
  placement: 'binpack' | 'spread';
  /** 0: no count (the plan uses what it needs). */
  count: number;
  instanceType: string | null;
  preferredNodes: string[];
  matchLabels: Record<string, string>;
}

/** A deployment name the api takes: lower-case letters, digits and dashes, up to 63, from the model's name. */
export function defaultDeploymentName(model: string): string {
  const base = model.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return base || 'deployment';
}

export const DEPLOYMENT_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** The request body of the form (what the dry run plans and Review & Deploy starts from). */
export function bodyOf(form: DeployForm): DeploymentBody {
  const resource: NonNullable<DeploymentBody['resource']> = {};
  if (form.count > 0) resource.count = form.count;
  if (form.instanceType) resource.instanceType = form.instanceType;
  if (form.preferredNodes.length) resource.preferredNodes = [...form.preferredNodes];
  if (Object.keys(form.matchLabels).length) resource.labelSelector = { matchLabels: { ...form.matchLabels } };
  return {
    name: form.name,
    model: form.model,
    replicas: form.replicas,
    idleSeconds: 300,
    pinned: false,
    placement: form.placement,
    // The api fills the other runtime settings with their defaults (the generated type marks defaulted fields required).
    runtime: { contextSize: form.contextSize, parallel: form.parallel } as DeploymentBody['runtime'],
    ...(Object.keys(resource).length ? { resource } : {}),
  };
}

export class ReviewedYamlError extends Error {
  override readonly name = 'ReviewedYamlError';
}

const SPEC_KEYS = ['model', 'replicas', 'minReplicas', 'idleSeconds', 'pinned', 'runtime', 'placement', 'resource', 'tolerations'] as const;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The request body of reviewed YAML: `metadata.name` and `metadata.team`, and `spec`'s fields.
 * Throws ReviewedYamlError naming what is wrong (YAML syntax with its line, a missing name or
 * model, a key the api does not take); the api validates the values.
 */
export function bodyOfYaml(text: string): DeploymentBody {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new ReviewedYamlError(`the YAML does not parse: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  if (!isRecord(doc)) throw new ReviewedYamlError('the YAML must be a mapping with metadata and spec');
  if (doc.kind !== undefined && doc.kind !== 'Deployment') throw new ReviewedYamlError(`kind must be Deployment, not ${String(doc.kind)}`);
  const metadata = isRecord(doc.metadata) ? doc.metadata : null;
  const spec = isRecord(doc.spec) ? doc.spec : null;
  if (!metadata || typeof metadata.name !== 'string' || !metadata.name) throw new ReviewedYamlError('metadata.name is missing');
  if (!spec) throw new ReviewedYamlError('spec is missing');
  if (typeof spec.model !== 'string' || !spec.model) throw new ReviewedYamlError('spec.model is missing');
  const unknown = Object.keys(spec).filter((k) => !(SPEC_KEYS as readonly string[]).includes(k));
  if (unknown.length) throw new ReviewedYamlError(`spec has ${unknown.map((k) => `"${k}"`).join(', ')}, which a deployment does not take (it takes ${SPEC_KEYS.join(', ')})`);
  const body: Record<string, unknown> = { name: metadata.name };
  if (typeof metadata.team === 'string' && metadata.team) body.teamId = metadata.team;
  for (const key of SPEC_KEYS) if (spec[key] !== undefined && spec[key] !== null) body[key] = spec[key];
  return body as unknown as DeploymentBody;
}

/** Distinct GPUs and GPU bytes a plan holds (what the quota rules charge the team). */
export function planUse(plan: Pick<Plan, 'replicas'>): { gpus: number; bytes: number } {
  const gpus = new Set<string>();
  let bytes = 0;
  for (const replica of plan.replicas) {
    for (const node of replica.nodes) {
      for (const gpu of node.gpus) {
        gpus.add(`${node.nodeId}/${gpu.index}`);
        bytes += gpu.bytes;
      }
    }
  }
  return { gpus: gpus.size, bytes };
}

export interface QuotaLine {
  what: 'GPUs' | 'GPU memory';
  /** null: no limit. */
  limit: number | null;
  used: number;
  /** What this deployment adds. */
  adds: number;
  /** limit − used − adds (null without a limit); below 0 the quota refuses. */
  leftAfter: number | null;
}

/** The team's quota before and after this plan, one line for GPUs and one for GPU memory. */
export function quotaLines(plan: Pick<Plan, 'replicas' | 'quota'>): QuotaLine[] {
  const use = planUse(plan);
  const q = plan.quota;
  return [
    { what: 'GPUs', limit: q.gpus, used: q.usedGpus, adds: use.gpus, leftAfter: q.gpus === null ? null : q.gpus - q.usedGpus - use.gpus },
    { what: 'GPU memory', limit: q.gpuMemoryBytes, used: q.usedGpuMemoryBytes, adds: use.bytes, leftAfter: q.gpuMemoryBytes === null ? null : q.gpuMemoryBytes - q.usedGpuMemoryBytes - use.bytes },
  ];
}

/** Each planned GPU as a row: replica, node, GPU, layers and bytes. */
export function planRows(plan: Pick<Plan, 'replicas'>): { replica: number; node: string; gpu: number; layers: string; bytes: number }[] {
  return plan.replicas.flatMap((r, i) =>
    r.nodes.flatMap((n) => n.gpus.map((g) => ({ replica: i + 1, node: n.name, gpu: g.index, layers: g.layers ? `${g.layers[0]}–${g.layers[1]}` : 'fixed part only', bytes: g.bytes }))),
  );
}
