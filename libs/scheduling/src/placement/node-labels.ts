import { Taint, TaintEffect, formatTaint } from './node-match';

/** Why a `key=value,...` label list or a `key=value:Effect,...` taint list was refused; the message names the bad item. */
export class NodeSpecError extends Error {
  override readonly name = 'NodeSpecError';
  constructor(readonly code: 'invalid_labels' | 'invalid_taints', message: string) {
    super(message);
  }
}

const TAINT_EFFECTS: readonly TaintEffect[] = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
// Kubernetes' rules: a name (and a value) is at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends;
// an optional prefix is a lower-case DNS subdomain of at most 253 characters.
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;

/** Why `key` is not a valid label or taint key, or null. */
function keyProblem(key: string): string | null {
  const slash = key.indexOf('/');
  const [prefix, name] = slash < 0 ? [null, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== null && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return 'its prefix must be a lower-case DNS subdomain (at most 253 characters)';
  if (!NAME.test(name)) return 'its name must be 1-63 letters, digits, . _ - starting and ending with a letter or digit';
  return null;
}

const valueProblem = (value: string): string | null =>
  value === '' || NAME.test(value) ? null : 'the value must be at most 63 letters, digits, . _ - starting and ending with a letter or digit';

/** Why a label is refused by Kubernetes' rules, or null: for labels that come as data (the admin API), not as text. */
export const labelProblem = (key: string, value: string): string | null => keyProblem(key) ?? valueProblem(value);

/** Why a taint is refused (its key, value or effect), or null. */
export function taintProblem(t: { key: string; value?: string; effect: string }): string | null {
  if (!TAINT_EFFECTS.includes(t.effect as TaintEffect)) return `the effect must be one of ${TAINT_EFFECTS.join(', ')}`;
  return keyProblem(t.key) ?? valueProblem(t.value ?? '');
}

/** Non-empty comma-separated items, trimmed (a trailing comma or spaces around items are tolerated). */
const items = (text: string): string[] => text.split(',').map((s) => s.trim()).filter(Boolean);

/** `team=ml, zone=eu-1` → `{ team: 'ml', zone: 'eu-1' }`. Throws NodeSpecError naming the first bad item. */
export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of items(text)) {
    const eq = item.indexOf('=');
    const fail = (why: string) => new NodeSpecError('invalid_labels', `label "${item}": ${why}`);
    if (eq < 0) throw fail('expected key=value');
    const [key, value] = [item.slice(0, eq), item.slice(eq + 1)];
    const problem = labelProblem(key, value);
    if (problem) throw fail(problem);
    if (Object.prototype.hasOwnProperty.call(labels, key)) throw fail(`${key} is given twice`);
    labels[key] = value;
  }
  return labels;
}

/** `gpu=a100:NoSchedule, maintenance:NoExecute` → taints. Throws NodeSpecError naming the first bad item. */
export function parseTaints(text: string): Taint[] {
  const taints: Taint[] = [];
  for (const item of items(text)) {
    const fail = (why: string) => new NodeSpecError('invalid_taints', `taint "${item}": ${why}`);
    const colon = item.lastIndexOf(':');
    if (colon < 0) throw fail(`expected key=value:Effect or key:Effect (Effect: ${TAINT_EFFECTS.join(', ')})`);
    const effect = item.slice(colon + 1) as TaintEffect;
    const head = item.slice(0, colon);
    const eq = head.indexOf('=');
    const [key, value] = eq < 0 ? [head, ''] : [head.slice(0, eq), head.slice(eq + 1)];
    const problem = taintProblem({ key, value, effect });
    if (problem) throw fail(problem);
    if (taints.some((t) => t.key === key && t.effect === effect)) throw fail(`${key} with effect ${effect} is given twice`);
    taints.push(value ? { key, value, effect } : { key, effect });
  }
  return taints;
}

/** The inverse of parseLabels. */
export const formatLabels = (labels: Readonly<Record<string, string>>): string =>
  Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');

/** The inverse of parseTaints. */
export const formatTaints = (taints: readonly Taint[]): string => taints.map(formatTaint).join(',');
