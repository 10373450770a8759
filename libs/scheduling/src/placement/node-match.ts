/** Kubernetes-style label selectors and taints/tolerations, evaluated over plain node data. */
export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: readonly string[];
}

export interface LabelSelector {
  matchLabels?: Readonly<Record<string, string>>;
  matchExpressions?: readonly LabelSelectorRequirement[];
}

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
}

export interface Toleration {
  /** Empty with `Exists` tolerates every taint. */
  key?: string;
  /** Defaults to `Equal`. */
  operator?: 'Equal' | 'Exists';
  value?: string;
  /** Empty tolerates every effect. */
  effect?: TaintEffect;
}

/** Why the labels fail the selector (the first failing term), or null when they match. An empty selector matches every node. */
export function selectorMismatch(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): string | null {
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) {
    if (labels[key] !== value) return `label ${key}=${value} required, node has ${key in labels ? `${key}=${labels[key]}` : `no ${key}`}`;
  }
  for (const { key, operator, values = [] } of selector?.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    const ok =
      operator === 'In' ? has && values.includes(labels[key]) :
      operator === 'NotIn' ? !has || !values.includes(labels[key]) :
      operator === 'Exists' ? has : !has;
    if (!ok) return `label ${key} ${operator}${values.length ? ` (${values.join(', ')})` : ''} not met, node has ${has ? `${key}=${labels[key]}` : `no ${key}`}`;
  }
  return null;
}

export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if ((toleration.operator ?? 'Equal') === 'Exists') return !toleration.key || toleration.key === taint.key;
  return toleration.key === taint.key && (toleration.value ?? '') === (taint.value ?? '');
}

/** The first taint that keeps new work off the node (NoSchedule or NoExecute, not tolerated), or null. PreferNoSchedule never blocks. */
export function untoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[]): Taint | null {
  return taints.find((t) => t.effect !== 'PreferNoSchedule' && !tolerations.some((tol) => tolerates(tol, t))) ?? null;
}

export const formatTaint = (t: Taint): string => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
