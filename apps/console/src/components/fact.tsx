import { Group, Text } from '@mantine/core';
import type { ReactNode } from 'react';

/**
 * One labelled figure of a card: the label small and dimmed above the value, or beside it (`inline`: label left, value
 * right, for lists of facts in a narrow card).
 */
export function Fact({ label, children, testid, inline = false, size = 'sm' }: { label: string; children: ReactNode; testid?: string; inline?: boolean; size?: 'sm' | 'md' }) {
  if (inline) {
    return (
      <Group justify="space-between" wrap="nowrap" gap="md">
        <Text size="sm" c="dimmed">
          {label}
        </Text>
        <Text size={size} fw={500} ta="right" data-testid={testid} component="div">
          {children}
        </Text>
      </Group>
    );
  }
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size={size} fw={500} data-testid={testid} component="div">
        {children}
      </Text>
    </div>
  );
}
