import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { data, type Schemas } from '../../api/client';
import { useApi } from '../../auth/session';
import { errorText } from '../../components/query-state';
import type { Node } from '../../api/queries';

export type { Node };

export type Gpu = Schemas['GpuDto'];
export type Replica = Schemas['ReplicaDto'];
export type CreatedJoinToken = Schemas['CreatedJoinTokenDto'];

export type NodeVerb = 'approve' | 'cordon' | 'uncordon' | 'drain';

const DONE: Record<NodeVerb, string> = { approve: 'approved', cordon: 'cordoned', uncordon: 'uncordoned', drain: 'draining' };

/** Approve, cordon, uncordon or drain a node; the tables refresh with the api's answer. */
export function useNodeAction() {
  const { api } = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: async ({ node, verb }: { node: Pick<Node, 'id' | 'name'>; verb: NodeVerb }) => {
      const path = { params: { path: { id: node.id } } };
      switch (verb) {
        case 'approve':
          return data(api.POST('/api/v1/nodes/{id}/approve', path));
        case 'cordon':
          return data(api.POST('/api/v1/nodes/{id}/cordon', path));
        case 'uncordon':
          return data(api.POST('/api/v1/nodes/{id}/uncordon', path));
        case 'drain':
          return data(api.POST('/api/v1/nodes/{id}/drain', path));
      }
    },
    onSuccess: (node, { verb }) => {
      notifications.show({ color: 'green', title: `${node.name} ${DONE[verb]}`, message: node.reason ?? `status ${node.status}` });
      return queries.invalidateQueries({ queryKey: ['nodes'] });
    },
    onError: (e, { node, verb }) => notifications.show({ color: 'red', title: `Could not ${verb} ${node.name}`, message: errorText(e) }),
  });
}

export function useUpdateNode() {
  const { api } = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id: string; body: Schemas['UpdateNodeDto'] }) => data(api.PATCH('/api/v1/nodes/{id}', { params: { path: { id } }, body })),
    onSuccess: (node) => {
      notifications.show({ color: 'green', title: `${node.name} updated`, message: 'labels and taints saved' });
      return queries.invalidateQueries({ queryKey: ['nodes'] });
    },
  });
}

export function useJoinTokens(enabled: boolean) {
  const { api } = useApi();
  return useQuery({
    queryKey: ['join-tokens'],
    queryFn: async () => (await data(api.GET('/api/v1/join-tokens'))).items,
    enabled,
    refetchInterval: 10_000,
  });
}

export function useCreateJoinToken() {
  const { api } = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas['CreateJoinTokenDto']) => data(api.POST('/api/v1/join-tokens', { body })),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['join-tokens'] }),
  });
}

export function useRevokeJoinToken() {
  const { api } = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => data(api.DELETE('/api/v1/join-tokens/{id}', { params: { path: { id } } })),
    onSuccess: (t) => {
      notifications.show({ color: 'green', title: 'Join token revoked', message: `${t.prefix}… can no longer join nodes` });
      return queries.invalidateQueries({ queryKey: ['join-tokens'] });
    },
    onError: (e) => notifications.show({ color: 'red', title: 'Could not revoke the join token', message: errorText(e) }),
  });
}
