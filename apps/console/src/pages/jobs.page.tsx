import { StatCards } from '../components/stat-cards';
import { Alert, Anchor, Badge, Button, Card, Code, CopyButton, Group, SimpleGrid, Select, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { DataTable, type DataTableSortStatus } from 'mantine-datatable';
import { useMemo, useState } from 'react';
import { Link, Route, Routes, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { data, type Schemas } from '../api/client';
import { useNames } from '../api/queries';
import { isSuperadmin, useApi } from '../auth/session';
import { formatAgo, formatCount, formatMs } from '../components/format';
import { ConfirmModal } from '../components/confirm';
import { Fact } from '../components/fact';
import { sortRows } from '../components/sort';
import { QueryState } from '../components/query-state';
import { JOB_STATUSES, isCancellable, jobDurations, statusColor } from './jobs/job-timings';

type Job = Schemas['JobDto'];
type JobStatus = (typeof JOB_STATUSES)[number];

export function JobsPage() {
  return (
    <Routes>
      <Route index element={<JobList />} />
      <Route path=":id" element={<JobDetail />} />
    </Routes>
  );
}

const PAGE = 50;

function JobList() {
  const { api, whoami } = useApi();
  const superadmin = isSuperadmin(whoami);
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const status = params.get('status');
  const model = params.get('model');
  const teamId = params.get('team');
  const names = useNames(superadmin);
  const models = useQuery({ queryKey: ['v1-models'], queryFn: () => data(api.GET('/v1/models')) });
  const [sort, setSort] = useState<DataTableSortStatus<Job>>({ columnAccessor: 'created', direction: 'desc' });

  const jobs = useInfiniteQuery({
    queryKey: ['jobs', status, model, teamId],
    queryFn: ({ pageParam }) =>
      data(
        api.GET('/api/v1/jobs', {
          params: { query: { limit: PAGE, ...(status ? { status: status as JobStatus } : {}), ...(model ? { model } : {}), ...(teamId ? { teamId } : {}), ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    refetchInterval: 5000,
  });

  const set = (name: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };

  const rows = useMemo(() => {
    const all = (jobs.data?.pages ?? []).flatMap((p) => p.data).map((j) => ({ ...j, d: jobDurations(j.timings) }));
    const key = sort.columnAccessor;
    const value = (j: (typeof all)[number]): number | string => {
      switch (key) {
        case 'queueWait':
          return j.d.queueWaitMs ?? -1;
        case 'ttft':
          return j.d.firstTokenMs ?? -1;
        case 'total':
          return j.d.totalMs ?? -1;
        case 'tokens':
          return j.usage?.total_tokens ?? -1;
        case 'model':
          return j.model;
        case 'status':
          return j.status;
        default:
          return j.timings.queued_at;
      }
    };
    return sortRows(all, sort.direction, value);
  }, [jobs.data, sort]);

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Jobs</Title>
          <Text c="dimmed" size="sm">
            {superadmin ? 'Every team’s inference jobs' : 'Your team’s inference jobs'}, newest first; refreshed every 5 s.
          </Text>
        </div>
        <Group gap="sm" align="flex-end">
          <Select label="Status" placeholder="Any status" clearable data={[...JOB_STATUSES]} value={status} onChange={(v) => set('status', v)} w={150} />
          <Select
            label="Model"
            placeholder="Any model"
            clearable
            searchable
            data={(models.data?.data ?? []).map((m) => m.id)}
            value={model}
            onChange={(v) => set('model', v)}
            w={200}
          />
          {superadmin && (
            <Select label="Team" placeholder="Any team" clearable searchable data={names.teams.map((t) => ({ value: t.id, label: t.name }))} value={teamId} onChange={(v) => set('team', v)} w={200} />
          )}
        </Group>
      </Group>
      <QueryState loading={jobs.isLoading} error={jobs.error} hasData={jobs.data !== undefined}>
        <DataTable<(typeof rows)[number]>
          withTableBorder
          borderRadius="sm"
          highlightOnHover
          striped
          minHeight={rows.length ? undefined : 180}
          records={rows}
          idAccessor="id"
          noRecordsText={status || model || teamId ? 'No job matches these filters' : 'No jobs yet: send one from the Playground'}
          sortStatus={sort as DataTableSortStatus<(typeof rows)[number]>}
          onSortStatusChange={(s) => setSort(s as unknown as DataTableSortStatus<Job>)}
          onRowClick={({ record }) => navigate(`/jobs/${record.id}`)}
          columns={[
            { accessor: 'id', title: 'Job', render: (j) => <Text ff="monospace" size="sm">{j.id.slice(0, 8)}</Text> },
            { accessor: 'status', sortable: true, render: (j) => <Badge color={statusColor(j.status)} variant="light">{j.status}</Badge> },
            { accessor: 'model', sortable: true },
            ...(superadmin ? [{ accessor: 'team_id', title: 'Team', render: (j: (typeof rows)[number]) => names.team(j.team_id) }] : []),
            { accessor: 'mode', title: 'Mode', render: (j) => <Text size="sm">{j.kind} · {j.mode}</Text> },
            { accessor: 'created', title: 'Submitted', sortable: true, render: (j) => <Tooltip label={j.timings.queued_at}><Text size="sm">{formatAgo(j.timings.queued_at)}</Text></Tooltip> },
            { accessor: 'queueWait', title: 'Queue wait', sortable: true, textAlign: 'right', render: (j) => formatMs(j.d.queueWaitMs) },
            { accessor: 'ttft', title: 'First token', sortable: true, textAlign: 'right', render: (j) => formatMs(j.d.firstTokenMs) },
            { accessor: 'total', title: 'Total', sortable: true, textAlign: 'right', render: (j) => formatMs(j.d.totalMs) },
            { accessor: 'tokens', title: 'Tokens (in / out)', sortable: true, textAlign: 'right', render: (j) => (j.usage ? `${formatCount(j.usage.prompt_tokens)} / ${formatCount(j.usage.completion_tokens)}` : '—') },
            { accessor: 'node_id', title: 'Node', render: (j) => names.node(j.node_id) },
          ]}
        />
        {jobs.hasNextPage && (
          <Group justify="center">
            <Button variant="default" loading={jobs.isFetchingNextPage} onClick={() => void jobs.fetchNextPage()}>
              Load older jobs
            </Button>
          </Group>
        )}
      </QueryState>
    </Stack>
  );
}

function JobDetail() {
  const { id = '' } = useParams();
  const { api, whoami } = useApi();
  const superadmin = isSuperadmin(whoami);
  const names = useNames(superadmin);
  const client = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const job = useQuery({
    queryKey: ['job', id],
    queryFn: () => data(api.GET('/api/v1/jobs/{id}', { params: { path: { id } } })),
    refetchInterval: (q) => (q.state.data && !isCancellable(q.state.data.status) ? false : 2000),
  });
  const cancel = useMutation({
    mutationFn: () => data(api.DELETE('/api/v1/jobs/{id}', { params: { path: { id } } })),
    onSuccess: (j) => {
      client.setQueryData(['job', id], j);
      void client.invalidateQueries({ queryKey: ['jobs'] });
      notifications.show({ color: 'gray', title: 'Job cancelled', message: `Job ${id.slice(0, 8)} is ${j.status}` });
      setConfirming(false);
    },
  });

  return (
    <Stack gap="md">
      <Anchor component={Link} to="/jobs" size="sm">
        ← All jobs
      </Anchor>
      <QueryState loading={job.isLoading} error={job.error}>
        {job.data && (
          <>
            <Group justify="space-between">
              <Group gap="sm">
                <Title order={2}>
                  Job <Code fz="xl">{job.data.id.slice(0, 8)}</Code>
                </Title>
                <Badge size="lg" color={statusColor(job.data.status)} variant="light" data-testid="job-status">
                  {job.data.status}
                </Badge>
                <CopyButton value={job.data.id}>{({ copied, copy }) => <Button size="compact-xs" variant="subtle" onClick={copy}>{copied ? 'Copied' : 'Copy id'}</Button>}</CopyButton>
              </Group>
              {isCancellable(job.data.status) && (
                <Button color="red" variant="light" onClick={() => setConfirming(true)}>
                  Cancel job
                </Button>
              )}
            </Group>
            <JobCards job={job.data} team={superadmin ? names.team(job.data.team_id) : null} node={names.node(job.data.node_id)} />
            <ConfirmModal
              opened={confirming}
              title="Cancel this job?"
              confirmLabel="Cancel job"
              cancelLabel="Keep it"
              busy={cancel.isPending}
              error={cancel.error}
              onConfirm={() => cancel.mutate()}
              onClose={() => setConfirming(false)}
            >
              The job stops on its node at once (or leaves the queue); a client waiting on it gets a <Code>cancelled</Code> error. This cannot be undone.
            </ConfirmModal>
          </>
        )}
      </QueryState>
    </Stack>
  );
}

function JobCards({ job, team, node }: { job: Job; team: string | null; node: string }) {
  const d = jobDurations(job.timings);
  const t = job.timings;
  const at = (iso: string | null) => (iso ? new Date(iso).toISOString().replace('T', ' ').replace('Z', ' UTC') : '—');
  return (
    <Stack gap="md">
      <StatCards
        stats={(
          [
            ['Queue wait', formatMs(d.queueWaitMs), 'detail-queue-wait'],
            ['Time to first token', formatMs(d.firstTokenMs), 'detail-ttft'],
            ['Total', formatMs(d.totalMs), 'detail-total'],
            ['Tokens (in / out)', job.usage ? `${formatCount(job.usage.prompt_tokens)} / ${formatCount(job.usage.completion_tokens)}` : '—', 'detail-tokens'],
          ] as const
        ).map(([label, value, testid]) => ({ label, value, testid }))}
      />
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder padding="md">
          <Text fw={600} mb="xs">
            Request
          </Text>
          <Stack gap={4}>
            <Fact inline label="Model">{job.model}</Fact>
            {team && <Fact inline label="Team">{team}</Fact>}
            <Fact inline label="Kind">
              {job.kind} · {job.mode === 'sync' ? 'synchronous (/v1)' : 'asynchronous (/api/v1/jobs)'}
            </Fact>
            <Fact inline label="Attempt">{job.attempt}</Fact>
            <Fact inline label="Node" testid="detail-node">
              {node}
            </Fact>
            <Fact inline label="Replica">{job.replica_id ? <Code>{job.replica_id.slice(0, 8)}</Code> : '—'}</Fact>
            <Fact inline label="Cached prompt tokens">{formatCount(job.usage?.cached_prompt_tokens)}</Fact>
          </Stack>
        </Card>
        <Card withBorder padding="md">
          <Text fw={600} mb="xs">
            Timeline
          </Text>
          <Table withRowBorders={false} verticalSpacing={2} fz="sm">
            <Table.Tbody>
              {(
                [
                  ['Accepted', t.queued_at, null],
                  ['Dispatched', t.dispatched_at, t.dispatched_at ? Date.parse(t.dispatched_at) - Date.parse(t.queued_at) : null],
                  ['Started', t.started_at, d.queueWaitMs],
                  ['First token', t.first_token_at, d.firstTokenMs],
                  ['Finished', t.finished_at, d.totalMs],
                  ['Deadline', t.deadline_at, null],
                ] as const
              ).map(([label, iso, after]) => (
                <Table.Tr key={label}>
                  <Table.Td c="dimmed">{label}</Table.Td>
                  <Table.Td ff="monospace">{at(iso)}</Table.Td>
                  <Table.Td ta="right">{after !== null ? `+${formatMs(after)}` : ''}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Card>
      </SimpleGrid>
      {job.error && (
        <Alert color="red" title={`Error: ${job.error.code}`} role="alert">
          {job.error.message}
        </Alert>
      )}
      <Card withBorder padding="md">
        <Group justify="space-between" mb="xs">
          <Text fw={600}>Result</Text>
          {job.result && <Badge variant="light">finish: {job.result.finish_reason}</Badge>}
        </Group>
        {job.result ? (
          <Text size="sm" style={{ whiteSpace: 'pre-wrap' }} data-testid="detail-result">
            {job.result.text}
          </Text>
        ) : (
          <Text size="sm" c="dimmed">
            {isCancellable(job.status) ? 'Not finished yet.' : 'No result was kept for this job.'}
          </Text>
        )}
      </Card>
    </Stack>
  );
}
