import { StatCards } from '../components/stat-cards';
import { useMemo, useState } from 'react';
import { Alert, Anchor, Badge, Button, Group, Stack, Text, Title, Tooltip } from '@mantine/core';
import { DataTable, type DataTableSortStatus } from 'mantine-datatable';
import { Link, Route, Routes } from 'react-router-dom';
import { isSuperadmin, useApi } from '../auth/session';
import { formatAgo, formatBytes, formatCount } from '../components/format';
import { QueryState } from '../components/query-state';
import { fleetUsage, scheduling, statusColor } from './nodes/fleet';
import { GpuMemory } from './nodes/gpu-memory';
import { JoinTokenDialog } from './nodes/join-token-dialog';
import { JoinTokens } from './nodes/join-tokens';
import { LabelBadges } from './nodes/labels';
import { NodeActions } from './nodes/node-actions';
import { NodeDetail } from './nodes/node-detail';
import { useNodes, type Node } from '../api/queries';
import { sortRows } from '../components/sort';

export function NodesPage() {
  const { whoami } = useApi();
  if (!isSuperadmin(whoami)) {
    return (
      <Stack>
        <Title order={2}>Nodes</Title>
        <Alert color="blue" title="Superadmins only">
          The fleet belongs to the platform: its nodes are shown to superadmins. Your deployments and where they run are on the Deployments page.
        </Alert>
      </Stack>
    );
  }
  return (
    <Routes>
      <Route index element={<NodeList />} />
      <Route path=":id" element={<NodeDetail />} />
    </Routes>
  );
}

type SortKey = 'name' | 'status' | 'lastHeartbeatAt' | 'gpus';

function sortNodes(nodes: Node[], s: DataTableSortStatus<Node>): Node[] {
  const key = s.columnAccessor as SortKey;
  const by = (n: Node): string | number => (key === 'gpus' ? fleetUsage(n.gpus).usedPercent : key === 'lastHeartbeatAt' ? Date.parse(n.lastHeartbeatAt) : n[key]);
  return sortRows(nodes, s.direction, by);
}

function NodeList() {
  const nodes = useNodes();
  const [adding, setAdding] = useState(false);
  const [sort, setSort] = useState<DataTableSortStatus<Node>>({ columnAccessor: 'name', direction: 'asc' });
  const records = useMemo(() => sortNodes(nodes.data ?? [], sort), [nodes.data, sort]);

  return (
    <Stack>
      <Group justify="space-between">
        <div>
          <Title order={2}>Nodes</Title>
          <Text c="dimmed" size="sm">
            GPU hosts running the Gridline agent. Figures refresh every few seconds from their heartbeats.
          </Text>
        </div>
        <Button onClick={() => setAdding(true)}>Add node</Button>
      </Group>
      <QueryState loading={nodes.isPending} error={nodes.error} hasData={nodes.data !== undefined}>
        <FleetSummary nodes={nodes.data ?? []} />
        <DataTable<Node>
          withTableBorder
          borderRadius="md"
          highlightOnHover
          verticalAlign="top"
          minHeight={records.length ? undefined : 180}
          records={records}
          idAccessor="id"
          sortStatus={sort}
          onSortStatusChange={setSort}
          noRecordsText="No node has joined yet: Add node prints the command to run on a GPU host"
          customRowAttributes={(n) => ({ 'data-testid': `node-row-${n.name}` })}
          columns={[
            {
              accessor: 'name',
              title: 'Node',
              sortable: true,
              render: (n) => (
                <Stack gap={0}>
                  <Anchor component={Link} to={`/nodes/${n.id}`} fw={600} size="sm">
                    {n.name}
                  </Anchor>
                  <Tooltip label={`agent ${n.inventory.agentVersion}${n.inventory.llamaCppVersion ? `, llama.cpp ${n.inventory.llamaCppVersion}` : ''}`}>
                    <Text size="xs" c="dimmed">
                      {n.inventory.platform}/{n.inventory.arch} · {n.inventory.backend}
                    </Text>
                  </Tooltip>
                </Stack>
              ),
            },
            {
              accessor: 'status',
              title: 'Status',
              sortable: true,
              width: 200,
              render: (n) => (
                <Stack gap={2}>
                  <Group gap={4}>
                    <Badge color={statusColor(n.status)} variant="light" data-testid="node-status">
                      {n.status}
                    </Badge>
                    {!n.approved && (
                      <Badge color="blue" variant="outline">
                        not approved
                      </Badge>
                    )}
                    {n.approved && (
                      <Tooltip label={scheduling(n) === 'Schedulable' ? 'New jobs and replicas may go here' : 'No new jobs or replicas go here'}>
                        <Badge color={scheduling(n) === 'Schedulable' ? 'gray' : 'yellow'} variant="dot" data-testid="node-scheduling">
                          {scheduling(n)}
                        </Badge>
                      </Tooltip>
                    )}
                  </Group>
                  {n.reason && (
                    <Text size="xs" c="dimmed" data-testid="node-reason">
                      {n.reason}
                    </Text>
                  )}
                </Stack>
              ),
            },
            {
              accessor: 'gpus',
              title: 'GPUs and memory',
              sortable: true,
              width: 290,
              render: (n) =>
                n.gpus.length === 0 ? (
                  <Text size="xs" c="dimmed">
                    no GPU (CPU only)
                  </Text>
                ) : (
                  <Stack gap={6}>
                    {n.gpus.map((g) => (
                      <GpuMemory key={g.index} gpu={g} compact />
                    ))}
                  </Stack>
                ),
            },
            {
              accessor: 'replicas',
              title: 'Replicas',
              width: 150,
              render: (n) =>
                n.replicas.length === 0 ? (
                  <Text size="xs" c="dimmed">
                    none
                  </Text>
                ) : (
                  <Stack gap={6}>
                    {n.replicas.map((r) => (
                      <Stack key={r.id} gap={0}>
                        <Text size="xs" fw={500}>
                          {r.model}
                        </Text>
                        <Group gap={4} wrap="nowrap">
                          <Badge size="xs" variant="dot" tt="none" color={r.state === 'Ready' ? 'green' : r.state === 'Failed' ? 'red' : 'blue'}>
                            {r.state}
                          </Badge>
                          {r.memory && (
                            <Text size="xs" c="dimmed">
                              {formatBytes(r.memory.gpuBytes)}
                            </Text>
                          )}
                        </Group>
                      </Stack>
                    ))}
                  </Stack>
                ),
            },
            { accessor: 'runningJobs', title: 'Jobs', textAlign: 'right', width: 70, render: (n) => <Text size="sm">{formatCount(n.runningJobs.length)}</Text> },
            { accessor: 'labels', title: 'Labels and taints', render: (n) => <LabelBadges labels={n.labels} taints={n.taints} /> },
            {
              accessor: 'lastHeartbeatAt',
              title: 'Heartbeat',
              sortable: true,
              width: 100,
              render: (n) => (
                <Tooltip label={new Date(n.lastHeartbeatAt).toLocaleString()}>
                  <Text size="xs">{formatAgo(n.lastHeartbeatAt)}</Text>
                </Tooltip>
              ),
            },
            { accessor: 'actions', title: '', width: 100, textAlign: 'right', render: (n) => <NodeActions node={n} layout="menu" /> },
          ]}
        />
        <JoinTokens />
      </QueryState>
      <JoinTokenDialog opened={adding} onClose={() => setAdding(false)} />
    </Stack>
  );
}

function FleetSummary({ nodes }: { nodes: Node[] }) {
  const gpus = nodes.flatMap((n) => n.gpus);
  const usage = fleetUsage(gpus);
  const ready = nodes.filter((n) => n.status === 'Ready').length;
  const pending = nodes.filter((n) => !n.approved).length;
  const replicas = nodes.reduce((a, n) => a + n.replicas.length, 0);
  const jobs = nodes.reduce((a, n) => a + n.runningJobs.length, 0);
  const stats = [
    { label: 'Nodes Ready', value: `${ready} / ${nodes.length}`, note: pending ? `${pending} waiting for approval` : 'all approved' },
    { label: 'GPUs', value: formatCount(gpus.length), note: gpus.some((g) => g.simulated) ? `${gpus.filter((g) => g.simulated).length} simulated` : 'physical' },
    { label: 'GPU memory free', value: formatBytes(usage.freeBytes), note: `${formatBytes(usage.usedBytes)} used of ${formatBytes(usage.totalBytes)}` },
    { label: 'Replicas / jobs in flight', value: `${replicas} / ${jobs}`, note: 'across the fleet' },
  ];
  return <StatCards stats={stats} />;
}
