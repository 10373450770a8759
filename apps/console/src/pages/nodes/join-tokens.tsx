import { useState } from 'react';
import { Badge, Button, Text } from '@mantine/core';
import { DataTable } from 'mantine-datatable';
import { ConfirmModal } from '../../components/confirm';
import { formatAgo } from '../../components/format';
import { Section } from '../../components/section';
import { errorText } from '../../components/query-state';
import { LabelBadges } from './labels';
import { useJoinTokens, useRevokeJoinToken } from './queries';
import type { Schemas } from '../../api/client';

type JoinToken = Schemas['JoinTokenDto'];

const STATE_COLOR: Record<JoinToken['state'], string> = { active: 'green', expired: 'gray', revoked: 'red', used: 'gray' };

/** The join tokens issued so far (never the tokens themselves): who may still join, and revoking. */
export function JoinTokens() {
  const tokens = useJoinTokens(true);
  const revoke = useRevokeJoinToken();
  const [revoking, setRevoking] = useState<JoinToken | null>(null);
  const rows = [...(tokens.data ?? [])].sort((a, b) => Number(b.state === 'active') - Number(a.state === 'active') || b.createdAt.localeCompare(a.createdAt)).slice(0, 10);
  return (
    <Section title="Join tokens">
      {tokens.error ? (
        <Text c="red" size="sm">
          {errorText(tokens.error)}
        </Text>
      ) : (
        <DataTable<JoinToken>
          withTableBorder={false}
          minHeight={rows.length ? undefined : 120}
          fetching={tokens.isPending}
          records={rows}
          noRecordsText="No join token yet"
          columns={[
            { accessor: 'prefix', title: 'Token', render: (t) => <Text ff="monospace" size="xs">{t.prefix}…</Text> },
            { accessor: 'description', render: (t) => <Text size="sm">{t.description || '—'}</Text> },
            { accessor: 'state', render: (t) => <Badge size="sm" variant="light" color={STATE_COLOR[t.state]}>{t.state}</Badge> },
            { accessor: 'uses', title: 'Joins', render: (t) => `${t.uses} / ${t.maxUses ?? '∞'}` },
            { accessor: 'autoApprove', title: 'Approval', render: (t) => (t.autoApprove ? 'automatic' : 'by an admin') },
            { accessor: 'labels', render: (t) => <LabelBadges labels={t.labels} /> },
            { accessor: 'expiresAt', title: 'Expires', render: (t) => new Date(t.expiresAt).toLocaleString() },
            { accessor: 'createdAt', title: 'Created', render: (t) => formatAgo(t.createdAt) },
            {
              accessor: 'revoke',
              title: '',
              textAlign: 'right',
              render: (t) =>
                t.state === 'active' && (
                  <Button size="compact-xs" variant="subtle" color="red" onClick={() => setRevoking(t)}>
                    Revoke
                  </Button>
                ),
            },
          ]}
        />
      )}
      <ConfirmModal
        opened={revoking !== null}
        title="Revoke this join token?"
        confirmLabel="Revoke"
        busy={revoke.isPending}
        onClose={() => setRevoking(null)}
        onConfirm={() => revoking && revoke.mutate(revoking.id, { onSettled: () => setRevoking(null) })}
      >
        No new node joins with {revoking?.prefix}… any more. Nodes that already joined keep their credentials.
      </ConfirmModal>
    </Section>
  );
}
