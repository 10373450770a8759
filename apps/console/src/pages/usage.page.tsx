import { Title } from '@mantine/core';

export function UsagePage() {
  return <Title order={2}>Usage</Title>;
}
