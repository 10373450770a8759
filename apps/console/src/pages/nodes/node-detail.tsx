import { Anchor, Badge, Breadcrumbs, Group, Progress, SimpleGrid, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import { DataTable } from 'mantine-datatable';
import { Link, useParams } from 'react-router-dom';
import { formatAgo, formatBytes, formatCount } from '../../components/format';
import { QueryState } from '../../components/query-state';
import { Section } from '../../components/section';
import { scheduling, statusColor } from './fleet';
import { GpuMemory } from './gpu-memory';
import { LabelBadges } from './labels';
import { NodeActions } from './node-actions';
import { useNode } from '../../api/queries';
import type { Node, Replica } from './queries';

/** /nodes/:id — one node: its GPUs, the replicas it holds with their memory, the jobs running, labels and taints. */
export function NodeDetail() {
  const { id = '' } = useParams();
  const node = useNode(id);
  return (
    <Stack>
      <Breadcrumbs>
        <Anchor component={Link} to="/nodes" size="sm">
          Nodes
        </Anchor>
        <Text size="sm">{node.data?.name ?? id}</Text>
      </Breadcrumbs>
      <QueryState loading={node.isPending} error={node.error}>
        {node.data && <NodeView node={node.data} />}
      </QueryState>
    </Stack>
  );
}

function NodeView({ node }: { node: Node }) {
  const inv = node.inventory;
  const facts: [string, React.ReactNode][] = [
    ['Approval', node.approved ? 'approved' : 'waiting for a superadmin'],
    ['Scheduling', scheduling(node)],
    ['Agent', `${inv.agentVersion} · ${inv.backend}${inv.llamaCppVersion ? ` · llama.cpp ${inv.llamaCppVersion}` : ''}`],
    ['Platform', `${inv.platform}/${inv.arch} · ${inv.cpuCores} CPU cores`],
    ['Host memory', `${formatBytes(inv.totalMemoryBytes - inv.freeMemoryBytes)} used of ${formatBytes(inv.totalMemoryBytes)}`],
    ['Disk free', formatBytes(inv.diskFreeBytes)],
    ['Capabilities', inv.capabilities.length ? inv.capabilities.join(', ') : '—'],
    ['Last heartbeat', `${formatAgo(node.lastHeartbeatAt)} (${new Date(node.lastHeartbeatAt).toLocaleTimeString()})`],
    ['Joined', new Date(node.registeredAt).toLocaleString()],
  ];
  return (
    <Stack>
      <Group justify="space-between" align="flex-start">
        <Stack gap={4}>
          <Group gap="sm">
            <Title order={2}>{node.name}</Title>
            <Badge color={statusColor(node.status)} variant="light" size="lg" data-testid="node-status">
              {node.status}
            </Badge>
            {node.revoked && (
              <Badge color="red" variant="outline">
                credential revoked
              </Badge>
            )}
          </Group>
          <Text size="sm" c="dimmed" data-testid="node-reason">
            {node.reason ?? 'Ready: takes new jobs and replicas'}
          </Text>
        </Stack>
        <NodeActions node={node} layout="buttons" />
      </Group>

      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <Section title="Overview">
          <Table withRowBorders={false} verticalSpacing={4}>
            <Table.Tbody>
              {facts.map(([k, v]) => (
                <Table.Tr key={k}>
                  <Table.Td w={140}>
                    <Text size="sm" c="dimmed">
                      {k}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{v}</Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Section>
        <Stack>
          <Section title={`GPUs (${node.gpus.length})`} testId="node-gpus">
            {node.gpus.length === 0 ? (
              <Text size="sm" c="dimmed">
                No GPU: models run on the CPU.
              </Text>
            ) : (
              <Stack gap="md">
                {node.gpus.map((g) => (
                  <Stack key={g.index} gap={2}>
                    <GpuMemory gpu={g} />
                    {(g.utilizationPercent != null || g.temperatureC != null) && (
                      <Text size="xs" c="dimmed">
                        {g.utilizationPercent != null ? `${g.utilizationPercent}% busy` : ''} {g.temperatureC != null ? `· ${g.temperatureC} °C` : ''}
                      </Text>
                    )}
                  </Stack>
                ))}
              </Stack>
            )}
          </Section>
          <Section title="Labels and taints">
            <LabelBadges labels={node.labels} taints={node.taints} empty="No labels or taints" />
          </Section>
        </Stack>
      </SimpleGrid>

      <Section title={`Replicas (${node.replicas.length})`} testId="node-replicas">
        <DataTable<Replica>
          withTableBorder={false}
          minHeight={node.replicas.length ? undefined : 120}
          records={node.replicas}
          noRecordsText="No replica on this node"
          columns={[
            { accessor: 'model', render: (r) => <Text size="sm" fw={500}>{r.model}</Text> },
            {
              accessor: 'state',
              render: (r) => (
                <Stack gap={2}>
                  <Group gap={4}>
                    <Badge size="sm" variant="light" color={r.state === 'Ready' ? 'green' : r.state === 'Failed' ? 'red' : 'blue'}>
                      {r.state}
                    </Badge>
                    {r.desired === 'Unloaded' && (
                      <Badge size="sm" variant="outline" color="gray">
                        unloading
                      </Badge>
                    )}
                  </Group>
                  {r.reason && (
                    <Text size="xs" c="dimmed">
                      {r.reason}
                    </Text>
                  )}
                  {r.pull && r.state === 'Pulling' && <Progress value={r.pull.percent} size="sm" aria-label="pulled" />}
                </Stack>
              ),
            },
            {
              accessor: 'memory',
              title: 'GPU memory',
              render: (r) =>
                r.memory ? (
                  <Tooltip label={`planned ${formatBytes(r.memory.estimateBytes)}; host memory ${formatBytes(r.memory.cpuBytes)}`}>
                    <Text size="sm">{formatBytes(r.memory.gpuBytes)}</Text>
                  </Tooltip>
                ) : (
                  <Text size="sm" c="dimmed">
                    —
                  </Text>
                ),
            },
            { accessor: 'gpuIndexes', title: 'GPUs', render: (r) => (r.gpuIndexes.length ? r.gpuIndexes.join(', ') : '—') },
            { accessor: 'gpuLayers', title: 'Layers on GPU', render: (r) => (r.gpuLayers == null ? '—' : `${r.gpuLayers}${r.totalLayers ? ` / ${r.totalLayers}` : ''}`) },
            { accessor: 'busySequences', title: 'Sequences busy', render: (r) => `${r.busySequences} / ${r.parallel}` },
            { accessor: 'queueDepth', title: 'Queued', textAlign: 'right' },
            { accessor: 'tokensPerSecond', title: 'Tokens/s', textAlign: 'right', render: (r) => (r.tokensPerSecond == null ? '—' : r.tokensPerSecond.toFixed(1)) },
            { accessor: 'origin', render: (r) => (r.group ? `${r.origin} (${r.group.role})` : r.origin) },
          ]}
        />
      </Section>

      <Section title={`Jobs in flight (${formatCount(node.runningJobs.length)})`} testId="node-jobs">
        {node.runningJobs.length === 0 ? (
          <Text size="sm" c="dimmed">
            No job is running on this node.
          </Text>
        ) : (
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Job</Table.Th>
                <Table.Th>Attempt</Table.Th>
                <Table.Th>Replica</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {node.runningJobs.map((j) => (
                <Table.Tr key={`${j.jobId}-${j.attempt}`}>
                  <Table.Td>
                    <Anchor component={Link} to={`/jobs/${j.jobId}`} ff="monospace" size="sm">
                      {j.jobId}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{j.attempt}</Table.Td>
                  <Table.Td>{node.replicas.find((r) => r.id === j.replicaId)?.model ?? j.replicaId ?? '—'}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Section>
    </Stack>
  );
}
