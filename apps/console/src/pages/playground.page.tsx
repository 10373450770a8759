import { Title } from '@mantine/core';

export function PlaygroundPage() {
  return <Title order={2}>Playground</Title>;
}
