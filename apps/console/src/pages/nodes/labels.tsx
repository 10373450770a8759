import { Badge, Group, Text, Tooltip } from '@mantine/core';
import { formatLabel, formatTaint, type TaintLike } from './fleet';

export function LabelBadges({ labels, taints, empty = '—' }: { labels: Record<string, string>; taints?: TaintLike[]; empty?: string }) {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0 && !taints?.length) {
    return (
      <Text size="xs" c="dimmed">
        {empty}
      </Text>
    );
  }
  return (
    <Group gap={4}>
      {entries.map(([k, v]) => (
        <Badge key={k} size="sm" variant="light" color="gray" tt="none">
          {formatLabel(k, v)}
        </Badge>
      ))}
      {taints?.map((t) => (
        <Tooltip key={formatTaint(t)} label="Taint: only deployments that tolerate it go here">
          <Badge size="sm" variant="light" color="orange" tt="none">
            {formatTaint(t)}
          </Badge>
        </Tooltip>
      ))}
    </Group>
  );
}
