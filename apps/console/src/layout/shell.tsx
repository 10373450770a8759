import { AppShell, Badge, Button, Group, NavLink, ScrollArea, Text, Title } from '@mantine/core';
import { NavLink as RouterLink, Outlet, useLocation } from 'react-router-dom';
import { notifications } from '@mantine/notifications';
import { data } from '../api/client';
import { PageErrorBoundary } from '../components/error-boundary';
import { errorText } from '../components/query-state';
import { isSuperadmin, isTeamAdmin, useApi, useSession } from '../auth/session';

interface Section {
  to: string;
  label: string;
  /** Who the api lets read the page's data: anyone signed in, team admins (and superadmins), superadmins only. */
  audience?: 'team_admin' | 'superadmin';
}

export const SECTIONS: Section[] = [
  { to: '/nodes', label: 'Nodes', audience: 'superadmin' },
  { to: '/endpoints', label: 'Endpoints', audience: 'superadmin' },
  { to: '/models', label: 'Models' },
  { to: '/deployments', label: 'Deployments' },
  { to: '/jobs', label: 'Jobs' },
  { to: '/playground', label: 'Playground' },
  { to: '/teams', label: 'Teams and keys' },
  { to: '/usage', label: 'Usage', audience: 'team_admin' },
];

/** The frame of every page: navigation (what the caller's role may see) and who is signed in. */
export function Shell() {
  const { whoami, api } = useApi();
  const { signOut } = useSession();
  // The queue board is a separate page: a signed request opens a short session (an HttpOnly cookie scoped to /admin/queues), then the board opens.
  const openQueueBoard = async () => {
    try {
      const session = await data(api.POST('/api/v1/admin/queues/session'));
      window.open(session.url, '_blank', 'noopener');
    } catch (e) {
      notifications.show({ color: 'red', title: 'Queue board', message: errorText(e) });
    }
  };
  const location = useLocation();
  const sections = SECTIONS.filter((s) => !s.audience || (s.audience === 'superadmin' ? isSuperadmin(whoami) : isTeamAdmin(whoami)));
  return (
    <AppShell header={{ height: 52 }} navbar={{ width: 210, breakpoint: 'sm' }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Title order={4}>Gridline</Title>
          <Group gap="xs">
            {isSuperadmin(whoami) && (
              <Button size="xs" variant="default" onClick={openQueueBoard}>
                Queues
              </Button>
            )}
            <Button size="xs" variant="default" component="a" href="/docs" target="_blank" rel="noreferrer">
              API docs
            </Button>
            <Text size="sm" data-testid="whoami">
              {whoami.label}
            </Text>
            <Badge variant="light">{whoami.role}</Badge>
            <Button size="xs" variant="subtle" onClick={signOut}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        <ScrollArea>
          {sections.map((s) => (
            <NavLink key={s.to} component={RouterLink} to={s.to} label={s.label} active={location.pathname.startsWith(s.to)} />
          ))}
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>
        {/* keyed by the section: moving to another page clears a caught error */}
        <PageErrorBoundary key={location.pathname.split('/')[1]}>
          <Outlet />
        </PageErrorBoundary>
      </AppShell.Main>
    </AppShell>
  );
}
