import {
  ActionIcon,
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Code,
  CopyButton,
  Group,
  Menu,
  Modal,
  MultiSelect,
  NumberInput,
  Progress,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
  Title,
  Tooltip,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { DataTable } from 'mantine-datatable';
import { useState } from 'react';
import { Link, Route, Routes, useNavigate, useParams } from 'react-router-dom';
import { data, type Schemas } from '../api/client';
import { useTeams } from '../api/queries';
import { ConfirmModal } from '../components/confirm';
import { isSuperadmin, useApi, type Whoami } from '../auth/session';
import { formatAgo, formatBytes, formatCount } from '../components/format';
import { QueryState, errorText } from '../components/query-state';
import { LIMIT_FIELDS, formOf, putBodyOf, usedPercent, type LimitsForm, type QuotasView } from './teams/quota-form';

type Team = Schemas['TeamDto'];
type Member = Schemas['MembershipDto'];

export function TeamsPage() {
  return (
    <Routes>
      <Route index element={<TeamList />} />
      <Route path=":id" element={<TeamDetail />} />
    </Routes>
  );
}

/** What the caller may do in one team: superadmins everything; team admins in their own team; members their own keys. */
function rightsIn(whoami: Whoami, teamId: string) {
  const superadmin = isSuperadmin(whoami);
  const admin = superadmin || (whoami.role === 'team_admin' && whoami.teamId === teamId);
  return { superadmin, admin, mint: whoami.credential === 'keypair' };
}

function TeamList() {
  const { api, whoami } = useApi();
  const superadmin = isSuperadmin(whoami);
  const navigate = useNavigate();
  const client = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [weight, setWeight] = useState<number | string>(1);
  const teams = useTeams();
  const create = useMutation({
    mutationFn: () => data(api.POST('/api/v1/teams', { body: { name: name.trim(), weight: typeof weight === 'number' ? weight : 1 } })),
    onSuccess: (t) => {
      void client.invalidateQueries({ queryKey: ['teams'] });
      setCreating(false);
      setName('');
      navigate(`/teams/${t.id}`);
    },
  });
  return (
    <Stack gap="md">
      <Group justify="space-between">
        <div>
          <Title order={2}>Teams and keys</Title>
          <Text c="dimmed" size="sm">
            {superadmin ? 'Every team of this Gridline' : 'Your team'}: members, keypairs, API tokens and quotas.
          </Text>
        </div>
        {superadmin && <Button onClick={() => setCreating(true)}>New team</Button>}
      </Group>
      <QueryState loading={teams.isLoading} error={teams.error}>
        <DataTable<Team>
          withTableBorder
          borderRadius="sm"
          highlightOnHover
          striped
          minHeight={teams.data?.length ? undefined : 160}
          records={teams.data ?? []}
          noRecordsText="No teams"
          onRowClick={({ record }) => navigate(`/teams/${record.id}`)}
          columns={[
            { accessor: 'name', render: (t) => <Text size="sm" fw={500}>{t.name}{t.id === whoami.teamId && <Badge ml="xs" size="xs" variant="light">yours</Badge>}</Text> },
            { accessor: 'weight', title: 'Fair-share weight', textAlign: 'right' },
            { accessor: 'quotaGpus', title: 'GPU quota', textAlign: 'right', render: (t) => (t.quotaGpus === null ? 'unlimited' : formatCount(t.quotaGpus)) },
            { accessor: 'quotaGpuMemoryBytes', title: 'GPU memory quota', textAlign: 'right', render: (t) => (t.quotaGpuMemoryBytes === null ? 'unlimited' : formatBytes(t.quotaGpuMemoryBytes)) },
            { accessor: 'createdAt', title: 'Created', render: (t) => formatAgo(t.createdAt) },
          ]}
        />
      </QueryState>
      <Modal opened={creating} onClose={() => setCreating(false)} title="New team" centered>
        <Stack>
          <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} data-autofocus />
          <NumberInput label="Fair-share weight" description="Teams share busy models by their weights" min={1} max={1000} value={weight} onChange={setWeight} />
          {create.error && <Alert color="red" role="alert">{errorText(create.error)}</Alert>}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setCreating(false)}>Cancel</Button>
            <Button loading={create.isPending} disabled={!name.trim()} onClick={() => create.mutate()}>Create team</Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

function TeamDetail() {
  const { id = '' } = useParams();
  const { api, whoami } = useApi();
  const rights = rightsIn(whoami, id);
  const team = useQuery({ queryKey: ['team', id], queryFn: () => data(api.GET('/api/v1/teams/{id}', { params: { path: { id } } })) });
  const members = useQuery({
    queryKey: ['team', id, 'members'],
    queryFn: () => data(api.GET('/api/v1/teams/{id}/members', { params: { path: { id }, query: { limit: 200 } } })),
    enabled: rights.admin,
  });
  const [tab, setTab] = useState<string | null>(rights.admin ? 'members' : 'keypairs');
  return (
    <Stack gap="md">
      <Anchor component={Link} to="/teams" size="sm">
        ← All teams
      </Anchor>
      <QueryState loading={team.isLoading} error={team.error}>
        {team.data && (
          <>
            <Group justify="space-between">
              <div>
                <Title order={2}>{team.data.name}</Title>
                <Text size="sm" c="dimmed">
                  Weight {team.data.weight} · GPU quota {team.data.quotaGpus ?? 'unlimited'} · GPU memory quota {team.data.quotaGpuMemoryBytes === null ? 'unlimited' : formatBytes(team.data.quotaGpuMemoryBytes)} · your role here:{' '}
                  {rights.superadmin ? 'superadmin' : rights.admin ? 'team admin' : 'member'}
                </Text>
              </div>
            </Group>
            <Tabs value={tab} onChange={setTab} keepMounted={false}>
              <Tabs.List>
                {rights.admin && <Tabs.Tab value="members">Members{members.data ? ` (${members.data.total})` : ''}</Tabs.Tab>}
                <Tabs.Tab value="keypairs">Keypairs</Tabs.Tab>
                <Tabs.Tab value="tokens">API tokens</Tabs.Tab>
                <Tabs.Tab value="quotas">Quotas</Tabs.Tab>
              </Tabs.List>
              <Tabs.Panel value="members" pt="md">
                <MembersTab teamId={id} members={members.data?.items ?? []} loading={members.isLoading} error={members.error} />
              </Tabs.Panel>
              <Tabs.Panel value="keypairs" pt="md">
                <KeypairsTab teamId={id} members={members.data?.items ?? []} />
              </Tabs.Panel>
              <Tabs.Panel value="tokens" pt="md">
                <TokensTab teamId={id} members={members.data?.items ?? []} />
              </Tabs.Panel>
              <Tabs.Panel value="quotas" pt="md">
                <QuotasTab teamId={id} />
              </Tabs.Panel>
            </Tabs>
          </>
        )}
      </QueryState>
    </Stack>
  );
}

function MembersTab({ teamId, members, loading, error }: { teamId: string; members: Member[]; loading: boolean; error: unknown }) {
  const { api, whoami } = useApi();
  const client = useQueryClient();
  const [adding, setAdding] = useState(false);
  const [email, setEmail] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [role, setRole] = useState<'member' | 'team_admin'>('member');
  const [removing, setRemoving] = useState<Member | null>(null);
  const refresh = () => client.invalidateQueries({ queryKey: ['team', teamId, 'members'] });
  const add = useMutation({
    mutationFn: async () => {
      // An existing user joins with a membership; a new e-mail creates the user in this team.
      const found = await data(api.GET('/api/v1/users', { params: { query: { email: email.trim(), limit: 1 } } }));
      const user = found.items.find((u) => u.email.toLowerCase() === email.trim().toLowerCase());
      if (user) await data(api.PUT('/api/v1/teams/{id}/members/{userId}', { params: { path: { id: teamId, userId: user.id } }, body: { role } }));
      else await data(api.POST('/api/v1/users', { body: { email: email.trim(), displayName: displayName.trim() || email.trim(), teamId, role } }));
    },
    onSuccess: () => {
      void refresh();
      setAdding(false);
      setEmail('');
      setDisplayName('');
      notifications.show({ color: 'green', title: 'Member added', message: email });
    },
  });
  const setMemberRole = useMutation({
    mutationFn: (v: { userId: string; role: 'member' | 'team_admin' }) => data(api.PUT('/api/v1/teams/{id}/members/{userId}', { params: { path: { id: teamId, userId: v.userId } }, body: { role: v.role } })),
    onSuccess: () => void refresh(),
    onError: (e) => notifications.show({ color: 'red', title: 'Role not changed', message: errorText(e) }),
  });
  const remove = useMutation({
    mutationFn: (m: Member) => data(api.DELETE('/api/v1/teams/{id}/members/{userId}', { params: { path: { id: teamId, userId: m.userId } } })),
    onSuccess: () => {
      void refresh();
      setRemoving(null);
    },
  });
  return (
    <QueryState loading={loading} error={error}>
      <Stack gap="sm">
        <Group justify="flex-end">
          <Button onClick={() => setAdding(true)}>Add member</Button>
        </Group>
        <DataTable<Member>
          withTableBorder
          borderRadius="sm"
          striped
          records={members}
          idAccessor="userId"
          minHeight={members.length ? undefined : 160}
          noRecordsText="No members yet"
          columns={[
            { accessor: 'displayName', title: 'Name', render: (m) => <Text size="sm" fw={500}>{m.displayName}{m.userId === whoami.userId && <Badge ml="xs" size="xs" variant="light">you</Badge>}</Text> },
            { accessor: 'email', title: 'E-mail' },
            {
              accessor: 'role',
              render: (m) => (
                <Select
                  aria-label={`Role of ${m.email}`}
                  size="xs"
                  w={150}
                  data={[{ value: 'member', label: 'member' }, { value: 'team_admin', label: 'team admin' }]}
                  value={m.role}
                  allowDeselect={false}
                  disabled={m.userId === whoami.userId && !isSuperadmin(whoami)}
                  onChange={(v) => v && v !== m.role && setMemberRole.mutate({ userId: m.userId, role: v as 'member' | 'team_admin' })}
                />
              ),
            },
            { accessor: 'createdAt', title: 'Member since', render: (m) => formatAgo(m.createdAt) },
            {
              accessor: 'actions',
              title: '',
              textAlign: 'right',
              render: (m) => (
                <Button size="compact-xs" color="red" variant="subtle" disabled={m.userId === whoami.userId} onClick={() => setRemoving(m)}>
                  Remove
                </Button>
              ),
            },
          ]}
        />
      </Stack>
      <Modal opened={adding} onClose={() => setAdding(false)} title="Add a member" centered>
        <Stack>
          <TextInput label="E-mail" value={email} onChange={(e) => setEmail(e.currentTarget.value)} description="An existing user joins; a new e-mail creates the user" />
          <TextInput label="Display name" value={displayName} onChange={(e) => setDisplayName(e.currentTarget.value)} description="For a new user" />
          <SegmentedControl value={role} onChange={(v) => setRole(v as 'member' | 'team_admin')} data={[{ value: 'member', label: 'Member' }, { value: 'team_admin', label: 'Team admin' }]} />
          {add.error && <Alert color="red" role="alert">{errorText(add.error)}</Alert>}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setAdding(false)}>Cancel</Button>
            <Button loading={add.isPending} disabled={!email.includes('@')} onClick={() => add.mutate()}>Add</Button>
          </Group>
        </Stack>
      </Modal>
      <ConfirmModal
        opened={removing !== null}
        title="Remove this member?"
        confirmLabel="Remove"
        busy={remove.isPending}
        error={remove.error}
        onConfirm={() => removing && remove.mutate(removing)}
        onClose={() => setRemoving(null)}
      >
        <b>{removing?.email}</b> leaves the team; their keys for this team stop working.
      </ConfirmModal>
    </QueryState>
  );
}

/** Who may own a new key: the caller, or (admins) any member. */
function ownerChoices(members: Member[], whoami: Whoami): { value: string; label: string }[] {
  const others = members.filter((m) => m.userId !== whoami.userId).map((m) => ({ value: m.userId, label: `${m.displayName} <${m.email}>` }));
  return [{ value: whoami.userId, label: `Me (${whoami.label})` }, ...others];
}

/** A date input's day as the end of that UTC day, or undefined when empty. */
function endOfDay(day: string): string | undefined {
  return day ? new Date(`${day}T23:59:59.000Z`).toISOString() : undefined;
}

function SecretOnce({ title, rows, onClose }: { title: string; rows: { label: string; value: string; testid: string }[]; onClose: () => void }) {
  return (
    <Modal opened onClose={onClose} title={title} centered size="lg" closeOnClickOutside={false}>
      <Stack>
        <Alert color="yellow" title="Shown once">
          Copy it now: Gridline keeps only what it needs to check it and cannot show it again.
        </Alert>
        {rows.map((r) => (
          <div key={r.label}>
            <Text size="sm" fw={500} mb={4}>
              {r.label}
            </Text>
            <Group gap="xs" wrap="nowrap">
              <Code block style={{ flex: 1, wordBreak: 'break-all' }} data-testid={r.testid}>
                {r.value}
              </Code>
              <CopyButton value={r.value}>{({ copied, copy }) => <Button size="xs" variant={copied ? 'filled' : 'light'} color={copied ? 'teal' : 'blue'} onClick={copy}>{copied ? 'Copied' : 'Copy'}</Button>}</CopyButton>
            </Group>
          </div>
        ))}
        <Group justify="flex-end">
          <Button onClick={onClose}>I have copied it</Button>
        </Group>
      </Stack>
    </Modal>
  );
}

function KeypairsTab({ teamId, members }: { teamId: string; members: Member[] }) {
  const { api, whoami } = useApi();
  const rights = rightsIn(whoami, teamId);
  const client = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [owner, setOwner] = useState<string | null>(whoami.userId);
  const [expires, setExpires] = useState('');
  const [secret, setSecret] = useState<Schemas['NewKeypairDto'] | null>(null);
  const [deleting, setDeleting] = useState<Schemas['KeypairDto'] | null>(null);
  const [rotating, setRotating] = useState<Schemas['KeypairDto'] | null>(null);
  const [grace, setGrace] = useState<number | string>(300);
  const who = new Map(members.map((m) => [m.userId, m.email]));
  // The list is scoped by the api (a member sees their own); a superadmin's covers every team, so keep this team's.
  const keypairs = useQuery({ queryKey: ['keypairs'], queryFn: () => data(api.GET('/api/v1/keypairs', { params: { query: { limit: 200 } } })) });
  const items = (keypairs.data?.items ?? []).filter((k) => k.teamId === teamId);
  const refresh = () => client.invalidateQueries({ queryKey: ['keypairs'] });
  const create = useMutation({
    mutationFn: () => data(api.POST('/api/v1/keypairs', { body: { teamId, ...(owner && owner !== whoami.userId ? { userId: owner } : {}), ...(expires ? { expiresAt: endOfDay(expires) } : {}) } })),
    onSuccess: (k) => {
      void refresh();
      setCreating(false);
      setExpires('');
      setSecret(k);
    },
  });
  const toggle = useMutation({
    mutationFn: (k: Schemas['KeypairDto']) => data(api.PATCH('/api/v1/keypairs/{accessKey}', { params: { path: { accessKey: k.accessKey } }, body: { isActive: !k.isActive } })),
    onSuccess: () => void refresh(),
    onError: (e) => notifications.show({ color: 'red', title: 'Not changed', message: errorText(e) }),
  });
  const rotate = useMutation({
    mutationFn: (k: Schemas['KeypairDto']) => data(api.POST('/api/v1/keypairs/{accessKey}/rotate', { params: { path: { accessKey: k.accessKey } }, body: { graceSeconds: typeof grace === 'number' ? grace : 0 } })),
    onSuccess: (k) => {
      void refresh();
      setRotating(null);
      setSecret(k);
    },
  });
  const remove = useMutation({
    mutationFn: (k: Schemas['KeypairDto']) => data(api.DELETE('/api/v1/keypairs/{accessKey}', { params: { path: { accessKey: k.accessKey } } })),
    onSuccess: () => {
      void refresh();
      setDeleting(null);
    },
  });
  return (
    <QueryState loading={keypairs.isLoading} error={keypairs.error}>
      <Stack gap="sm">
        <Group justify="space-between">
          <Text size="sm" c="dimmed">
            HMAC keypairs sign requests (the CLI, SDKs, this console). {rights.admin ? 'You manage every member’s keys.' : 'You see and manage your own keys.'}
          </Text>
          <Tooltip label="Keypairs are created with a keypair, not with a token" disabled={rights.mint}>
            <Button onClick={() => setCreating(true)} disabled={!rights.mint}>
              Create keypair
            </Button>
          </Tooltip>
        </Group>
        <DataTable<Schemas['KeypairDto']>
          withTableBorder
          borderRadius="sm"
          striped
          records={items}
          minHeight={items.length ? undefined : 160}
          noRecordsText="No keypairs in this team"
          columns={[
            { accessor: 'accessKey', title: 'Access key', render: (k) => <Code>{k.accessKey}</Code> },
            { accessor: 'userId', title: 'Owner', render: (k) => (k.userId === whoami.userId ? 'me' : (who.get(k.userId) ?? k.userId.slice(0, 8))) },
            { accessor: 'isActive', title: 'State', render: (k) => <Badge color={k.isActive ? 'green' : 'gray'} variant="light">{k.isActive ? 'active' : 'inactive'}</Badge> },
            { accessor: 'expiresAt', title: 'Expires', render: (k) => (k.expiresAt ? k.expiresAt.slice(0, 10) : 'never') },
            { accessor: 'lastUsedAt', title: 'Last used', render: (k) => formatAgo(k.lastUsedAt) },
            { accessor: 'createdAt', title: 'Created', render: (k) => formatAgo(k.createdAt) },
            {
              accessor: 'actions',
              title: '',
              textAlign: 'right',
              render: (k) => (
                <Menu position="bottom-end" withinPortal>
                  <Menu.Target>
                    <ActionIcon variant="subtle" aria-label={`Actions for ${k.accessKey}`}>
                      ⋯
                    </ActionIcon>
                  </Menu.Target>
                  <Menu.Dropdown>
                    <Menu.Item onClick={() => toggle.mutate(k)}>{k.isActive ? 'Deactivate' : 'Activate'}</Menu.Item>
                    <Menu.Item disabled={!rights.mint} onClick={() => setRotating(k)}>
                      Rotate secret…
                    </Menu.Item>
                    <Menu.Item color="red" onClick={() => setDeleting(k)}>
                      Delete…
                    </Menu.Item>
                  </Menu.Dropdown>
                </Menu>
              ),
            },
          ]}
        />
      </Stack>
      <Modal opened={creating} onClose={() => setCreating(false)} title="Create a keypair" centered>
        <Stack>
          <Select label="Owner" data={ownerChoices(members, whoami)} value={owner} onChange={setOwner} disabled={!rights.admin} allowDeselect={false} />
          <TextInput label="Expires on (UTC)" type="date" value={expires} onChange={(e) => setExpires(e.currentTarget.value)} description="Empty: never" />
          {create.error && <Alert color="red" role="alert">{errorText(create.error)}</Alert>}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setCreating(false)}>Cancel</Button>
            <Button loading={create.isPending} onClick={() => create.mutate()}>Create</Button>
          </Group>
        </Stack>
      </Modal>
      <Modal opened={rotating !== null} onClose={() => setRotating(null)} title="Rotate this keypair's secret?" centered>
        <Stack>
          <Text size="sm">
            A new secret is made for <Code>{rotating?.accessKey}</Code>; the old one keeps working for the grace period, so clients can switch.
          </Text>
          <NumberInput label="Grace period (seconds)" min={0} max={7 * 86400} value={grace} onChange={setGrace} />
          {rotate.error && <Alert color="red" role="alert">{errorText(rotate.error)}</Alert>}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setRotating(null)}>Cancel</Button>
            <Button color="orange" loading={rotate.isPending} onClick={() => rotating && rotate.mutate(rotating)}>Rotate</Button>
          </Group>
        </Stack>
      </Modal>
      <ConfirmModal opened={deleting !== null} title="Delete this keypair?" confirmLabel="Delete" busy={remove.isPending} error={remove.error} onConfirm={() => deleting && remove.mutate(deleting)} onClose={() => setDeleting(null)}>
        Requests signed with <Code>{deleting?.accessKey}</Code> are refused from now on. This cannot be undone.
      </ConfirmModal>
      {secret && (
        <SecretOnce
          title="Keypair created"
          rows={[
            { label: 'Access key', value: secret.accessKey, testid: 'new-access-key' },
            { label: 'Secret key', value: secret.secretKey, testid: 'new-secret-key' },
          ]}
          onClose={() => setSecret(null)}
        />
      )}
    </QueryState>
  );
}

function TokensTab({ teamId, members }: { teamId: string; members: Member[] }) {
  const { api, whoami } = useApi();
  const rights = rightsIn(whoami, teamId);
  const client = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [scope, setScope] = useState<'inference' | 'management'>('inference');
  const [models, setModels] = useState<string[]>([]);
  const [owner, setOwner] = useState<string | null>(whoami.userId);
  const [expires, setExpires] = useState('');
  const [shown, setShown] = useState<Schemas['NewTokenDto'] | null>(null);
  const [revoking, setRevoking] = useState<Schemas['TokenDto'] | null>(null);
  const who = new Map(members.map((m) => [m.userId, m.email]));
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: () => data(api.GET('/api/v1/tokens', { params: { query: { limit: 200, includeRevoked: true } } })) });
  const catalog = useQuery({ queryKey: ['v1-models'], queryFn: () => data(api.GET('/v1/models')) });
  const items = (tokens.data?.items ?? []).filter((t) => t.teamId === teamId);
  const refresh = () => client.invalidateQueries({ queryKey: ['tokens'] });
  const create = useMutation({
    mutationFn: () =>
      data(
        api.POST('/api/v1/tokens', {
          body: { name: name.trim(), scope, teamId, ...(models.length ? { models } : {}), ...(expires ? { expiresAt: endOfDay(expires) } : {}), ...(owner && owner !== whoami.userId ? { userId: owner } : {}) },
        }),
      ),
    onSuccess: (t) => {
      void refresh();
      setCreating(false);
      setName('');
      setModels([]);
      setExpires('');
      setShown(t);
    },
  });
  const revoke = useMutation({
    mutationFn: (t: Schemas['TokenDto']) => data(api.DELETE('/api/v1/tokens/{id}', { params: { path: { id: t.id } } })),
    onSuccess: () => {
      void refresh();
      setRevoking(null);
    },
  });
  return (
    <QueryState loading={tokens.isLoading} error={tokens.error}>
      <Stack gap="sm">
        <Group justify="space-between">
          <Text size="sm" c="dimmed">
            Bearer tokens for OpenAI clients: limited to a scope, optionally to some models and a date.
          </Text>
          <Tooltip label="Tokens are created with a keypair, not with a token" disabled={rights.mint}>
            <Button onClick={() => setCreating(true)} disabled={!rights.mint}>
              Create token
            </Button>
          </Tooltip>
        </Group>
        <DataTable<Schemas['TokenDto']>
          withTableBorder
          borderRadius="sm"
          striped
          records={items}
          minHeight={items.length ? undefined : 160}
          noRecordsText="No API tokens in this team"
          columns={[
            { accessor: 'name', render: (t) => <Text size="sm" fw={500}>{t.name}</Text> },
            { accessor: 'prefix', render: (t) => <Code>{t.prefix}…</Code> },
            { accessor: 'scope', render: (t) => <Badge variant="light" color={t.scope === 'management' ? 'violet' : 'blue'}>{t.scope}</Badge> },
            { accessor: 'models', render: (t) => (t.models ? t.models.join(', ') : 'all models') },
            { accessor: 'userId', title: 'Owner', render: (t) => (t.userId === whoami.userId ? 'me' : (who.get(t.userId) ?? t.userId.slice(0, 8))) },
            { accessor: 'expiresAt', title: 'Expires', render: (t) => (t.expiresAt ? t.expiresAt.slice(0, 10) : 'never') },
            { accessor: 'lastUsedAt', title: 'Last used', render: (t) => formatAgo(t.lastUsedAt) },
            {
              accessor: 'actions',
              title: '',
              textAlign: 'right',
              render: (t) =>
                t.revokedAt ? (
                  <Badge color="gray" variant="outline">revoked {formatAgo(t.revokedAt)}</Badge>
                ) : (
                  <Button size="compact-xs" color="red" variant="subtle" onClick={() => setRevoking(t)}>
                    Revoke
                  </Button>
                ),
            },
          ]}
        />
      </Stack>
      <Modal opened={creating} onClose={() => setCreating(false)} title="Create an API token" centered>
        <Stack>
          <TextInput label="Name" placeholder="notebook" value={name} onChange={(e) => setName(e.currentTarget.value)} />
          <div>
            <Text size="sm" fw={500} mb={4}>Scope</Text>
            <SegmentedControl fullWidth value={scope} onChange={(v) => setScope(v as 'inference' | 'management')} data={[{ value: 'inference', label: 'Inference (/v1)' }, { value: 'management', label: 'Management (/api/v1)' }]} />
          </div>
          <MultiSelect label="Models" placeholder={models.length ? undefined : 'All models'} data={(catalog.data?.data ?? []).map((m) => m.id)} value={models} onChange={setModels} searchable clearable />
          <Select label="Owner" data={ownerChoices(members, whoami)} value={owner} onChange={setOwner} disabled={!rights.admin} allowDeselect={false} />
          <TextInput label="Expires on (UTC)" type="date" value={expires} onChange={(e) => setExpires(e.currentTarget.value)} description="Empty: never" />
          {create.error && <Alert color="red" role="alert">{errorText(create.error)}</Alert>}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setCreating(false)}>Cancel</Button>
            <Button loading={create.isPending} disabled={!name.trim()} onClick={() => create.mutate()}>Create</Button>
          </Group>
        </Stack>
      </Modal>
      <ConfirmModal opened={revoking !== null} title="Revoke this token?" confirmLabel="Revoke" busy={revoke.isPending} error={revoke.error} onConfirm={() => revoking && revoke.mutate(revoking)} onClose={() => setRevoking(null)}>
        Clients using <b>{revoking?.name}</b> (<Code>{revoking?.prefix}…</Code>) are refused from now on.
      </ConfirmModal>
      {shown && <SecretOnce title="Token created" rows={[{ label: `Token "${shown.name}"`, value: shown.token, testid: 'new-token' }]} onClose={() => setShown(null)} />}
    </QueryState>
  );
}

function QuotasTab({ teamId }: { teamId: string }) {
  const { api, whoami } = useApi();
  const rights = rightsIn(whoami, teamId);
  const client = useQueryClient();
  const quotas = useQuery({ queryKey: ['team', teamId, 'quotas'], queryFn: () => data(api.GET('/api/v1/teams/{id}/quotas', { params: { path: { id: teamId } } })), refetchInterval: 10_000 });
  const [form, setForm] = useState<LimitsForm | null>(null);
  const save = useMutation({
    mutationFn: (v: { current: QuotasView; form: LimitsForm }) => data(api.PUT('/api/v1/teams/{id}/quotas', { params: { path: { id: teamId } }, body: putBodyOf(v.current, v.form) })),
    onSuccess: (q) => {
      client.setQueryData(['team', teamId, 'quotas'], q);
      setForm(null);
      notifications.show({ color: 'green', title: 'Quotas saved', message: 'The new limits apply to the next request' });
    },
  });
  const q = quotas.data;
  return (
    <QueryState loading={quotas.isLoading} error={quotas.error}>
      {q && (
        <Stack gap="md">
          <Group justify="space-between">
            <Text size="sm" c="dimmed">
              Limits on every request of the team (per key and per model limits add to these). Use is counted now, in the current UTC minute and day.
            </Text>
            {rights.superadmin && !form && <Button onClick={() => setForm(formOf(q.limits))}>Edit limits</Button>}
          </Group>
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
            {LIMIT_FIELDS.map((f) => {
              const limit = q.limits?.[f.key] ?? null;
              const used = q.usage?.[f.use] ?? null;
              const pct = usedPercent(used, limit);
              return (
                <Card key={f.key} withBorder padding="md" data-testid={`quota-${f.key}`}>
                  <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
                    {f.label}
                  </Text>
                  {form ? (
                    <NumberInput
                      mt="xs"
                      label={`${f.label} limit`}
                      placeholder="No limit"
                      min={0}
                      allowDecimal={false}
                      value={form[f.key]}
                      onChange={(v) => setForm({ ...form, [f.key]: v })}
                    />
                  ) : (
                    <>
                      <Group gap={6} align="baseline" mt={4}>
                        <Text size="xl" fw={700} c={limit === null ? 'dimmed' : undefined} data-testid={`quota-${f.key}-used`}>
                          {limit === null ? 'No limit' : used === null ? '—' : formatCount(used)}
                        </Text>
                        {limit !== null && (
                          <Text size="sm" c="dimmed" data-testid={`quota-${f.key}-limit`}>
                            of {formatCount(limit)} {f.unit}
                          </Text>
                        )}
                      </Group>
                      <Progress mt="xs" value={pct ?? 0} color={pct !== null && pct >= 90 ? 'red' : pct !== null && pct >= 70 ? 'orange' : 'blue'} />
                    </>
                  )}
                </Card>
              );
            })}
          </SimpleGrid>
          {form && (
            <Group justify="flex-end">
              {save.error && <Alert color="red" role="alert" py={6}>{errorText(save.error)}</Alert>}
              <Button variant="default" onClick={() => setForm(null)}>Cancel</Button>
              <Button loading={save.isPending} onClick={() => save.mutate({ current: q, form })}>Save limits</Button>
            </Group>
          )}
          {(q.keys.length > 0 || q.models.length > 0) && (
            <Card withBorder padding="md">
              <Text fw={600} mb="xs">Per key and per model limits</Text>
              <Table fz="sm" striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Applies to</Table.Th>
                    {LIMIT_FIELDS.map((f) => <Table.Th key={f.key} ta="right">{f.label}</Table.Th>)}
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {[...q.keys.map((k) => ({ name: `${k.kind} ${k.id.slice(0, 8)}`, limits: k.limits, usage: k.usage })), ...q.models.map((m) => ({ name: `model ${m.model}`, limits: m.limits, usage: m.usage }))].map((r) => (
                    <Table.Tr key={r.name}>
                      <Table.Td>{r.name}</Table.Td>
                      {LIMIT_FIELDS.map((f) => (
                        <Table.Td key={f.key} ta="right">
                          {r.limits[f.key] === null ? '—' : `${formatCount(r.usage?.[f.use] ?? 0)} / ${formatCount(r.limits[f.key])}`}
                        </Table.Td>
                      ))}
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Card>
          )}
        </Stack>
      )}
    </QueryState>
  );
}
