import { StatCards } from '../components/stat-cards';
import { BarChart } from '@mantine/charts';
import { Alert, Button, Card, Chip, Group, SegmentedControl, Select, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useQuery } from '@tanstack/react-query';
import { DataTable, type DataTableColumn, type DataTableSortStatus } from 'mantine-datatable';
import { useMemo, useState } from 'react';
import { apiErrorOf, data, type Schemas } from '../api/client';
import { useTeams } from '../api/queries';
import { isSuperadmin, isTeamAdmin, useApi } from '../auth/session';
import { formatCount, formatMs } from '../components/format';
import { QueryState, errorText } from '../components/query-state';
import { daysBetween, grandTotal, tokensPerDay, totalsBy, type SplitBy } from './usage/usage-chart';

type Row = Schemas['UsageRowDto'];
const GROUPS = ['team', 'model', 'key', 'user', 'day', 'endpoint'] as const;
type Group = (typeof GROUPS)[number];
const DAY_MS = 24 * 3600 * 1000;
const COLORS = ['blue.6', 'teal.6', 'violet.6', 'orange.6', 'pink.6', 'cyan.6', 'lime.7', 'grape.6', 'yellow.7', 'indigo.6'];

const today = () => new Date().toISOString().slice(0, 10);
const daysAgo = (n: number) => new Date(Date.now() - n * DAY_MS).toISOString().slice(0, 10);

/** The period as the api takes it: from the first day's start to the end of the last day (exclusive). */
function period(from: string, to: string): { from: string; to: string } {
  return { from: `${from}T00:00:00.000Z`, to: new Date(Date.parse(`${to}T00:00:00.000Z`) + DAY_MS).toISOString() };
}

const keyOf = (r: Row, groups: readonly Group[]) =>
  groups.map((g) => (g === 'team' ? r.team?.id : g === 'model' ? r.model : g === 'key' ? r.key?.id : g === 'user' ? r.user?.id : g === 'endpoint' ? r.endpoint?.id : r.day) ?? '-').join('|');

/** Where the jobs ran: this cluster, a registered endpoint, or one removed since (only its id is left). */
const endpointName = (r: Row) => (r.endpoint === null ? 'local' : (r.endpoint.name ?? `removed ${r.endpoint.id.slice(0, 8)}`));

export function UsagePage() {
  const { api, whoami, fetch: authorized } = useApi();
  const superadmin = isSuperadmin(whoami);
  const [from, setFrom] = useState(daysAgo(13));
  const [to, setTo] = useState(today());
  const [teamId, setTeamId] = useState<string | null>(null);
  const [groups, setGroups] = useState<Group[]>(['team', 'model', 'day']);
  const [split, setSplit] = useState<SplitBy>('model');
  const [sort, setSort] = useState<DataTableSortStatus<Row>>({ columnAccessor: 'totalTokens', direction: 'desc' });
  const valid = /^\d{4}-\d{2}-\d{2}$/.test(from) && /^\d{4}-\d{2}-\d{2}$/.test(to) && from <= to;
  const range = valid ? period(from, to) : null;
  const teams = useTeams(superadmin);
  const base = { ...(range ?? {}), ...(teamId ? { teamId } : {}) };
  // The charts always read team, model and day (sums over any of them are exact); the table reads the chosen grouping.
  const chart = useQuery({
    queryKey: ['usage', base, 'chart'],
    queryFn: () => data(api.GET('/api/v1/usage', { params: { query: { ...base, groupBy: 'team,model,day' } } })),
    enabled: isTeamAdmin(whoami) && valid,
  });
  const groupBy = GROUPS.filter((g) => groups.includes(g)).join(',');
  const table = useQuery({
    queryKey: ['usage', base, groupBy],
    queryFn: () => data(api.GET('/api/v1/usage', { params: { query: { ...base, ...(groupBy ? { groupBy } : {}) } } })),
    enabled: isTeamAdmin(whoami) && valid && groups.length > 0,
  });

  const items = chart.data?.items ?? [];
  const days = useMemo(() => (valid ? daysBetween(from, to) : []), [valid, from, to]);
  const perDay = useMemo(() => tokensPerDay(items, split, days), [items, split, days]);
  const totals = useMemo(() => totalsBy(items, split), [items, split]);
  const sum = grandTotal(items);
  const succeeded = items.reduce((n, i) => n + i.outcomes.succeeded, 0);

  const rows = useMemo(() => {
    const list = table.data?.items ?? [];
    const v = (r: Row): number | string => {
      switch (sort.columnAccessor) {
        case 'requests':
          return r.requests;
        case 'promptTokens':
          return r.promptTokens;
        case 'completionTokens':
          return r.completionTokens;
        case 'day':
          return r.day ?? '';
        case 'model':
          return r.model ?? '';
        case 'team':
          return r.team?.name ?? '';
        default:
          return r.promptTokens + r.completionTokens;
      }
    };
    return [...list].sort((a, b) => {
      const x = v(a);
      const y = v(b);
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return sort.direction === 'asc' ? c : -c;
    });
  }, [table.data, sort]);

  const download = async () => {
    try {
      const q = new URLSearchParams({ ...base, groupBy: groupBy || 'team,model,day', format: 'csv' });
      const res = await authorized(`/api/v1/usage?${q}`);
      if (!res.ok) throw await apiErrorOf(res);
      const blob = await res.blob();
      const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'gridline-usage.csv';
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    } catch (e) {
      notifications.show({ color: 'red', title: 'CSV not downloaded', message: errorText(e) });
    }
  };

  if (!isTeamAdmin(whoami)) {
    return (
      <Stack>
        <Title order={2}>Usage</Title>
        <Alert color="blue" title="For team admins">
          Usage covers the whole team, so team admins and superadmins see it. Your own jobs, with their tokens and timings, are on the Jobs page.
        </Alert>
      </Stack>
    );
  }

  const columns: DataTableColumn<Row>[] = [
    ...(groups.includes('team') ? [{ accessor: 'team', sortable: true, render: (r: Row) => r.team?.name ?? '—' }] : []),
    ...(groups.includes('model') ? [{ accessor: 'model', sortable: true, noWrap: true, render: (r: Row) => r.model ?? '—' }] : []),
    ...(groups.includes('key') ? [{ accessor: 'key', render: (r: Row) => (r.key ? `${r.key.kind}: ${r.key.label}` : '—') }] : []),
    ...(groups.includes('user') ? [{ accessor: 'user', render: (r: Row) => r.user?.email ?? r.user?.id?.slice(0, 8) ?? '—' }] : []),
    ...(groups.includes('day') ? [{ accessor: 'day', sortable: true, noWrap: true, render: (r: Row) => r.day ?? '—' }] : []),
    ...(groups.includes('endpoint') ? [{ accessor: 'endpoint', title: 'Served by', noWrap: true, render: (r: Row) => endpointName(r) }] : []),
    { accessor: 'requests', sortable: true, textAlign: 'right', render: (r) => formatCount(r.requests) },
    { accessor: 'outcomes', title: 'OK / failed / cancelled', noWrap: true, textAlign: 'right', render: (r) => `${r.outcomes.succeeded} / ${r.outcomes.failed + r.outcomes.expired} / ${r.outcomes.cancelled}` },
    { accessor: 'promptTokens', title: 'Prompt tokens', sortable: true, textAlign: 'right', render: (r) => formatCount(r.promptTokens) },
    { accessor: 'completionTokens', title: 'Completion tokens', sortable: true, textAlign: 'right', render: (r) => formatCount(r.completionTokens) },
    { accessor: 'totalTokens', title: 'Total tokens', sortable: true, textAlign: 'right', render: (r) => <Text size="sm" fw={600}>{formatCount(r.promptTokens + r.completionTokens)}</Text> },
    { accessor: 'firstTokenMs', title: 'p50 first token / total', textAlign: 'right', noWrap: true, render: (r) => `${formatMs(r.firstTokenMs.p50)} / ${formatMs(r.totalMs.p50)}` },
  ];

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Usage</Title>
          <Text c="dimmed" size="sm">
            Requests and tokens from the jobs table, per UTC day. {superadmin ? 'Every team, or one.' : 'Your team.'}
          </Text>
        </div>
        <Group gap="sm" align="flex-end">
          <TextInput label="From" type="date" value={from} max={to} onChange={(e) => setFrom(e.currentTarget.value)} error={!valid ? 'Not a range' : undefined} />
          <TextInput label="To" type="date" value={to} min={from} onChange={(e) => setTo(e.currentTarget.value)} />
          {superadmin && (
            <Select label="Team" placeholder="All teams" clearable searchable w={180} data={(teams.data ?? []).map((t) => ({ value: t.id, label: t.name }))} value={teamId} onChange={setTeamId} />
          )}
          <Button variant="default" onClick={() => void download()} disabled={!valid}>
            Download CSV
          </Button>
        </Group>
      </Group>
      <QueryState loading={chart.isLoading} error={chart.error}>
        <StatCards
          stats={(
            [
              ['Requests', formatCount(sum.requests), 'usage-requests'],
              ['Prompt tokens', formatCount(sum.promptTokens), 'usage-prompt-tokens'],
              ['Completion tokens', formatCount(sum.completionTokens), 'usage-completion-tokens'],
              ['Succeeded', sum.requests ? `${((succeeded / sum.requests) * 100).toFixed(1)} %` : '—', 'usage-success'],
            ] as const
          ).map(([label, value, testid]) => ({ label, value, testid }))}
        />
        <SimpleGrid cols={{ base: 1, lg: 3 }}>
          <Card withBorder padding="md" style={{ gridColumn: 'span 2' }}>
            <Group justify="space-between" mb="sm">
              <Text fw={600}>Tokens per day</Text>
              <SegmentedControl size="xs" value={split} onChange={(v) => setSplit(v as SplitBy)} data={[{ value: 'model', label: 'By model' }, { value: 'team', label: 'By team' }]} />
            </Group>
            {perDay.series.length === 0 ? (
              <Text c="dimmed" ta="center" py={90}>
                No requests in this period
              </Text>
            ) : (
              <BarChart
                h={240}
                data={perDay.data}
                dataKey="day"
                type="stacked"
                withLegend
                legendProps={{ verticalAlign: 'bottom' }}
                valueFormatter={(v) => formatCount(v)}
                series={perDay.series.map((x, i) => ({ name: x.key, label: x.name, color: COLORS[i % COLORS.length] }))}
                data-testid="usage-chart-days"
              />
            )}
          </Card>
          <Card withBorder padding="md">
            <Text fw={600} mb="sm">
              {split === 'model' ? 'Per model' : 'Per team'}
            </Text>
            {totals.length === 0 ? (
              <Text c="dimmed" ta="center" py={90}>
                Nothing yet
              </Text>
            ) : (
              <BarChart
                h={240}
                data={totals}
                dataKey="name"
                orientation="vertical"
                type="stacked"
                withLegend
                legendProps={{ verticalAlign: 'bottom' }}
                yAxisProps={{ width: 110 }}
                valueFormatter={(v) => formatCount(v)}
                series={[
                  { name: 'prompt', label: 'Prompt', color: 'blue.6' },
                  { name: 'completion', label: 'Completion', color: 'teal.6' },
                ]}
                data-testid="usage-chart-totals"
              />
            )}
          </Card>
        </SimpleGrid>
      </QueryState>
      <Card withBorder padding="md">
        <Group justify="space-between" mb="sm">
          <Text fw={600}>Breakdown</Text>
          <Group gap="xs">
            <Text size="sm" c="dimmed">
              Group by
            </Text>
            <Chip.Group multiple value={groups} onChange={(v) => setGroups(v as Group[])}>
              <Group gap={6}>
                {GROUPS.map((g) => (
                  <Chip key={g} value={g} size="xs">
                    {g}
                  </Chip>
                ))}
              </Group>
            </Chip.Group>
          </Group>
        </Group>
        {groups.length === 0 ? (
          <Text c="dimmed">Pick at least one grouping.</Text>
        ) : (
          <QueryState loading={table.isLoading} error={table.error}>
            <DataTable<Row>
              withTableBorder
              borderRadius="sm"
              striped
              minHeight={rows.length ? undefined : 150}
              records={rows}
              idAccessor={(r) => keyOf(r, groups)}
              noRecordsText="No requests in this period"
              sortStatus={sort}
              onSortStatusChange={setSort}
              columns={columns}
              data-testid="usage-table"
            />
          </QueryState>
        )}
      </Card>
    </Stack>
  );
}
