import type { HealthSettings } from './endpoint-spec';

export type HealthState = 'unknown' | 'healthy' | 'unhealthy';

export interface HealthCounters {
  state: HealthState;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
}

/**
 * An active check's outcome applied to an endpoint's health: `unhealthyThreshold` failures in a
 * row make it unhealthy, `healthyThreshold` passes in a row make it healthy again. An endpoint
 * whose health is unknown takes the first outcome's side at once.
 */
export function nextHealth(current: HealthCounters, passed: boolean, s: Pick<HealthSettings, 'unhealthyThreshold' | 'healthyThreshold'>): HealthCounters & { changed: boolean } {
  const consecutiveFailures = passed ? 0 : current.consecutiveFailures + 1;
  const consecutiveSuccesses = passed ? current.consecutiveSuccesses + 1 : 0;
  let state = current.state;
  if (state === 'unknown') state = passed ? 'healthy' : 'unhealthy';
  else if (state === 'healthy' && consecutiveFailures >= s.unhealthyThreshold) state = 'unhealthy';
  else if (state === 'unhealthy' && consecutiveSuccesses >= s.healthyThreshold) state = 'healthy';
  return { state, consecutiveFailures, consecutiveSuccesses, changed: state !== current.state };
}

/**
 * One of the candidates, chosen with probability proportional to its weight (`random` in [0, 1)).
 * A zero weight is never chosen while another has weight; all zero: the first.
 */
export function pickWeighted<T extends { weight: number }>(candidates: readonly T[], random: number = Math.random()): T | null {
  if (candidates.length === 0) return null;
  const total = candidates.reduce((sum, c) => sum + Math.max(0, c.weight), 0);
  if (total <= 0) return candidates[0];
  let at = random * total;
  for (const c of candidates) {
    at -= Math.max(0, c.weight);
    if (at < 0) return c;
  }
  return candidates[candidates.length - 1];
}

/** Pause before retry number `retry` (1, 2, …): exponential from `baseMs`, capped, with equal jitter (half fixed, half random; `random` in [0, 1)). */
export function backoffMs(retry: number, random: number = Math.random(), baseMs = 100, capMs = 2000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
