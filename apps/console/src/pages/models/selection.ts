/**
 * Node selection in the deploy dialog (what Headlamp-KAITO's dialog offers): a "GPU nodes only"
 * switch, quick selectors for GPU models and instance types, a free-text `key=value` label filter,
 * preferred nodes and a node count.
 */
import { type FleetNode, labelsOf } from './fit';

export interface LabelFilter {
  labels: Record<string, string>;
  /** Why the text is refused (the item named), or null. */
  error: string | null;
}

/** `pool=inference, zone=a` → `{ pool: 'inference', zone: 'a' }`; a malformed item is named in `error` and left out. */
export function parseLabelFilter(text: string): LabelFilter {
  const labels: Record<string, string> = {};
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    if (eq <= 0) return { labels, error: `"${item}": expected key=value` };
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (!/^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$/.test(key)) return { labels, error: `"${item}": the key must be letters, digits, . _ - /` };
    if (Object.prototype.hasOwnProperty.call(labels, key) && labels[key] !== value) return { labels, error: `"${item}": ${key} is given twice` };
    labels[key] = value;
  }
  return { labels, error: null };
}

export const formatLabelFilter = (labels: Readonly<Record<string, string>>): string =>
  Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(', ');

export function matchesLabels(node: Pick<FleetNode, 'labels' | 'gpus'>, wanted: Readonly<Record<string, string>>): boolean {
  const labels = labelsOf(node);
  return Object.entries(wanted).every(([k, v]) => labels[k] === v);
}

export interface QuickSelector {
  /** What the chip says. */
  label: string;
  kind: 'gpu' | 'instance-type' | 'label';
  key: string;
  value: string;
  /** Nodes of the fleet it selects. */
  nodes: number;
}

/**
 * One chip per GPU model the fleet has (`gridline.dev/gpu`), per instance type nodes carry
 * (`node.kubernetes.io/instance-type`) and per well-known pool/zone label value, each with how
 * many nodes it selects; most common first.
 */
export function quickSelectors(nodes: readonly FleetNode[]): QuickSelector[] {
  const counts = new Map<string, QuickSelector>();
  const add = (kind: QuickSelector['kind'], key: string, value: string, label: string) => {
    const id = `${key}=${value}`;
    const s = counts.get(id) ?? { label, kind, key, value, nodes: 0 };
    s.nodes++;
    counts.set(id, s);
  };
  for (const n of nodes) {
    const labels = labelsOf(n);
    if (labels['gridline.dev/gpu']) add('gpu', 'gridline.dev/gpu', labels['gridline.dev/gpu'], labels['gridline.dev/gpu']);
    const type = labels['node.kubernetes.io/instance-type'];
    if (type) add('instance-type', 'node.kubernetes.io/instance-type', type, type);
    for (const key of ['pool', 'zone', 'gridline.dev/pool', 'topology.kubernetes.io/zone']) {
      if (labels[key]) add('label', key, labels[key], `${key}=${labels[key]}`);
    }
  }
  const rank = { gpu: 0, 'instance-type': 1, label: 2 } as const;
  return [...counts.values()].sort((a, b) => rank[a.kind] - rank[b.kind] || b.nodes - a.nodes || a.label.localeCompare(b.label));
}

/** The nodes the dialog lists: GPU nodes only when asked, matching the label filter; by name. */
export function listedNodes<N extends FleetNode>(nodes: readonly N[], options: { gpuOnly: boolean; labels: Readonly<Record<string, string>> }): N[] {
  return nodes
    .filter((n) => !options.gpuOnly || n.gpus.length > 0)
    .filter((n) => matchesLabels(n, options.labels))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** KAITO's count line: the preferred nodes chosen against the node count. */
export function nodeCountStatus(selected: number, count: number): { text: string; met: boolean } {
  if (selected === count) return { text: 'Exact requirement met', met: true };
  if (selected < count) return { text: `Need ${count - selected} more`, met: false };
  return { text: `${selected - count} more than the count of ${count}: only ${count} will be used`, met: false };
}

/** Nodes needed for `replicas` replicas of `needBytes` on nodes of `perNodeBytes` (the planner's ceiling); at least 1. */
export function nodesNeeded(needBytes: number, replicas: number, perNodeBytes: number): number {
  if (perNodeBytes <= 0) return Infinity;
  return Math.max(1, Math.ceil((needBytes * replicas) / perNodeBytes));
}

/** The GPU architecture of a model name, for the instance-type quick selectors: "NVIDIA A100 80GB PCIe" → "A100", "NVIDIA L40S" → "L40S". */
export function gpuFamilyOf(gpuModel: string): string {
  const word = gpuModel.replace(/^NVIDIA\s+/i, '').split(/\s+/)[0] ?? gpuModel;
  return word || gpuModel;
}
