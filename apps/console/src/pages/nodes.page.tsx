import { Title } from '@mantine/core';

export function NodesPage() {
  return <Title order={2}>Nodes</Title>;
}
