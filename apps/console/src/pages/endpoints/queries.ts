import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { data, type Schemas } from '../../api/client';
import { useApi } from '../../auth/session';
import { errorText } from '../../components/query-state';
import type { CreateEndpointBody } from './endpoint-form';

export type Endpoint = Schemas['EndpointDto'];
export type EndpointModel = Schemas['EndpointModelDto'];

/** How often the endpoints are read again: their health moves with each check (every 15 s by default) and with failed requests. */
export const ENDPOINTS_REFRESH_MS = 5000;

/** Every registered endpoint (superadmins only). */
export function useEndpoints() {
  const { api } = useApi();
  return useQuery({
    queryKey: ['endpoints'],
    queryFn: async (): Promise<Endpoint[]> => (await data(api.GET('/api/v1/endpoints'))).items,
    refetchInterval: ENDPOINTS_REFRESH_MS,
  });
}

/** Registers an endpoint; the api's handshake refusal (422) stays on the mutation for the dialog to show. */
export function useCreateEndpoint() {
  const { api } = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateEndpointBody) => data(api.POST('/api/v1/endpoints', { body })),
    onSuccess: (e) => {
      notifications.show({ color: 'green', title: `${e.name} registered`, message: `${e.models.length} model(s) listed, ${e.state}` });
      return queries.invalidateQueries({ queryKey: ['endpoints'] });
    },
  });
}

export type EndpointVerb = 'refresh' | 'enable' | 'disable';

const DONE: Record<EndpointVerb, string> = { refresh: 'checked', enable: 'enabled', disable: 'disabled' };

/** Check now (and refresh the catalog), enable or disable an endpoint; the table refreshes with the api's answer. */
export function useEndpointAction() {
  const { api } = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: ({ endpoint, verb }: { endpoint: Pick<Endpoint, 'id' | 'name'>; verb: EndpointVerb }) => {
      const path = { params: { path: { id: endpoint.id } } };
      return verb === 'refresh' ? data(api.POST('/api/v1/endpoints/{id}/refresh', path)) : data(api.PATCH('/api/v1/endpoints/{id}', { ...path, body: { enabled: verb === 'enable' } }));
    },
    onSuccess: (e, { verb }) => {
      notifications.show({ color: 'green', title: `${e.name} ${DONE[verb]}`, message: e.lastError ? `${e.state}: ${e.lastError}` : e.state });
      return queries.invalidateQueries({ queryKey: ['endpoints'] });
    },
    onError: (e, { endpoint, verb }) => notifications.show({ color: 'red', title: `Could not ${verb} ${endpoint.name}`, message: errorText(e) }),
  });
}

/** Removes an endpoint: nothing is routed there any more; its jobs keep its id. */
export function useRemoveEndpoint() {
  const { api } = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (endpoint: Pick<Endpoint, 'id' | 'name'>) => data(api.DELETE('/api/v1/endpoints/{id}', { params: { path: { id: endpoint.id } } })),
    onSuccess: (_, endpoint) => {
      notifications.show({ color: 'green', title: `${endpoint.name} removed`, message: 'its models are no longer offered from there' });
      return queries.invalidateQueries({ queryKey: ['endpoints'] });
    },
  });
}

/** Offers one of an endpoint's models or withdraws it. */
export function useUpdateEndpointModel() {
  const { api } = useApi();
  const queries = useQueryClient();
  return useMutation({
    mutationFn: ({ endpoint, remoteModel, body }: { endpoint: Pick<Endpoint, 'id'>; remoteModel: string; body: Schemas['UpdateEndpointModelDto'] }) =>
      data(api.PATCH('/api/v1/endpoints/{id}/models/{remoteModel}', { params: { path: { id: endpoint.id, remoteModel } }, body })),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['endpoints'] }),
    onError: (e, { remoteModel }) => notifications.show({ color: 'red', title: `Could not change ${remoteModel}`, message: errorText(e) }),
  });
}
