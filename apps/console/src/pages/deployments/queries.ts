import { notifications } from '@mantine/notifications';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { data } from '../../api/client';
import { useApi } from '../../auth/session';
import { errorText } from '../../components/query-state';
import { DEPLOYMENTS_REFRESH_MS, type Deployment } from '../../api/queries';

export type { Deployment };

export function useDeployments(limit: number, offset: number) {
  const { api } = useApi();
  return useQuery({
    queryKey: ['deployments', { limit, offset }],
    queryFn: () => data(api.GET('/api/v1/deployments', { params: { query: { limit, offset } } })),
    refetchInterval: DEPLOYMENTS_REFRESH_MS,
    placeholderData: keepPreviousData,
  });
}

export function useScaleDeployment() {
  const { api } = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: ({ id, replicas }: { id: string; replicas: number }) => data(api.PATCH('/api/v1/deployments/{id}', { params: { path: { id } }, body: { replicas } })),
    onSuccess: (d) => {
      notifications.show({ color: 'green', title: `${d.name} scaled`, message: `${d.replicas} replica(s) wanted; the scheduler places them` });
      return queries.invalidateQueries({ queryKey: ['deployments'] });
    },
  });
}

export function useDeleteDeployment() {
  const { api } = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: ({ id }: { id: string; name: string }) => data(api.DELETE('/api/v1/deployments/{id}', { params: { path: { id } } })),
    onSuccess: (_, { id, name }) => {
      notifications.show({ color: 'green', title: `${name} deleted`, message: 'the scheduler unloads its replicas' });
      queries.removeQueries({ queryKey: ['deployments', id] });
      return queries.invalidateQueries({ queryKey: ['deployments'] });
    },
    onError: (e, { name }) => notifications.show({ color: 'red', title: `Could not delete ${name}`, message: errorText(e) }),
  });
}
