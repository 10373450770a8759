/**
 * What the Nodes page computes from the api's node records: GPU memory in use, the colour of a
 * status, labels and taints as a person edits them, and the join-token request from its form.
 * Plain data in, plain data out (no React), so it is unit-tested beside the page.
 */

export interface GpuLike {
  index: number;
  name: string;
  totalMemoryBytes: number;
  freeMemoryBytes: number;
  simulated?: boolean;
}

export interface GpuUsage {
  totalBytes: number;
  usedBytes: number;
  freeBytes: number;
  /** Used share, 0-100 (0 for a GPU that reports no memory). */
  usedPercent: number;
}

/** Used and free memory of one GPU, as its node last reported it (free never above total). */
export function gpuUsage(g: Pick<GpuLike, 'totalMemoryBytes' | 'freeMemoryBytes'>): GpuUsage {
  const total = Math.max(0, g.totalMemoryBytes);
  const free = Math.min(Math.max(0, g.freeMemoryBytes), total);
  const used = total - free;
  return { totalBytes: total, usedBytes: used, freeBytes: free, usedPercent: total > 0 ? (used / total) * 100 : 0 };
}

/** The node's GPUs together. */
export function fleetUsage(gpus: Pick<GpuLike, 'totalMemoryBytes' | 'freeMemoryBytes'>[]): GpuUsage {
  const sum = gpus.map(gpuUsage).reduce((a, u) => ({ total: a.total + u.totalBytes, free: a.free + u.freeBytes }), { total: 0, free: 0 });
  return gpuUsage({ totalMemoryBytes: sum.total, freeMemoryBytes: sum.free });
}

/** The bar's colour: calm below 70 %, warning to 90 %, then red. */
export function usageColor(usedPercent: number): 'teal' | 'yellow' | 'red' {
  return usedPercent >= 90 ? 'red' : usedPercent >= 70 ? 'yellow' : 'teal';
}

/** A simulated GPU's name without the "(simulated)" its agent appends: the page marks it with a badge instead. */
export function gpuDisplayName(g: Pick<GpuLike, 'name' | 'simulated'>): string {
  return g.simulated ? g.name.replace(/\s*\(simulated\)\s*$/i, '') : g.name;
}

export type NodeStatus = 'Pending' | 'Ready' | 'NotReady' | 'Lost' | 'Draining' | 'Drained' | 'Cordoned';

export function statusColor(status: string): string {
  switch (status as NodeStatus) {
    case 'Ready':
      return 'green';
    case 'Pending':
      return 'blue';
    case 'Cordoned':
    case 'Draining':
    case 'Drained':
      return 'yellow';
    case 'NotReady':
      return 'orange';
    case 'Lost':
      return 'red';
    default:
      return 'gray';
  }
}

/** How the node takes new work: the one word a table column shows. */
export function scheduling(n: { schedulable: boolean; cordoned: boolean; draining: boolean }): 'Schedulable' | 'Draining' | 'Cordoned' | 'Unschedulable' {
  if (n.draining) return 'Draining';
  if (n.cordoned) return 'Cordoned';
  return n.schedulable ? 'Schedulable' : 'Unschedulable';
}

// Kubernetes' label syntax: an optional DNS-subdomain prefix and a name of up to 63 characters; values up to 63.
const LABEL_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const LABEL_PREFIX = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

export interface LabelRow {
  key: string;
  value: string;
}

/** Why a label key is refused, or null when it is a valid key. */
export function labelKeyProblem(key: string): string | null {
  if (key === '') return 'a key is required';
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : null;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== null && !LABEL_PREFIX.test(prefix)) return `"${prefix}" is not a valid prefix (lower-case DNS name)`;
  if (!LABEL_NAME.test(name)) return `"${name}" must be 1-63 letters, digits, . _ -, starting and ending with a letter or digit`;
  return null;
}

export function labelValueProblem(value: string): string | null {
  return LABEL_VALUE.test(value) ? null : `"${value}" must be at most 63 letters, digits, . _ -, starting and ending with a letter or digit`;
}

export function labelRows(labels: Record<string, string>): LabelRow[] {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => ({ key, value }));
}

/** Rows as the dialog holds them → the labels object, or the first problem (blank rows are skipped). */
export function labelsFromRows(rows: LabelRow[]): { labels: Record<string, string> } | { problem: string } {
  const labels: Record<string, string> = {};
  for (const row of rows) {
    const key = row.key.trim();
    const value = row.value.trim();
    if (key === '' && value === '') continue;
    const problem = labelKeyProblem(key) ?? labelValueProblem(value);
    if (problem) return { problem: `${key || '(no key)'}: ${problem}` };
    if (key in labels) return { problem: `${key}: appears twice` };
    labels[key] = value;
  }
  return { labels };
}

/** `pool=inference` → a row; a bare `gpu` is a key with an empty value. */
export function parseLabel(text: string): LabelRow {
  const eq = text.indexOf('=');
  return eq < 0 ? { key: text.trim(), value: '' } : { key: text.slice(0, eq).trim(), value: text.slice(eq + 1).trim() };
}

export function formatLabel(key: string, value: string): string {
  return value === '' ? key : `${key}=${value}`;
}

export interface TaintLike {
  key: string;
  value?: string;
  effect: string;
}

export function formatTaint(t: TaintLike): string {
  return `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
}

export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
export type TaintEffect = (typeof TAINT_EFFECTS)[number];

export interface TaintRow {
  key: string;
  value: string;
  effect: TaintEffect;
}

export function taintsFromRows(rows: TaintRow[]): { taints: { key: string; value?: string; effect: TaintEffect }[] } | { problem: string } {
  const taints: { key: string; value?: string; effect: TaintEffect }[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    const key = row.key.trim();
    const value = row.value.trim();
    if (key === '' && value === '') continue;
    const problem = labelKeyProblem(key) ?? labelValueProblem(value);
    if (problem) return { problem: `taint ${key || '(no key)'}: ${problem}` };
    const id = `${key}:${row.effect}`;
    if (seen.has(id)) return { problem: `taint ${id}: appears twice` };
    seen.add(id);
    taints.push(value === '' ? { key, effect: row.effect } : { key, value, effect: row.effect });
  }
  return { taints };
}

/** The expiries the join-token dialog offers, in seconds (the api takes 60 s to 30 days). */
export const TOKEN_EXPIRIES: { label: string; seconds: number }[] = [
  { label: '1 hour', seconds: 3600 },
  { label: '1 day', seconds: 86_400 },
  { label: '7 days', seconds: 7 * 86_400 },
  { label: '30 days', seconds: 30 * 86_400 },
];

export interface JoinTokenForm {
  description: string;
  /** `key=value` entries. */
  labels: string[];
  /** Joins allowed; null: any number until it expires. */
  uses: number | null;
  autoApprove: boolean;
  ttlSeconds: number;
}

export interface JoinTokenRequest {
  description?: string;
  labels?: Record<string, string>;
  maxUses: number | null;
  autoApprove: boolean;
  ttlSeconds: number;
}

/** The form → the body of POST /api/v1/join-tokens, or the first problem. */
export function joinTokenRequest(form: JoinTokenForm): { body: JoinTokenRequest } | { problem: string } {
  const parsed = labelsFromRows(form.labels.map(parseLabel));
  if ('problem' in parsed) return parsed;
  if (form.uses !== null && (!Number.isInteger(form.uses) || form.uses < 1)) return { problem: 'uses: at least 1, or unlimited' };
  const description = form.description.trim();
  return {
    body: {
      ...(description ? { description } : {}),
      ...(Object.keys(parsed.labels).length ? { labels: parsed.labels } : {}),
      maxUses: form.uses,
      autoApprove: form.autoApprove,
      ttlSeconds: form.ttlSeconds,
    },
  };
}
