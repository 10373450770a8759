import { StatCards } from '../../components/stat-cards';
import { useEffect, useState } from 'react';
import { Alert, Anchor, Badge, Breadcrumbs, Button, Code, CopyButton, Group, NumberInput, ScrollArea, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { isSuperadmin, isTeamAdmin, useApi } from '../../auth/session';
import { ConfirmModal } from '../../components/confirm';
import { formatAgo, formatBytes } from '../../components/format';
import { QueryState, errorText } from '../../components/query-state';
import { Section } from '../../components/section';
import { useDeployment } from '../../api/queries';
import { useDeleteDeployment, useScaleDeployment, type Deployment } from './queries';
import { MAX_REPLICAS, conditionHistory, desiredOf, isWarning, nodesOf, phaseColor, replicaStateColor, scaleRequest } from './rollout';

/** /deployments/:id — one deployment, live: its conditions, replicas and their nodes, events, YAML; scale and delete. */
export function DeploymentDetail() {
  const { id = '' } = useParams();
  const [deleted, setDeleted] = useState(false);
  const deployment = useDeployment(id, { enabled: !deleted });
  return (
    <Stack>
      <Breadcrumbs>
        <Anchor component={Link} to="/deployments" size="sm">
          Deployments
        </Anchor>
        <Text size="sm">{deployment.data?.name ?? id}</Text>
      </Breadcrumbs>
      <QueryState loading={deployment.isPending} error={deployment.error} hasData={deployment.data !== undefined}>
        {deployment.data && <DeploymentView d={deployment.data} onDeleted={() => setDeleted(true)} />}
      </QueryState>
    </Stack>
  );
}

function DeploymentView({ d, onDeleted }: { d: Deployment; onDeleted(): void }) {
  const { whoami } = useApi();
  const canChange = isTeamAdmin(whoami);
  const nodeLinks = isSuperadmin(whoami);
  const current = d.conditions.at(-1);
  const runtime = d.runtime as { contextSize?: number; parallel?: number; kvCacheType?: string };
  const planned = d.plan?.memory as { totalBytes?: number } | undefined;
  const stats: [string, React.ReactNode, string][] = [
    ['Ready replicas', `${d.readyReplicas} / ${desiredOf(d)}`, d.minReplicas !== null ? `${d.minReplicas} kept loaded, up to ${d.replicas}` : `${d.replicas} wanted`],
    ['Model', d.model, d.pinned ? 'pinned: never evicted' : 'evictable when idle'],
    ['Runtime', `${runtime.contextSize ?? '—'} tokens × ${runtime.parallel ?? 1}`, `context × parallel sequences${runtime.kvCacheType ? `, KV ${runtime.kvCacheType}` : ''}`],
    ['Placement', d.placement, planned?.totalBytes ? `${formatBytes(planned.totalBytes)} per replica planned` : `${nodesOf(d).length} node(s)`],
  ];

  return (
    <Stack>
      <Group justify="space-between" align="flex-start">
        <Stack gap={4}>
          <Group gap="sm">
            <Title order={2}>{d.name}</Title>
            <Badge size="lg" variant="light" color={phaseColor(d.phase)} data-testid="deployment-phase">
              {d.phase}
            </Badge>
          </Group>
          <Text size="sm" c="dimmed" data-testid="deployment-message">
            {current ? `${current.reason}: ${current.message}` : 'Waiting for the scheduler'}
          </Text>
        </Stack>
        {canChange && <Controls d={d} onDeleted={onDeleted} />}
      </Group>

      <StatCards stats={stats.map(([label, value, note]) => ({ label, value, note, testid: `stat-${label.toLowerCase().replace(/ /g, '-')}` }))} />

      <Section title="Conditions" testId="deployment-conditions">
        <Table striped highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Type</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Reason</Table.Th>
              <Table.Th>Message</Table.Th>
              <Table.Th>Time</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {conditionHistory(d.conditions).map((c, i) => (
              <Table.Tr key={`${c.at}-${i}`} data-testid={c.current ? 'condition-current' : undefined}>
                <Table.Td>
                  <Group gap={6}>
                    <Badge variant={c.current ? 'filled' : 'light'} color={phaseColor(c.type)}>
                      {c.type}
                    </Badge>
                    {c.current && (
                      <Text size="xs" c="dimmed">
                        now
                      </Text>
                    )}
                  </Group>
                </Table.Td>
                <Table.Td>{c.status ? 'True' : 'False'}</Table.Td>
                <Table.Td>
                  <Text size="sm" fw={500}>
                    {c.reason}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{c.message}</Text>
                </Table.Td>
                <Table.Td>
                  <Tooltip label={new Date(c.at).toLocaleString()}>
                    <Text size="sm">{formatAgo(c.at)}</Text>
                  </Tooltip>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Section>

      <Stack>
        <Section title={`Replicas (${d.status?.replicas.length ?? 0})`} testId="deployment-replicas">
          {!d.status?.replicas.length ? (
            <Text size="sm" c="dimmed">
              {d.status ? 'No replica placed.' : 'The scheduler has not looked at this deployment yet.'}
            </Text>
          ) : (
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Replica</Table.Th>
                  <Table.Th>Node</Table.Th>
                  <Table.Th>State</Table.Th>
                  <Table.Th>Reason</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {d.status.replicas.map((r) => (
                  <Table.Tr key={r.id} data-testid={`replica-${r.id}`}>
                    <Table.Td>
                      <Text ff="monospace" size="xs">
                        {r.id.slice(0, 8)}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Stack gap={2}>
                        {(r.members?.length ? r.members : [{ nodeId: r.nodeId, nodeName: r.nodeName, role: null as string | null, layers: null as number[] | null }]).map((m) => (
                          <Group key={m.nodeId} gap={4}>
                            {nodeLinks ? (
                              <Anchor component={Link} to={`/nodes/${m.nodeId}`} size="sm">
                                {m.nodeName}
                              </Anchor>
                            ) : (
                              <Text size="sm">{m.nodeName}</Text>
                            )}
                            {m.role && (
                              <Text size="xs" c="dimmed">
                                {m.role}
                                {m.layers ? `, layers ${m.layers[0]}–${m.layers[1]}` : ''}
                              </Text>
                            )}
                          </Group>
                        ))}
                      </Stack>
                    </Table.Td>
                    <Table.Td>
                      <Badge size="sm" variant="light" color={replicaStateColor(r.state)} data-testid="replica-state">
                        {r.state}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" c="dimmed">
                        {r.reason ?? '—'}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Section>

        <Section title="Events" testId="deployment-events">
          {d.events.length === 0 ? (
            <Text size="sm" c="dimmed">
              No event yet.
            </Text>
          ) : (
            <ScrollArea.Autosize mah={320}>
              <Table>
                <Table.Tbody>
                  {[...d.events].reverse().map((e, i) => (
                    <Table.Tr key={`${e.at}-${i}`}>
                      <Table.Td w={100} style={{ whiteSpace: 'nowrap' }}>
                        <Tooltip label={new Date(e.at).toLocaleString()}>
                          <Text size="xs" c="dimmed">
                            {formatAgo(e.at)}
                          </Text>
                        </Tooltip>
                      </Table.Td>
                      <Table.Td w={150}>
                        <Badge size="sm" variant="light" color={isWarning(e.reason) ? 'red' : 'gray'} tt="none">
                          {e.reason}
                        </Badge>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{e.message}</Text>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </ScrollArea.Autosize>
          )}
        </Section>
      </Stack>

      {d.plan?.yaml && (
        <Section
          title="YAML"
          testId="deployment-yaml"
          right={
            <CopyButton value={d.plan.yaml}>
              {({ copied, copy }) => (
                <Button size="xs" variant="light" color={copied ? 'teal' : 'blue'} onClick={copy}>
                  {copied ? 'Copied' : 'Copy YAML'}
                </Button>
              )}
            </CopyButton>
          }
        >
          <Code block>{d.plan.yaml}</Code>
        </Section>
      )}
    </Stack>
  );
}

/** Scale (replicas → PATCH, planned again by the api) and delete (asks first). */
function Controls({ d, onDeleted }: { d: Deployment; onDeleted(): void }) {
  const navigate = useNavigate();
  const scale = useScaleDeployment();
  const remove = useDeleteDeployment();
  const [replicas, setReplicas] = useState<number | string>(d.replicas);
  const [problem, setProblem] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);

  // Follow the spec when it changes elsewhere, unless the user is editing.
  useEffect(() => setReplicas(d.replicas), [d.replicas]);

  function apply() {
    const r = scaleRequest(d, replicas);
    if ('problem' in r) return setProblem(r.problem);
    setProblem(null);
    scale.mutate({ id: d.id, replicas: r.body.replicas }, { onError: (e) => setProblem(errorText(e)) });
  }

  return (
    <Stack gap={4} align="flex-end">
      <Group gap="xs" align="flex-end">
        <NumberInput label="Replicas" min={1} max={MAX_REPLICAS} value={replicas} onChange={setReplicas} w={110} size="xs" allowDecimal={false} />
        <Button size="xs" onClick={apply} loading={scale.isPending} disabled={Number(replicas) === d.replicas}>
          Scale
        </Button>
        <Button size="xs" color="red" variant="light" onClick={() => setConfirming(true)}>
          Delete
        </Button>
      </Group>
      {problem && (
        <Alert color="red" role="alert" py={4} px="xs" maw={520}>
          {problem}
        </Alert>
      )}
      <ConfirmModal
        opened={confirming}
        title={`Delete ${d.name}?`}
        confirmLabel="Delete deployment"
        busy={remove.isPending}
        onClose={() => setConfirming(false)}
        onConfirm={() =>
          remove.mutate(
            { id: d.id, name: d.name },
            {
              onSuccess: () => {
                onDeleted();
                navigate('/deployments');
              },
              onSettled: () => setConfirming(false),
            },
          )
        }
      >
        The scheduler unloads its {d.status?.replicas.length ?? 0} replica(s); jobs in flight on them finish first. Requests for {d.model} are then served only by other deployments.
      </ConfirmModal>
    </Stack>
  );
}
