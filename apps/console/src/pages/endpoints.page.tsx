import { useMemo, useState } from 'react';
import { Alert, Badge, Button, Group, Stack, Text, Title, Tooltip } from '@mantine/core';
import { DataTable, type DataTableSortStatus } from 'mantine-datatable';
import { isSuperadmin, useApi } from '../auth/session';
import { formatAgo, formatCount } from '../components/format';
import { QueryState } from '../components/query-state';
import { sortRows } from '../components/sort';
import { StatCards } from '../components/stat-cards';
import { AddEndpointDialog } from './endpoints/add-endpoint-dialog';
import { EndpointActions } from './endpoints/endpoint-actions';
import { ENDPOINT_KINDS, notRoutableReason, stateColor } from './endpoints/endpoint-form';
import { EndpointModels } from './endpoints/endpoint-models';
import { useEndpoints, type Endpoint } from './endpoints/queries';

export function EndpointsPage() {
  const { whoami } = useApi();
  if (!isSuperadmin(whoami)) {
    return (
      <Stack>
        <Title order={2}>Endpoints</Title>
        <Alert color="blue" title="Superadmins only">
          Endpoints (peer Gridlines, Backend.AI clusters, OpenAI-compatible servers) belong to the platform. The models they serve to your team are on the Models page.
        </Alert>
      </Stack>
    );
  }
  return <EndpointList />;
}

type SortKey = 'name' | 'kind' | 'state' | 'weight' | 'models' | 'lastCheckAt';

function sortEndpoints(endpoints: Endpoint[], s: DataTableSortStatus<Endpoint>): Endpoint[] {
  const key = s.columnAccessor as SortKey;
  const by = (e: Endpoint): string | number | null => (key === 'models' ? e.models.length : key === 'lastCheckAt' ? (e.lastCheckAt ? Date.parse(e.lastCheckAt) : null) : e[key]);
  return sortRows(endpoints, s.direction, by);
}

const kindLabel = (kind: Endpoint['kind']) => ENDPOINT_KINDS.find((k) => k.value === kind)?.label ?? kind;

function EndpointList() {
  const endpoints = useEndpoints();
  const [adding, setAdding] = useState(false);
  const [expanded, setExpanded] = useState<string[]>([]);
  const [sort, setSort] = useState<DataTableSortStatus<Endpoint>>({ columnAccessor: 'name', direction: 'asc' });
  const records = useMemo(() => sortEndpoints(endpoints.data ?? [], sort), [endpoints.data, sort]);

  return (
    <Stack>
      <Group justify="space-between">
        <div>
          <Title order={2}>Endpoints</Title>
          <Text c="dimmed" size="sm">
            Remote places that serve models: requests go there when nothing here serves the model, or down a fallback chain. Health refreshes every few seconds; click a row for its models.
          </Text>
        </div>
        <Button onClick={() => setAdding(true)}>Add endpoint</Button>
      </Group>
      <QueryState loading={endpoints.isPending} error={endpoints.error} hasData={endpoints.data !== undefined}>
        <MeshSummary endpoints={endpoints.data ?? []} />
        <DataTable<Endpoint>
          withTableBorder
          borderRadius="md"
          highlightOnHover
          verticalAlign="top"
          minHeight={records.length ? undefined : 180}
          records={records}
          idAccessor="id"
          sortStatus={sort}
          onSortStatusChange={setSort}
          noRecordsText="No endpoint yet: Add endpoint registers a peer Gridline, a Backend.AI cluster or an OpenAI-compatible server"
          customRowAttributes={(e) => ({ 'data-testid': `endpoint-row-${e.name}` })}
          rowExpansion={{ allowMultiple: true, expanded: { recordIds: expanded, onRecordIdsChange: setExpanded }, content: ({ record }) => <EndpointModels endpoint={record} /> }}
          columns={[
            {
              accessor: 'name',
              title: 'Endpoint',
              sortable: true,
              render: (e) => (
                <Stack gap={0}>
                  <Text fw={600} size="sm">
                    {e.name}
                  </Text>
                  <Tooltip label={`credential ${e.credentialHint}`}>
                    <Text size="xs" c="dimmed" style={{ wordBreak: 'break-all' }}>
                      {e.url}
                    </Text>
                  </Tooltip>
                </Stack>
              ),
            },
            { accessor: 'kind', title: 'Kind', sortable: true, width: 170, render: (e) => <Text size="sm">{kindLabel(e.kind)}</Text> },
            {
              accessor: 'state',
              title: 'Health',
              sortable: true,
              width: 260,
              render: (e) => {
                const why = notRoutableReason(e);
                return (
                  <Stack gap={2}>
                    <Group gap={4}>
                      <Tooltip label={e.lastError ?? `since ${new Date(e.stateSince).toLocaleString()}`}>
                        <Badge color={stateColor(e.state)} variant="light" data-testid="endpoint-state">
                          {e.state}
                        </Badge>
                      </Tooltip>
                      {e.circuit === 'open' && (
                        <Tooltip label={e.circuitOpenUntil ? `Requests stay away until ${new Date(e.circuitOpenUntil).toLocaleTimeString()}` : 'Requests stay away for now'}>
                          <Badge color="orange" variant="outline" data-testid="endpoint-circuit">
                            circuit open
                          </Badge>
                        </Tooltip>
                      )}
                      {!e.enabled && (
                        <Badge color="gray" variant="outline">
                          disabled
                        </Badge>
                      )}
                      <Badge color={e.routable ? 'green' : 'gray'} variant="dot" data-testid="endpoint-routable">
                        {e.routable ? 'routable' : 'not routable'}
                      </Badge>
                    </Group>
                    {why && (
                      <Text size="xs" c="dimmed" data-testid="endpoint-reason" lineClamp={3}>
                        {why}
                      </Text>
                    )}
                  </Stack>
                );
              },
            },
            { accessor: 'weight', title: 'Weight', sortable: true, textAlign: 'right', width: 80, render: (e) => <Text size="sm">{formatCount(e.weight)}</Text> },
            {
              accessor: 'models',
              title: 'Models',
              sortable: true,
              textAlign: 'right',
              width: 90,
              render: (e) => (
                <Tooltip label={e.models.map((m) => m.alias).join(', ') || 'none listed'}>
                  <Text size="sm" data-testid="endpoint-model-count">
                    {e.models.filter((m) => m.enabled && m.listed).length === e.models.length ? e.models.length : `${e.models.filter((m) => m.enabled && m.listed).length} / ${e.models.length}`}
                  </Text>
                </Tooltip>
              ),
            },
            {
              accessor: 'lastCheckAt',
              title: 'Last check',
              sortable: true,
              width: 110,
              render: (e) => (
                <Tooltip label={e.lastCheckAt ? new Date(e.lastCheckAt).toLocaleString() : 'not checked yet'}>
                  <Text size="xs">{e.lastCheckAt ? formatAgo(e.lastCheckAt) : 'never'}</Text>
                </Tooltip>
              ),
            },
            { accessor: 'remoteVersion', title: 'Version', width: 100, render: (e) => <Text size="xs">{e.remoteVersion ?? '—'}</Text> },
            { accessor: 'actions', title: '', width: 100, textAlign: 'right', render: (e) => <EndpointActions endpoint={e} /> },
          ]}
        />
      </QueryState>
      <AddEndpointDialog opened={adding} onClose={() => setAdding(false)} />
    </Stack>
  );
}

function MeshSummary({ endpoints }: { endpoints: Endpoint[] }) {
  const routable = endpoints.filter((e) => e.routable).length;
  const unhealthy = endpoints.filter((e) => e.enabled && e.state === 'unhealthy').length;
  const open = endpoints.filter((e) => e.circuit === 'open').length;
  const offered = new Set(endpoints.filter((e) => e.routable).flatMap((e) => e.models.filter((m) => m.enabled && m.listed).map((m) => m.alias)));
  const stats = [
    { label: 'Endpoints routable', value: `${routable} / ${endpoints.length}`, note: `${endpoints.filter((e) => !e.enabled).length} disabled`, testid: 'endpoints-routable' },
    { label: 'Unhealthy', value: formatCount(unhealthy), note: 'failed their last checks' },
    { label: 'Circuits open', value: formatCount(open), note: 'after failed requests' },
    { label: 'Models offered', value: formatCount(offered.size), note: 'by routable endpoints' },
  ];
  return <StatCards stats={stats} />;
}
