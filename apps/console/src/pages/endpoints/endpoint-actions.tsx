import { useState } from 'react';
import { Button, Menu } from '@mantine/core';
import { ConfirmModal } from '../../components/confirm';
import { useEndpointAction, useRemoveEndpoint, type Endpoint } from './queries';

/** What a superadmin can do to an endpoint from its row: check it now, enable or disable it, remove it (asks first). */
export function EndpointActions({ endpoint }: { endpoint: Endpoint }) {
  const action = useEndpointAction();
  const remove = useRemoveEndpoint();
  const [removing, setRemoving] = useState(false);
  const busy = action.isPending && action.variables?.endpoint.id === endpoint.id;
  const closeRemove = () => {
    setRemoving(false);
    remove.reset();
  };
  return (
    <>
      <Menu position="bottom-end" withinPortal>
        <Menu.Target>
          <Button size="compact-xs" variant="default" loading={busy} aria-label={`Actions for ${endpoint.name}`} onClick={(e) => e.stopPropagation()}>
            Actions ▾
          </Button>
        </Menu.Target>
        <Menu.Dropdown onClick={(e) => e.stopPropagation()}>
          <Menu.Item onClick={() => action.mutate({ endpoint, verb: 'refresh' })} disabled={!endpoint.enabled}>
            Refresh
          </Menu.Item>
          {endpoint.enabled ? (
            <Menu.Item onClick={() => action.mutate({ endpoint, verb: 'disable' })}>Disable</Menu.Item>
          ) : (
            <Menu.Item onClick={() => action.mutate({ endpoint, verb: 'enable' })}>Enable</Menu.Item>
          )}
          <Menu.Divider />
          <Menu.Item color="red" onClick={() => setRemoving(true)}>
            Remove…
          </Menu.Item>
        </Menu.Dropdown>
      </Menu>
      <ConfirmModal
        opened={removing}
        title={`Remove ${endpoint.name}?`}
        confirmLabel="Remove"
        busy={remove.isPending}
        error={remove.error}
        onClose={closeRemove}
        onConfirm={() => remove.mutate(endpoint, { onSuccess: closeRemove })}
      >
        Nothing is routed to {endpoint.url} any more and its {endpoint.models.length} model(s) are no longer offered from there; fallback chains naming them skip them. Jobs it served keep its id in their history.
      </ConfirmModal>
    </>
  );
}
