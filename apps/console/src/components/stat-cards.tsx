import { Card, SimpleGrid, Text } from '@mantine/core';
import type { ReactNode } from 'react';

export interface Stat {
  label: string;
  value: ReactNode;
  /** A dimmed line under the value: what the figure counts, or its context. */
  note?: ReactNode;
  testid?: string;
}

/** A row of headline figures at the top of a page or a detail view (fleet, deployment, job, usage). */
export function StatCards({ stats }: { stats: readonly Stat[] }) {
  return (
    <SimpleGrid cols={{ base: 2, md: 4 }}>
      {stats.map((s) => (
        <Card key={s.label} withBorder padding="md" radius="md">
          <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
            {s.label}
          </Text>
          <Text size="xl" fw={700} data-testid={s.testid}>
            {s.value}
          </Text>
          {s.note !== undefined && (
            <Text size="xs" c="dimmed">
              {s.note}
            </Text>
          )}
        </Card>
      ))}
    </SimpleGrid>
  );
}
