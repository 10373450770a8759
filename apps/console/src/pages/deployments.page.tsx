import { Title } from '@mantine/core';

export function DeploymentsPage() {
  return <Title order={2}>Deployments</Title>;
}
