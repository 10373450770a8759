import { useState } from 'react';
import { Button, Group, Menu } from '@mantine/core';
import { ConfirmModal } from '../../components/confirm';
import { LabelsDialog } from './labels-dialog';
import { useNodeAction, type Node } from './queries';

/**
 * What a superadmin can do to a node: approve a Pending one, cordon/uncordon, drain (asks first),
 * edit labels and taints. `layout="menu"` for a table row, `"buttons"` for the detail header.
 */
export function NodeActions({ node, layout }: { node: Node; layout: 'menu' | 'buttons' }) {
  const action = useNodeAction();
  const [draining, setDraining] = useState(false);
  const [labelling, setLabelling] = useState(false);
  const busy = action.isPending && action.variables?.node.id === node.id;
  const run = (verb: 'approve' | 'cordon' | 'uncordon') => action.mutate({ node, verb });
  const held = node.cordoned || node.draining;

  const dialogs = (
    <>
      <ConfirmModal
        opened={draining}
        title={`Drain ${node.name}?`}
        confirmLabel="Drain"
        busy={busy}
        onClose={() => setDraining(false)}
        onConfirm={() => action.mutate({ node, verb: 'drain' }, { onSettled: () => setDraining(false) })}
      >
        No new jobs or replicas go to {node.name}; the {node.runningJobs.length} job(s) in flight finish. Once no replica is loaded and no job runs it shows Drained and can be removed. Uncordon ends the drain.
      </ConfirmModal>
      <LabelsDialog node={node} opened={labelling} onClose={() => setLabelling(false)} />
    </>
  );

  if (layout === 'buttons') {
    return (
      <Group gap="xs">
        {!node.approved && (
          <Button size="xs" onClick={() => run('approve')} loading={busy} disabled={node.revoked}>
            Approve
          </Button>
        )}
        {held ? (
          <Button size="xs" variant="default" onClick={() => run('uncordon')} loading={busy}>
            Uncordon
          </Button>
        ) : (
          <Button size="xs" variant="default" onClick={() => run('cordon')} loading={busy}>
            Cordon
          </Button>
        )}
        <Button size="xs" variant="default" color="red" onClick={() => setDraining(true)} disabled={node.draining}>
          Drain
        </Button>
        <Button size="xs" variant="default" onClick={() => setLabelling(true)}>
          Edit labels
        </Button>
        {dialogs}
      </Group>
    );
  }

  return (
    <>
      <Menu position="bottom-end" withinPortal>
        <Menu.Target>
          <Button size="compact-xs" variant="default" loading={busy} aria-label={`Actions for ${node.name}`} onClick={(e) => e.stopPropagation()}>
            Actions ▾
          </Button>
        </Menu.Target>
        <Menu.Dropdown onClick={(e) => e.stopPropagation()}>
          {!node.approved && (
            <Menu.Item onClick={() => run('approve')} disabled={node.revoked}>
              Approve
            </Menu.Item>
          )}
          {held ? <Menu.Item onClick={() => run('uncordon')}>Uncordon</Menu.Item> : <Menu.Item onClick={() => run('cordon')}>Cordon</Menu.Item>}
          <Menu.Item color="red" onClick={() => setDraining(true)} disabled={node.draining}>
            Drain…
          </Menu.Item>
          <Menu.Divider />
          <Menu.Item onClick={() => setLabelling(true)}>Edit labels…</Menu.Item>
        </Menu.Dropdown>
      </Menu>
      {dialogs}
    </>
  );
}
