import { useState } from 'react';
import { Anchor, Badge, Button, Group, Progress, Stack, Text, Title, Tooltip } from '@mantine/core';
import { DataTable, type DataTableSortStatus } from 'mantine-datatable';
import { Link, Route, Routes } from 'react-router-dom';
import { isSuperadmin, isTeamAdmin, useApi } from '../auth/session';
import { QueryState } from '../components/query-state';
import { DeploymentDetail } from './deployments/deployment-detail';
import { useNames } from '../api/queries';
import { useDeployments, type Deployment } from './deployments/queries';
import { age, desiredOf, nodesOf, phaseColor } from './deployments/rollout';
import { sortRows } from '../components/sort';

export function DeploymentsPage() {
  return (
    <Routes>
      <Route index element={<DeploymentList />} />
      <Route path=":id" element={<DeploymentDetail />} />
    </Routes>
  );
}

const PAGE_SIZE = 25;

type SortKey = 'name' | 'model' | 'phase' | 'createdAt';

function sortDeployments(items: Deployment[], s: DataTableSortStatus<Deployment>): Deployment[] {
  const key = s.columnAccessor as SortKey;
  return sortRows(items, s.direction, (d) => d[key]);
}

function DeploymentList() {
  const { whoami } = useApi();
  const [page, setPage] = useState(1);
  const [sort, setSort] = useState<DataTableSortStatus<Deployment>>({ columnAccessor: 'createdAt', direction: 'desc' });
  const list = useDeployments(PAGE_SIZE, (page - 1) * PAGE_SIZE);
  const names = useNames(isSuperadmin(whoami), false);
  const records = sortDeployments(list.data?.items ?? [], sort);

  return (
    <Stack>
      <Group justify="space-between">
        <div>
          <Title order={2}>Deployments</Title>
          <Text c="dimmed" size="sm">
            Models placed on the fleet: the scheduler keeps each at its replicas, and says why when it cannot.
          </Text>
        </div>
        {isTeamAdmin(whoami) && (
          <Button component={Link} to="/models">
            New deployment
          </Button>
        )}
      </Group>
      <QueryState loading={list.isPending} error={list.error} hasData={list.data !== undefined}>
        <DataTable<Deployment>
          withTableBorder
          borderRadius="md"
          highlightOnHover
          verticalAlign="top"
          minHeight={records.length ? undefined : 200}
          records={records}
          idAccessor="id"
          sortStatus={sort}
          onSortStatusChange={setSort}
          totalRecords={list.data?.total ?? 0}
          recordsPerPage={PAGE_SIZE}
          page={page}
          onPageChange={setPage}
          noRecordsText="No deployment yet: pick a model on the Models page and deploy it"
          customRowAttributes={(d) => ({ 'data-testid': `deployment-row-${d.name}` })}
          columns={[
            {
              accessor: 'name',
              sortable: true,
              render: (d) => (
                <Anchor component={Link} to={`/deployments/${d.id}`} fw={600} size="sm">
                  {d.name}
                </Anchor>
              ),
            },
            { accessor: 'model', sortable: true, render: (d) => <Text size="sm">{d.model}</Text> },
            {
              accessor: 'phase',
              sortable: true,
              width: 340,
              render: (d) => {
                const now = d.conditions.at(-1);
                return (
                  <Stack gap={2}>
                    <Badge color={phaseColor(d.phase)} variant="light" data-testid="deployment-phase">
                      {d.phase}
                    </Badge>
                    {now && (
                      <Text size="xs" c="dimmed" lineClamp={2} title={now.message}>
                        {now.reason}: {now.message}
                      </Text>
                    )}
                  </Stack>
                );
              },
            },
            {
              accessor: 'readyReplicas',
              title: 'Ready',
              width: 110,
              render: (d) => (
                <Stack gap={4}>
                  <Text size="sm" data-testid="deployment-ready">
                    {d.readyReplicas}/{desiredOf(d)}
                  </Text>
                  <Progress size="xs" value={desiredOf(d) ? (100 * d.readyReplicas) / desiredOf(d) : 0} color={d.readyReplicas >= desiredOf(d) ? 'green' : 'blue'} aria-hidden />
                </Stack>
              ),
            },
            {
              accessor: 'nodes',
              render: (d) => {
                const nodes = nodesOf(d);
                return nodes.length ? (
                  <Group gap={4}>
                    {nodes.map((n) => (
                      <Badge key={n.id} size="sm" variant="outline" color="gray" tt="none">
                        {n.name}
                      </Badge>
                    ))}
                  </Group>
                ) : (
                  <Text size="xs" c="dimmed">
                    —
                  </Text>
                );
              },
            },
            ...(isSuperadmin(whoami) ? [{ accessor: 'teamId', title: 'Team', render: (d: Deployment) => <Text size="sm">{names.team(d.teamId)}</Text> }] : []),
            {
              accessor: 'createdAt',
              title: 'Age',
              sortable: true,
              render: (d) => (
                <Tooltip label={new Date(d.createdAt).toLocaleString()}>
                  <Text size="sm">{age(d.createdAt)}</Text>
                </Tooltip>
              ),
            },
          ]}
        />
      </QueryState>
    </Stack>
  );
}
