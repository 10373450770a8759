import { useMemo } from 'react';
import { useQuery } from '@tanstack/react-query';
import { ApiError, apiErrorOf, data, type AuthorizedFetch, type Schemas } from '../../api/client';
import { isSuperadmin, useApi } from '../../auth/session';
import { useNodes } from '../../api/queries';
import type { Plan, DeploymentBody } from './deploy-spec';
import { promisedBytes } from './fit';

export type Requirements = Schemas['RequirementsDto'];

/**
 * The fleet as the planner sees it: nodes, and the GPU bytes stored deployments' plans promise on them (refreshed every few seconds).
 * The api shows nodes to superadmins only: for anyone else they are not asked for, and `hidden` says so.
 */
export function useFleet() {
  const { api, whoami } = useApi();
  const superadmin = isSuperadmin(whoami);
  const nodes = useNodes(superadmin);
  const deployments = useQuery({ queryKey: ['deployments', 'plans'], queryFn: () => data(api.GET('/api/v1/deployments', { params: { query: { limit: 200 } } })), refetchInterval: 5000 });
  const promised = useMemo(() => promisedBytes((deployments.data?.items ?? []).map((d) => d.plan)), [deployments.data]);
  return { nodes, deployments, promised, hidden: !superadmin || fleetHidden(nodes.error) };
}

/** Whether the fleet is hidden from the caller (nodes are for superadmins): then the server's plan is the only fit check. */
const fleetHidden = (error: unknown): boolean => error instanceof ApiError && error.status === 403;

export const FLEET_HIDDEN_NOTE = 'The nodes are visible to superadmins only; the server plan checks your deployment against the whole fleet.';

/** GPU memory one replica of the model needs at a context size and parallel sequences. */
export function useRequirements(model: string, contextSize: number, parallel: number) {
  const { api } = useApi();
  const valid = Number.isInteger(contextSize) && contextSize >= 1 && Number.isInteger(parallel) && parallel >= 1;
  return useQuery({
    queryKey: ['requirements', model, contextSize, parallel],
    queryFn: () => data(api.GET('/api/v1/models/{name}/requirements', { params: { path: { name: model }, query: { contextSize, parallel } } })),
    enabled: valid && !!model,
    placeholderData: (previous) => previous,
    retry: false,
  });
}

export interface DryRun {
  /** The plan: on 200, and on a 422 that carries it (infeasible: every rule with its numbers). */
  plan: Plan | null;
  refusal: ApiError | null;
}

/** POST /api/v1/deployments?dryRun=true: the plan, or the refusal and the plan it carries. */
export async function dryRun(authorized: AuthorizedFetch, body: DeploymentBody): Promise<DryRun> {
  const res = await authorized('/api/v1/deployments?dryRun=true', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.ok) return { plan: (await res.json()) as Plan, refusal: null };
  const refusal = await apiErrorOf(res);
  let plan: Plan | null = null;
  try {
    plan = ((await res.json()) as { plan?: Plan }).plan ?? null;
  } catch {
    // no body: the refusal says it all
  }
  return { plan, refusal };
}
