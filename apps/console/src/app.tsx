import { Navigate, Route, Routes } from 'react-router-dom';
import { SignInPage } from './auth/sign-in.page';
import { useSession } from './auth/session';
import { SECTIONS, Shell } from './layout/shell';
import { DeploymentsPage } from './pages/deployments.page';
import { EndpointsPage } from './pages/endpoints.page';
import { JobsPage } from './pages/jobs.page';
import { ModelsPage } from './pages/models.page';
import { NodesPage } from './pages/nodes.page';
import { PlaygroundPage } from './pages/playground.page';
import { TeamsPage } from './pages/teams.page';
import { UsagePage } from './pages/usage.page';

export function App() {
  const { session } = useSession();
  if (!session) return <SignInPage />;
  // The first page the caller may see: a member starts at Models, a superadmin at Nodes.
  const home = session.whoami.role === 'superadmin' ? SECTIONS[0].to : '/models';
  return (
    <Routes>
      <Route element={<Shell />}>
        <Route path="/nodes/*" element={<NodesPage />} />
        <Route path="/endpoints" element={<EndpointsPage />} />
        <Route path="/models/*" element={<ModelsPage />} />
        <Route path="/deployments/*" element={<DeploymentsPage />} />
        <Route path="/jobs/*" element={<JobsPage />} />
        <Route path="/playground" element={<PlaygroundPage />} />
        <Route path="/teams/*" element={<TeamsPage />} />
        <Route path="/usage" element={<UsagePage />} />
        <Route path="*" element={<Navigate to={home} replace />} />
      </Route>
    </Routes>
  );
}
