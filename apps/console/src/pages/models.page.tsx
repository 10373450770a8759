import { useMemo, useState } from 'react';
import { Badge, Button, Card, Group, SegmentedControl, SimpleGrid, Stack, Text, TextInput, Title, Tooltip } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link, Route, Routes, useNavigate } from 'react-router-dom';
import { data } from '../api/client';
import { isTeamAdmin, useApi } from '../auth/session';
import { formatBytes } from '../components/format';
import { QueryState } from '../components/query-state';
import { familiesOf, filterModels, formatTokens, toolSupportText, type Model } from './models/catalog';
import { DeployDialog } from './models/deploy-dialog';
import { ModelDetail } from './models/model-detail';
import { Fact } from '../components/fact';

export function ModelsPage() {
  return (
    <Routes>
      <Route index element={<ModelCatalog />} />
      <Route path=":name" element={<ModelDetail />} />
    </Routes>
  );
}

/** The catalog: a card per model with the facts of its GGUF, a search box and a family filter. */
function ModelCatalog() {
  const { api, whoami } = useApi();
  const models = useQuery({ queryKey: ['models'], queryFn: () => data(api.GET('/api/v1/models', { params: { query: { limit: 200 } } })) });
  const [search, setSearch] = useState('');
  const [family, setFamily] = useState<string>('all');
  const [deploying, setDeploying] = useState<Model | null>(null);
  const items = useMemo(() => models.data?.items ?? [], [models.data]);
  const shown = useMemo(() => filterModels(items, search, family === 'all' ? null : family), [items, search, family]);
  const families = familiesOf(items);

  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Models</Title>
          <Text c="dimmed" size="sm">
            The catalog: facts read from each GGUF header. Open a model for its GPU memory at a context size and the nodes that can hold it.
          </Text>
        </div>
        <Group align="flex-end">
          <TextInput label="Search models" placeholder="name, family, quantization…" value={search} onChange={(e) => setSearch(e.currentTarget.value)} w={280} />
          {families.length > 0 && (
            <div>
              <Text size="sm" fw={500} mb={4}>
                Family
              </Text>
              <SegmentedControl aria-label="Family" value={family} onChange={setFamily} data={[{ value: 'all', label: 'All' }, ...families.map((f) => ({ value: f, label: f }))]} />
            </div>
          )}
        </Group>
      </Group>
      <QueryState loading={models.isLoading} error={models.error}>
        {shown.length === 0 ? (
          <Card withBorder p="xl">
            <Text ta="center" c="dimmed">
              {items.length === 0 ? 'The catalog is empty: register a GGUF with POST /api/v1/models or `gridline models add`.' : `No model matches “${search}”.`}
            </Text>
          </Card>
        ) : (
          <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }}>
            {shown.map((m) => (
              <ModelCard key={m.id} model={m} canDeploy={isTeamAdmin(whoami)} onDeploy={() => setDeploying(m)} />
            ))}
          </SimpleGrid>
        )}
      </QueryState>
      {deploying && <DeployDialog opened model={deploying} models={items} onClose={() => setDeploying(null)} />}
    </Stack>
  );
}

function ModelCard({ model: m, canDeploy, onDeploy }: { model: Model; canDeploy: boolean; onDeploy: () => void }) {
  const navigate = useNavigate();
  return (
    <Card withBorder shadow="xs" radius="md" padding="lg" data-testid={`model-card-${m.name}`} aria-label={`Model ${m.name}`}>
      <Group justify="space-between" wrap="nowrap" mb="xs">
        <Text fw={700} size="lg" component={Link} to={`/models/${encodeURIComponent(m.name)}`} style={{ textDecoration: 'none', color: 'inherit' }} truncate>
          {m.name}
        </Text>
        <Group gap={6} wrap="nowrap">
          <Badge variant="light">{m.family}</Badge>
          {m.headerOnly && (
            <Tooltip label="The file has no weights: it plans, and never deploys">
              <Badge color="gray" variant="outline">
                header only
              </Badge>
            </Tooltip>
          )}
        </Group>
      </Group>
      <SimpleGrid cols={3} spacing="xs" verticalSpacing="xs" mb="md">
        <Fact label="Architecture">{m.architecture}</Fact>
        <Fact label="Size">{formatBytes(m.sizeBytes)}</Fact>
        <Fact label="Quantization">{m.quantization ?? '—'}</Fact>
        <Fact label="Context">{`${formatTokens(m.contextLength)} tokens`}</Fact>
        <Fact label="Layers">{m.layers === null ? '—' : String(m.layers)}</Fact>
        <Fact label="Tools">{toolSupportText(m.toolSupport)}</Fact>
      </SimpleGrid>
      <Group justify="flex-end" gap="xs">
        <Button variant="default" size="xs" onClick={() => navigate(`/models/${encodeURIComponent(m.name)}`)}>
          Details
        </Button>
        {canDeploy && (
          <Button size="xs" onClick={onDeploy}>
            Deploy
          </Button>
        )}
      </Group>
    </Card>
  );
}
