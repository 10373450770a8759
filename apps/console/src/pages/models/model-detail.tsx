import { useMemo, useState } from 'react';
import { Alert, Anchor, Badge, Breadcrumbs, Button, Card, Group, NumberInput, Progress, SimpleGrid, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router-dom';
import { data } from '../../api/client';
import { isTeamAdmin, useApi } from '../../auth/session';
import { formatBytes } from '../../components/format';
import { QueryState, errorText } from '../../components/query-state';
import { formatTokens, toolSupportText } from './catalog';
import { DeployDialog } from './deploy-dialog';
import { describeFit, fitOnNode, gpuSummary, ineligibility } from './fit';
import { FLEET_HIDDEN_NOTE, useFleet, useRequirements, type Requirements } from './use-fleet';
import { Fact } from '../../components/fact';

/** One model: its facts, the GPU memory a replica needs at a chosen context and parallel sequences, and which nodes could hold one now. */
export function ModelDetail() {
  const { name = '' } = useParams();
  const { api, whoami } = useApi();
  const model = useQuery({ queryKey: ['model', name], queryFn: () => data(api.GET('/api/v1/models/{name}', { params: { path: { name } } })) });
  const models = useQuery({ queryKey: ['models'], queryFn: () => data(api.GET('/api/v1/models', { params: { query: { limit: 200 } } })) });
  const [chosenContext, setContextSize] = useState<number | null>(null);
  // Until the user chooses: 4096 tokens, or the trained context when it is smaller.
  const contextSize = chosenContext ?? Math.min(4096, model.data?.contextLength ?? 4096);
  const [parallel, setParallel] = useState(1);
  const [debounced] = useDebouncedValue({ contextSize, parallel }, 300);
  // Asked once the model is known, so the first figure is at its default context, not a guess.
  const requirements = useRequirements(model.data ? name : '', debounced.contextSize, debounced.parallel);
  const [deploying, setDeploying] = useState(false);
  const m = model.data;

  return (
    <Stack>
      <Breadcrumbs>
        <Anchor component={Link} to="/models">
          Models
        </Anchor>
        <Text>{name}</Text>
      </Breadcrumbs>
      <QueryState loading={model.isLoading} error={model.error}>
        {m && (
          <>
            <Group justify="space-between">
              <Group gap="sm">
                <Title order={2}>{m.name}</Title>
                <Badge variant="light">{m.family}</Badge>
                {m.quantization && <Badge variant="outline">{m.quantization}</Badge>}
                {m.headerOnly && <Badge color="gray">header only: plans, never deploys</Badge>}
              </Group>
              {isTeamAdmin(whoami) && (
                <Button onClick={() => setDeploying(true)} disabled={!requirements.data}>
                  Deploy…
                </Button>
              )}
            </Group>
            <Card withBorder>
              <SimpleGrid cols={{ base: 2, md: 4, xl: 8 }}>
                <Fact label="Architecture" size="md">{m.architecture}</Fact>
                <Fact label="File size" size="md">{formatBytes(m.sizeBytes)}</Fact>
                <Fact label="Weights" size="md">{formatBytes(m.parameterBytes)}</Fact>
                <Fact label="Quantization" size="md">{m.quantization ?? '—'}</Fact>
                <Fact label="Trained context" size="md">{`${formatTokens(m.contextLength)} tokens`}</Fact>
                <Fact label="Layers" size="md">{m.layers === null ? '—' : String(m.layers)}</Fact>
                <Fact label="Tool calling" size="md">{toolSupportText(m.toolSupport)}</Fact>
                <Fact label="Memory figure" size="md">{m.memoryOverrideBytes ? `${formatBytes(m.memoryOverrideBytes)} (admin)` : 'estimated'}</Fact>
              </SimpleGrid>
            </Card>
            <Card withBorder>
              <Title order={4} mb="sm">
                Requirements
              </Title>
              <Group align="flex-end" mb="md">
                <NumberInput label="Context size (tokens per sequence)" value={contextSize} onChange={(v) => setContextSize(Number(v) || 0)} min={1} max={1_048_576} step={1024} w={260} thousandSeparator="," />
                <NumberInput label="Parallel sequences" value={parallel} onChange={(v) => setParallel(Number(v) || 0)} min={1} max={256} w={180} />
              </Group>
              {requirements.error ? (
                <Alert color="red" title="The api refused">
                  {errorText(requirements.error)}
                </Alert>
              ) : requirements.data ? (
                <Breakdown r={requirements.data} />
              ) : (
                <Text c="dimmed">Estimating…</Text>
              )}
            </Card>
            {requirements.data && <FleetFit r={requirements.data} />}
            {deploying && requirements.data && (
              <DeployDialog opened model={m} models={models.data?.items ?? [m]} initialContextSize={contextSize} initialParallel={parallel} onClose={() => setDeploying(false)} />
            )}
          </>
        )}
      </QueryState>
    </Stack>
  );
}

const PARTS = [
  { key: 'weightsBytes', label: 'Weights', color: 'blue' },
  { key: 'kvCacheBytes', label: 'KV cache', color: 'grape' },
  { key: 'computeBytes', label: 'Compute buffers', color: 'orange' },
  { key: 'overheadBytes', label: 'Overhead', color: 'gray' },
] as const;

/** The GPU memory of one replica by kind, as a bar and figures. */
export function Breakdown({ r }: { r: Requirements }) {
  return (
    <Stack gap="xs" data-testid="requirements">
      <Group justify="space-between">
        <Text fw={600} size="lg" data-testid="requirement-total">
          {formatBytes(r.totalBytes)} of GPU memory per replica
        </Text>
        <Text size="sm" c="dimmed">
          {r.layers} layers on GPUs, largest {formatBytes(r.largestLayerBytes)} · host memory {formatBytes(r.hostBytes)}
        </Text>
      </Group>
      <Progress.Root size={18}>
        {PARTS.map((p) => (
          <Tooltip key={p.key} label={`${p.label}: ${formatBytes(r[p.key])}`}>
            <Progress.Section value={r.totalBytes ? (100 * r[p.key]) / r.totalBytes : 0} color={p.color} />
          </Tooltip>
        ))}
      </Progress.Root>
      <Group gap="lg">
        {PARTS.map((p) => (
          <Group key={p.key} gap={6}>
            <Badge color={p.color} variant="dot" size="lg">
              {p.label}
            </Badge>
            <Text size="sm">{formatBytes(r[p.key])}</Text>
          </Group>
        ))}
      </Group>
      {r.notes.length > 0 && (
        <Text size="xs" c="dimmed">
          {r.notes.join(' · ')}
        </Text>
      )}
    </Stack>
  );
}

/** Each node of the fleet against one replica now, and how many could hold one. */
function FleetFit({ r }: { r: Requirements }) {
  const { nodes, promised, hidden } = useFleet();
  const rows = useMemo(
    () =>
      (nodes.data ?? []).map((n) => {
        const why = ineligibility(n);
        return { n, why, fit: fitOnNode(n, r, promised) };
      }),
    [nodes.data, r, promised],
  );
  const holding = rows.filter((x) => x.why === null && x.fit.fits).length;
  return (
    <Card withBorder>
      <Group justify="space-between" mb="sm">
        <Title order={4}>Fleet</Title>
        {nodes.data && (
          <Badge size="lg" color={holding > 0 ? 'teal' : 'red'} data-testid="nodes-that-fit">
            {holding} of {rows.length} nodes could hold a replica now
          </Badge>
        )}
      </Group>
      {hidden ? (
        <Text c="dimmed">{FLEET_HIDDEN_NOTE}</Text>
      ) : (
        <QueryState loading={nodes.isLoading} error={nodes.error}>
          <Table striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Node</Table.Th>
                <Table.Th>GPUs</Table.Th>
                <Table.Th>Free GPU memory</Table.Th>
                <Table.Th>Verdict</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map(({ n, why, fit }) => (
                <Table.Tr key={n.id} data-testid={`fleet-fit-${n.name}`}>
                  <Table.Td fw={600} style={{ whiteSpace: 'nowrap' }}>
                    {n.name}
                  </Table.Td>
                  <Table.Td>{gpuSummary(n.gpus)}</Table.Td>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatBytes(fit.freeBytes)}</Table.Td>
                  <Table.Td>
                    <Group gap="xs" wrap="nowrap">
                      <Badge color={why ? 'gray' : fit.fits ? 'teal' : 'red'} style={{ flexShrink: 0 }}>
                        {why ? 'not a candidate' : fit.fits ? 'fits' : 'does not fit'}
                      </Badge>
                      <Text size="sm">{why ?? describeFit(fit)}</Text>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </QueryState>
      )}
    </Card>
  );
}
