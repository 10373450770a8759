import { useEffect, useMemo, useState } from 'react';
import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Chip,
  Code,
  Grid,
  Group,
  Modal,
  NumberInput,
  ScrollArea,
  Select,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Textarea,
  Timeline,
  Title,
  Tooltip,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { data, type Schemas } from '../../api/client';
import { useApi } from '../../auth/session';
import { useDeployment } from '../../api/queries';
import { formatAgo, formatBytes } from '../../components/format';
import { errorText } from '../../components/query-state';
import type { Model } from './catalog';
import { DEPLOYMENT_NAME, ReviewedYamlError, bodyOf, bodyOfYaml, defaultDeploymentName, planRows, quotaLines, type DeployForm, type Plan } from './deploy-spec';
import { describeFit, fitOnNode, formatTaint, gpuSummary, ineligibility, type FitVerdict } from './fit';
import { formatLabelFilter, gpuFamilyOf, listedNodes, nodeCountStatus, nodesNeeded, parseLabelFilter, quickSelectors } from './selection';
import { FLEET_HIDDEN_NOTE, dryRun, useFleet, useRequirements } from './use-fleet';

type Deployment = Schemas['DeploymentDto'];
type Step = 'configure' | 'review' | 'deploying';

interface Props {
  opened: boolean;
  model: Model;
  models: Model[];
  initialContextSize?: number;
  initialParallel?: number;
  onClose: () => void;
}

/**
 * The deploy dialog: node selection as Headlamp-KAITO has it (GPU nodes only, quick selectors,
 * a label filter, preferred nodes with their status and taints, a node count, an instance type),
 * plus what it lacks: context and parallel sequences, a per-node fit verdict with the numbers,
 * the server's dry-run plan, the team's quota and the YAML; then Review & Deploy applies the
 * reviewed YAML and follows the deployment's conditions until it is Ready.
 */
export function DeployDialog({ opened, model, models, initialContextSize = Math.min(4096, model.contextLength ?? 4096), initialParallel = 1, onClose }: Props) {
  const [step, setStep] = useState<Step>('configure');
  const [yamlText, setYamlText] = useState('');
  const [created, setCreated] = useState<Deployment | null>(null);
  const [form, setForm] = useState<DeployForm>({
    name: defaultDeploymentName(model.name),
    model: model.name,
    replicas: 1,
    contextSize: Math.max(256, initialContextSize),
    parallel: initialParallel,
    placement: 'binpack',
    count: 1,
    instanceType: null,
    preferredNodes: [],
    matchLabels: {},
  });
  const [gpuOnly, setGpuOnly] = useState(true);
  const [labelText, setLabelText] = useState('');
  const labelFilter = useMemo(() => parseLabelFilter(labelText), [labelText]);
  const current = useMemo(() => ({ ...form, matchLabels: labelFilter.labels }), [form, labelFilter.labels]);
  const [debounced] = useDebouncedValue(current, 400);

  const title = step === 'configure' ? `Deploy ${form.model}` : step === 'review' ? `Review & Deploy ${form.name}` : `Deploying ${created?.name ?? form.name}`;
  return (
    <Modal opened={opened} onClose={onClose} title={<Title order={3}>{title}</Title>} size="min(1400px, 96vw)" padding="lg" closeOnClickOutside={false}>
      {step === 'configure' && (
        <Configure
          form={form}
          setForm={setForm}
          current={current}
          debounced={debounced}
          models={models}
          gpuOnly={gpuOnly}
          setGpuOnly={setGpuOnly}
          labelText={labelText}
          setLabelText={setLabelText}
          labelError={labelFilter.error}
          onCancel={onClose}
          onReview={(plan) => {
            setYamlText(plan.yaml);
            setStep('review');
          }}
        />
      )}
      {step === 'review' && (
        <Review
          yamlText={yamlText}
          setYamlText={setYamlText}
          onBack={() => setStep('configure')}
          onCreated={(d) => {
            setCreated(d);
            setStep('deploying');
          }}
        />
      )}
      {step === 'deploying' && created && <Progressing created={created} onClose={onClose} />}
    </Modal>
  );
}

interface ConfigureProps {
  form: DeployForm;
  setForm: (f: (prev: DeployForm) => DeployForm) => void;
  current: DeployForm;
  debounced: DeployForm;
  models: Model[];
  gpuOnly: boolean;
  setGpuOnly: (v: boolean) => void;
  labelText: string;
  setLabelText: (v: string) => void;
  labelError: string | null;
  onCancel: () => void;
  onReview: (plan: Plan) => void;
}

function Configure(p: ConfigureProps) {
  const { form, setForm, current, debounced } = p;
  const { api, fetch: authorized } = useApi();
  const set = <K extends keyof DeployForm>(key: K, value: DeployForm[K]) => setForm((prev) => ({ ...prev, [key]: value }));

  const requirements = useRequirements(debounced.model, debounced.contextSize, debounced.parallel);
  const { nodes, promised, hidden } = useFleet();
  const instanceTypes = useQuery({ queryKey: ['instance-types'], queryFn: () => data(api.GET('/api/v1/instance-types')), staleTime: Infinity });
  const nameOk = DEPLOYMENT_NAME.test(debounced.name);
  const body = useMemo(() => bodyOf(debounced), [debounced]);
  const plan = useQuery({
    queryKey: ['dry-run', body],
    queryFn: () => dryRun(authorized, body),
    enabled: nameOk && !p.labelError && debounced.contextSize >= 256,
    placeholderData: (previous) => previous,
    retry: false,
  });
  const settling = JSON.stringify(current) !== JSON.stringify(debounced) || plan.isFetching;

  const need = requirements.data;
  const listed = useMemo(() => listedNodes(nodes.data ?? [], { gpuOnly: p.gpuOnly, labels: current.matchLabels }), [nodes.data, p.gpuOnly, current.matchLabels]);
  const rows = useMemo(
    () => listed.map((n) => ({ n, why: ineligibility(n, current.matchLabels), fit: need ? fitOnNode(n, need, promised) : null })),
    [listed, current.matchLabels, need, promised],
  );
  const fitting = rows.filter((r) => r.why === null && r.fit?.fits);
  const largestCandidate = Math.max(0, ...rows.filter((r) => r.why === null).map((r) => r.fit?.freeBytes ?? 0));
  const needNodes = need ? nodesNeeded(need.totalBytes, current.replicas, largestCandidate) : null;
  const chips = useMemo(() => quickSelectors(nodes.data ?? []), [nodes.data]);
  const countStatus = nodeCountStatus(current.preferredNodes.length, current.count);

  const toggleLabel = (key: string, value: string) => {
    const labels = { ...parseLabelFilter(p.labelText).labels };
    if (labels[key] === value) delete labels[key];
    else labels[key] = value;
    p.setLabelText(formatLabelFilter(labels));
  };
  const togglePreferred = (name: string) =>
    setForm((prev) => ({ ...prev, preferredNodes: prev.preferredNodes.includes(name) ? prev.preferredNodes.filter((x) => x !== name) : [...prev.preferredNodes, name] }));

  const [gpuFamily, setGpuFamily] = useState<string | null>(null);
  const typeFamilies = useMemo(() => [...new Set((instanceTypes.data?.items ?? []).map((t) => gpuFamilyOf(t.gpuModel)))], [instanceTypes.data]);
  const typeOptions = useMemo(() => {
    const byProvider = new Map<string, { value: string; label: string }[]>();
    for (const t of instanceTypes.data?.items ?? []) {
      if (gpuFamily && gpuFamilyOf(t.gpuModel) !== gpuFamily) continue;
      const list = byProvider.get(t.provider) ?? [];
      list.push({ value: t.name, label: `${t.name} — ${t.gpuCount} × ${t.gpuModel} (${formatBytes(t.gpuMemoryBytes)})` });
      byProvider.set(t.provider, list);
    }
    return [...byProvider.entries()].map(([group, items]) => ({ group: group.toUpperCase(), items }));
  }, [instanceTypes.data, gpuFamily]);

  const result = plan.data;
  const canReview = !!result?.plan && !result.refusal && result.plan.applicable && !settling && nameOk && !p.labelError;

  return (
    <Stack>
      <Grid gap="lg">
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <Stack>
            <Card withBorder>
              <Title order={5} mb="sm">
                Model and runtime
              </Title>
              <Grid>
                <Grid.Col span={6}>
                  <Select label="Model" searchable data={p.models.map((m) => m.name)} value={form.model} onChange={(v) => v && setForm((prev) => ({ ...prev, model: v, name: defaultDeploymentName(v) }))} allowDeselect={false} />
                </Grid.Col>
                <Grid.Col span={6}>
                  <TextInput label="Deployment name" value={form.name} onChange={(e) => set('name', e.currentTarget.value)} error={DEPLOYMENT_NAME.test(form.name) ? null : 'lower-case letters, digits and dashes, up to 63'} />
                </Grid.Col>
                <Grid.Col span={4}>
                  <NumberInput label="Context size" description="tokens per sequence" value={form.contextSize} onChange={(v) => set('contextSize', Number(v) || 0)} min={256} max={1_048_576} step={1024} thousandSeparator="," error={form.contextSize < 256 ? 'at least 256' : null} />
                </Grid.Col>
                <Grid.Col span={4}>
                  <NumberInput label="Parallel sequences" description="concurrent requests per replica" value={form.parallel} onChange={(v) => set('parallel', Math.max(1, Number(v) || 1))} min={1} max={256} />
                </Grid.Col>
                <Grid.Col span={4}>
                  <NumberInput label="Replicas" description="copies of the model" value={form.replicas} onChange={(v) => set('replicas', Math.max(1, Number(v) || 1))} min={1} max={64} />
                </Grid.Col>
              </Grid>
            </Card>

            <Card withBorder>
              <Group justify="space-between" mb="xs">
                <Title order={5}>Nodes</Title>
                <Switch label="GPU nodes only" checked={p.gpuOnly} onChange={(e) => p.setGpuOnly(e.currentTarget.checked)} />
              </Group>
              {chips.length > 0 && (
                <Group gap={6} mb="xs" aria-label="Quick selectors">
                  <Text size="sm" c="dimmed">
                    Quick select:
                  </Text>
                  {chips.map((c) => (
                    <Chip key={`${c.key}=${c.value}`} size="xs" checked={current.matchLabels[c.key] === c.value} onChange={() => toggleLabel(c.key, c.value)} variant={c.kind === 'gpu' ? 'filled' : 'light'}>
                      {c.label} ({c.nodes})
                    </Chip>
                  ))}
                </Group>
              )}
              <TextInput label="Label filter" placeholder="key=value, key=value" description="Nodes must carry every label (sent as resource.labelSelector.matchLabels)" value={p.labelText} onChange={(e) => p.setLabelText(e.currentTarget.value)} error={p.labelError} mb="sm" />
              <ScrollArea.Autosize mah={260}>
                <Table striped highlightOnHover verticalSpacing={6} aria-label="Candidate nodes">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Prefer</Table.Th>
                      <Table.Th>Node</Table.Th>
                      <Table.Th w={120}>Status</Table.Th>
                      <Table.Th>GPUs · free</Table.Th>
                      <Table.Th>Fit of one replica</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {rows.length === 0 && (
                      <Table.Tr>
                        <Table.Td colSpan={5}>
                          <Text c="dimmed" ta="center" py="sm">
                            {hidden ? FLEET_HIDDEN_NOTE : nodes.isLoading ? 'Loading the fleet…' : nodes.error ? errorText(nodes.error) : 'No node matches the filter.'}
                          </Text>
                        </Table.Td>
                      </Table.Tr>
                    )}
                    {rows.map(({ n, why, fit }) => (
                      <Table.Tr key={n.id}>
                        <Table.Td>
                          <Checkbox aria-label={`Prefer ${n.name}`} checked={current.preferredNodes.includes(n.name)} onChange={() => togglePreferred(n.name)} />
                        </Table.Td>
                        <Table.Td>
                          <Text fw={600} size="sm">
                            {n.name}
                          </Text>
                          <Text size="xs" c="dimmed">
                            {formatLabelFilter(n.labels) || 'no labels'}
                          </Text>
                        </Table.Td>
                        <Table.Td style={{ whiteSpace: 'nowrap' }}>
                          <NodeStatus node={n} />
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm">{gpuSummary(n.gpus)}</Text>
                          <Text size="xs" c="dimmed">
                            {fit ? `${formatBytes(fit.freeBytes)} free` : '—'}
                          </Text>
                        </Table.Td>
                        <Table.Td data-testid={`fit-${n.name}`}>
                          <FitCell why={why} fit={fit} />
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </ScrollArea.Autosize>
              <Group mt="sm" align="flex-end">
                <NumberInput label="Node count" description="resource.count: the most nodes to use" value={form.count} onChange={(v) => set('count', Math.max(1, Number(v) || 1))} min={1} max={1024} w={200} />
                <Stack gap={4}>
                  <Badge size="lg" color={countStatus.met ? 'teal' : 'yellow'} variant="light" data-testid="count-status">
                    {countStatus.text}
                  </Badge>
                  <Text size="xs" c="dimmed">
                    {current.preferredNodes.length} preferred of {form.count}
                    {needNodes !== null && Number.isFinite(needNodes) ? ` · ${current.replicas} replica(s) need ≥ ${needNodes} node(s) of this size` : ''}
                  </Text>
                </Stack>
              </Group>
            </Card>

            <Card withBorder>
              <Title order={5} mb="xs">
                Instance type
              </Title>
              <Group gap={6} mb="xs" aria-label="GPU architectures">
                <Chip size="xs" checked={gpuFamily === null} onChange={() => setGpuFamily(null)}>
                  All GPUs
                </Chip>
                {typeFamilies.map((f) => (
                  <Chip key={f} size="xs" checked={gpuFamily === f} onChange={() => setGpuFamily(gpuFamily === f ? null : f)}>
                    {f}
                  </Chip>
                ))}
              </Group>
              <Select
                label="Instance type"
                description="From GET /api/v1/instance-types; only nodes that report this type are candidates"
                placeholder="Any (the fleet's nodes)"
                searchable
                clearable
                data={typeOptions}
                value={form.instanceType}
                onChange={(v) => set('instanceType', v)}
                nothingFoundMessage="No instance type"
              />
            </Card>
          </Stack>
        </Grid.Col>

        <Grid.Col span={{ base: 12, lg: 5 }}>
          <Stack>
            <Card withBorder>
              <Title order={5} mb="xs">
                Fit
              </Title>
              {requirements.error ? (
                <Alert color="red">{errorText(requirements.error)}</Alert>
              ) : need ? (
                <Stack gap={4} data-testid="fit-summary">
                  <Text fw={600}>
                    One replica needs {formatBytes(need.totalBytes)} of GPU memory at {debounced.contextSize.toLocaleString('en-US')} tokens × {debounced.parallel} sequence(s)
                  </Text>
                  <Text size="sm" c="dimmed">
                    weights {formatBytes(need.weightsBytes)} + KV cache {formatBytes(need.kvCacheBytes)} + compute {formatBytes(need.computeBytes)} + overhead {formatBytes(need.overheadBytes)}
                  </Text>
                  <Badge color={fitting.length ? 'teal' : 'red'} size="lg" variant="light">
                    {fitting.length} of {rows.length} listed node(s) fit a replica
                  </Badge>
                </Stack>
              ) : (
                <Text c="dimmed">Estimating…</Text>
              )}
            </Card>
            <PlanCard result={result ?? null} loading={plan.isLoading && !result} settling={settling} nameOk={nameOk} />
            {result?.plan && <QuotaCard plan={result.plan} />}
            <Card withBorder>
              <Group justify="space-between" mb="xs">
                <Title order={5}>YAML preview</Title>
                {settling && <Badge variant="light">updating…</Badge>}
              </Group>
              <ScrollArea.Autosize mah={240}>
                <Code block data-testid="yaml-preview">
                  {result?.plan?.yaml ?? '# the plan appears here once the api has planned the deployment'}
                </Code>
              </ScrollArea.Autosize>
            </Card>
          </Stack>
        </Grid.Col>
      </Grid>
      <Group justify="flex-end">
        <Button variant="default" onClick={p.onCancel}>
          Cancel
        </Button>
        <Tooltip label={result?.refusal ? 'The planner refused this deployment' : result?.plan && !result.plan.applicable ? 'The plan cannot be applied' : 'Waiting for the plan'} disabled={canReview}>
          <Button disabled={!canReview} onClick={() => result?.plan && p.onReview(result.plan)}>
            Review & Deploy
          </Button>
        </Tooltip>
      </Group>
    </Stack>
  );
}

function NodeStatus({ node: n }: { node: Schemas['NodeDto'] }) {
  return (
    <Stack gap={2}>
      <Group gap={4} wrap="nowrap">
        <Badge size="sm" color={n.status === 'Ready' ? 'teal' : 'red'} style={{ flexShrink: 0, overflow: 'visible' }} miw="fit-content">
          {n.status}
        </Badge>
        {!n.approved && (
          <Badge size="sm" color="gray">
            not approved
          </Badge>
        )}
        {n.cordoned && (
          <Badge size="sm" color="orange">
            cordoned
          </Badge>
        )}
        {n.taints.length > 0 && (
          <Badge size="sm" color="yellow">
            tainted
          </Badge>
        )}
      </Group>
      {n.taints.length > 0 && (
        <Text size="xs" ff="monospace">
          {n.taints.map(formatTaint).join(', ')}
        </Text>
      )}
    </Stack>
  );
}

function FitCell({ why, fit }: { why: string | null; fit: FitVerdict | null }) {
  if (!fit) return <Text size="sm" c="dimmed">…</Text>;
  return (
    <Group gap={6} wrap="nowrap" align="flex-start">
      <Badge size="sm" color={why ? 'gray' : fit.fits ? 'teal' : 'red'} style={{ flexShrink: 0 }}>
        {why ? 'no candidate' : fit.fits ? 'fits' : 'does not fit'}
      </Badge>
      <Text size="xs">{why ? `${why}; ${describeFit(fit)}` : describeFit(fit)}</Text>
    </Group>
  );
}

function PlanCard({ result, loading, settling, nameOk }: { result: { plan: Plan | null; refusal: { message: string; code: string } | null } | null; loading: boolean; settling: boolean; nameOk: boolean }) {
  const plan = result?.plan ?? null;
  const verdict = result?.refusal ? { color: 'red', text: 'Refused' } : plan ? (plan.applicable ? { color: 'teal', text: 'Feasible' } : { color: 'orange', text: 'Cannot be applied' }) : null;
  return (
    <Card withBorder data-testid="dry-run">
      <Group justify="space-between" mb="xs">
        <Title order={5}>Server plan (dry run)</Title>
        {verdict && (
          <Badge color={verdict.color} size="lg" data-testid="plan-verdict">
            {verdict.text}
          </Badge>
        )}
      </Group>
      {!nameOk && <Text c="dimmed">Give the deployment a valid name to plan it.</Text>}
      {loading && <Text c="dimmed">Planning…</Text>}
      {result?.refusal && (
        <Alert color="red" title={`Refused (${result.refusal.code})`} mb="sm" role="alert" data-testid="plan-refusal">
          {result.refusal.message}
        </Alert>
      )}
      {plan && (
        <Stack gap="xs" style={{ opacity: settling ? 0.6 : 1 }}>
          <Text size="sm">
            {plan.replicas.length} replica(s) on {plan.targetNodeCount} node(s) · {formatBytes(plan.memory.totalBytes)} per replica
          </Text>
          {planRows(plan).length > 0 && (
            <Table withTableBorder verticalSpacing={4} fz="xs" aria-label="Layers per GPU">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Replica</Table.Th>
                  <Table.Th>Node</Table.Th>
                  <Table.Th>GPU</Table.Th>
                  <Table.Th>Layers</Table.Th>
                  <Table.Th>Bytes</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {planRows(plan).map((r) => (
                  <Table.Tr key={`${r.replica}/${r.node}/${r.gpu}`}>
                    <Table.Td>{r.replica}</Table.Td>
                    <Table.Td>{r.node}</Table.Td>
                    <Table.Td>{r.gpu}</Table.Td>
                    <Table.Td>{r.layers}</Table.Td>
                    <Table.Td>{formatBytes(r.bytes)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
          <Stack gap={4} aria-label="Plan rules">
            {plan.rules.map((r) => (
              <Group key={r.rule} gap={6} wrap="nowrap" align="flex-start" data-testid={`rule-${r.rule}`}>
                <Badge size="xs" color={r.passed ? 'teal' : r.blocks === 'plan' ? 'red' : 'orange'} variant={r.passed ? 'light' : 'filled'} style={{ flexShrink: 0, minWidth: 52 }}>
                  {r.passed ? 'passed' : 'failed'}
                </Badge>
                <Text size="xs">
                  <b>{r.rule}</b>: {r.message}
                </Text>
              </Group>
            ))}
          </Stack>
        </Stack>
      )}
    </Card>
  );
}

function QuotaCard({ plan }: { plan: Plan }) {
  const lines = quotaLines(plan);
  const fmt = (what: string, n: number) => (what === 'GPUs' ? String(n) : formatBytes(n));
  return (
    <Card withBorder data-testid="quota">
      <Title order={5} mb="xs">
        Team GPU quota
      </Title>
      <Table verticalSpacing={4} fz="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th />
            <Table.Th>Quota</Table.Th>
            <Table.Th>In use</Table.Th>
            <Table.Th>This deployment</Table.Th>
            <Table.Th>Left after</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {lines.map((l) => (
            <Table.Tr key={l.what}>
              <Table.Td fw={600}>{l.what}</Table.Td>
              <Table.Td>{l.limit === null ? 'no limit' : fmt(l.what, l.limit)}</Table.Td>
              <Table.Td>{fmt(l.what, l.used)}</Table.Td>
              <Table.Td>+{fmt(l.what, l.adds)}</Table.Td>
              <Table.Td c={l.leftAfter !== null && l.leftAfter < 0 ? 'red' : undefined}>{l.leftAfter === null ? 'unlimited' : fmt(l.what, l.leftAfter)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Card>
  );
}

/** The editable review: what is applied is this YAML, parsed here and sent as the request. */
function Review({ yamlText, setYamlText, onBack, onCreated }: { yamlText: string; setYamlText: (v: string) => void; onBack: () => void; onCreated: (d: Deployment) => void }) {
  const { api } = useApi();
  const queryClient = useQueryClient();
  const [error, setError] = useState<{ title: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function apply() {
    setError(null);
    let body;
    try {
      body = bodyOfYaml(yamlText);
    } catch (e) {
      setError({ title: 'The YAML cannot be applied', message: e instanceof ReviewedYamlError ? e.message : String(e) });
      return;
    }
    setBusy(true);
    try {
      const created = (await data(api.POST('/api/v1/deployments', { body }))) as Deployment;
      await queryClient.invalidateQueries({ queryKey: ['deployments'] });
      onCreated(created);
    } catch (e) {
      setError({ title: 'The api refused the deployment', message: errorText(e) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <Stack>
      <Alert color="blue" variant="light">
        This is what will be applied: edit it if you need to. <Code>metadata</Code> and <Code>spec</Code> are sent; the <Code>plan</Code> block is the server&apos;s and is planned again on apply.
      </Alert>
      <Textarea label="Deployment YAML" value={yamlText} onChange={(e) => setYamlText(e.currentTarget.value)} autosize minRows={16} maxRows={26} spellCheck={false} styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 13 } }} />
      {error && (
        <Alert color="red" title={error.title} role="alert" data-testid="apply-error">
          {error.message}
        </Alert>
      )}
      <Group justify="space-between">
        <Button variant="default" onClick={onBack}>
          Back
        </Button>
        <Button onClick={apply} loading={busy}>
          Deploy
        </Button>
      </Group>
    </Stack>
  );
}

const CONDITION_COLORS: Record<string, string> = { Ready: 'teal', Failed: 'red', Degraded: 'orange', Loading: 'blue', Placed: 'indigo', Pending: 'gray' };

/** The new deployment's conditions, polled until it is Ready (or Failed). */
function Progressing({ created, onClose }: { created: Deployment; onClose: () => void }) {
  const d = useDeployment(created.id, { initialData: created, until: (x) => x.phase === 'Ready' || x.phase === 'Failed' });
  const dep = d.data ?? created;
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const ready = dep.phase === 'Ready';
  return (
    <Stack>
      <Group justify="space-between">
        <Group>
          <Text fw={600} size="lg">
            {dep.name}
          </Text>
          <Text c="dimmed">{dep.model}</Text>
        </Group>
        <Badge size="xl" color={CONDITION_COLORS[dep.phase] ?? 'gray'} data-testid="deployment-phase">
          {dep.phase}
        </Badge>
      </Group>
      <Text size="sm">
        {dep.readyReplicas} of {dep.replicas} replica(s) ready
      </Text>
      <Timeline active={dep.conditions.length - 1} bulletSize={18} lineWidth={2} aria-label="Conditions">
        {dep.conditions.map((c, i) => (
          <Timeline.Item key={`${c.type}-${c.at}-${i}`} color={CONDITION_COLORS[c.type] ?? 'gray'} title={`${c.type} · ${c.reason}`}>
            <Text size="sm">{c.message}</Text>
            <Text size="xs" c="dimmed">
              {formatAgo(c.at, now)}
            </Text>
          </Timeline.Item>
        ))}
      </Timeline>
      {(dep.status?.replicas.length ?? 0) > 0 && (
        <Table withTableBorder fz="sm" verticalSpacing={4} aria-label="Replicas">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Replica</Table.Th>
              <Table.Th>Node</Table.Th>
              <Table.Th>State</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {dep.status?.replicas.map((r) => (
              <Table.Tr key={r.id}>
                <Table.Td ff="monospace">{r.id.slice(0, 8)}</Table.Td>
                <Table.Td>{r.nodeName}</Table.Td>
                <Table.Td>
                  <Badge size="sm" color={CONDITION_COLORS[r.state] ?? 'gray'}>
                    {r.state}
                  </Badge>
                  {r.reason ? ` ${r.reason}` : ''}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {ready && (
        <Alert color="teal" title="Ready" data-testid="deployment-ready">
          {dep.name} serves {dep.model}: {dep.readyReplicas} replica(s) ready.
        </Alert>
      )}
      {dep.phase === 'Failed' && (
        <Alert color="red" title="Failed" role="alert">
          {dep.conditions.at(-1)?.message}
        </Alert>
      )}
      <Group justify="flex-end">
        <Button variant="default" onClick={onClose}>
          Close
        </Button>
        <Button component={Link} to={`/deployments/${dep.id}`} onClick={onClose}>
          Open deployment
        </Button>
      </Group>
    </Stack>
  );
}
