import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { useApi } from '../auth/session';
import { data, type Schemas } from './client';

/**
 * Queries that several pages read. Each key has exactly one hook and one data shape: two hooks that cached different
 * shapes under one key made a page read the other's data (Models → Nodes crashed the console).
 */

export type Node = Schemas['NodeDto'];
export type Deployment = Schemas['DeploymentDto'];
export type Team = Schemas['TeamDto'];

/** How often the fleet's figures are read again: a heartbeat comes every few seconds. */
export const NODES_REFRESH_MS = 3000;

/** Deployments change as the scheduler works: the pages read them again every 1.5 s. */
export const DEPLOYMENTS_REFRESH_MS = 1500;

/** Every node (the api shows nodes to superadmins only: pass `enabled: false` for anyone else). */
export function useNodes(enabled = true) {
  const { api } = useApi();
  return useQuery({
    queryKey: ['nodes'],
    queryFn: async (): Promise<Node[]> => (await data(api.GET('/api/v1/nodes'))).items,
    refetchInterval: NODES_REFRESH_MS,
    enabled,
  });
}

export function useNode(id: string) {
  const { api } = useApi();
  return useQuery({
    queryKey: ['nodes', id],
    queryFn: (): Promise<Node> => data(api.GET('/api/v1/nodes/{id}', { params: { path: { id } } })),
    refetchInterval: NODES_REFRESH_MS,
  });
}

/** One deployment; `until` stops the polling once its phase is final for the caller (the deploy dialog waits for Ready or Failed). */
export function useDeployment(id: string, options: { enabled?: boolean; initialData?: Deployment; until?: (d: Deployment) => boolean } = {}) {
  const { api } = useApi();
  const { enabled = true, initialData, until } = options;
  return useQuery({
    queryKey: ['deployments', id],
    queryFn: (): Promise<Deployment> => data(api.GET('/api/v1/deployments/{id}', { params: { path: { id } } })),
    refetchInterval: (q) => (until && q.state.data && until(q.state.data) ? false : DEPLOYMENTS_REFRESH_MS),
    initialData,
    enabled,
  });
}

/** The teams the caller may read (every team for superadmins, their own for anyone else). */
export function useTeams(enabled = true) {
  const { api } = useApi();
  return useQuery({
    queryKey: ['teams'],
    queryFn: async (): Promise<Team[]> => (await data(api.GET('/api/v1/teams', { params: { query: { limit: 200 } } }))).items,
    enabled,
    staleTime: 60_000,
  });
}

/**
 * Names for the ids rows carry: a team's or a node's name, or the id's first characters when the caller may not read it.
 * `withNodes: false` for a page whose rows name no node (the node list is polled while asked for).
 */
export function useNames(superadmin: boolean, withNodes = true) {
  const teams = useTeams(superadmin);
  const nodes = useNodes(superadmin && withNodes);
  return useMemo(() => {
    const team = new Map((teams.data ?? []).map((t) => [t.id, t.name]));
    const node = new Map((nodes.data ?? []).map((n) => [n.id, n.name]));
    return {
      teams: teams.data ?? [],
      team: (id: string) => team.get(id) ?? id.slice(0, 8),
      node: (id: string | null) => (id ? (node.get(id) ?? id.slice(0, 8)) : '—'),
      /** Whether the node names have come (rows show ids until then). */
      nodesLoaded: nodes.data !== undefined,
    };
  }, [teams.data, nodes.data]);
}
