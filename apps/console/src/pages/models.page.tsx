import { Title } from '@mantine/core';

export function ModelsPage() {
  return <Title order={2}>Models</Title>;
}
