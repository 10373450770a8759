import { Badge, Group, Progress, Stack, Text, Tooltip } from '@mantine/core';
import { formatBytes } from '../../components/format';
import { gpuDisplayName, gpuUsage, usageColor, type GpuLike } from './fleet';

/** One GPU: its name (simulated ones marked), a used/free bar and the figures. */
export function GpuMemory({ gpu, compact }: { gpu: GpuLike; compact?: boolean }) {
  const u = gpuUsage(gpu);
  return (
    <Stack gap={2} data-testid={`gpu-${gpu.index}`} miw={compact ? 240 : 260}>
      <Group gap={6} wrap="nowrap" justify="space-between">
        <Text size="xs" fw={500} truncate>
          {gpu.index}: {gpuDisplayName(gpu)}
        </Text>
        {gpu.simulated && (
          <Tooltip label="A GPU the agent pretends to have: memory is accounted, models run on the CPU">
            <Badge size="xs" variant="outline" color="grape">
              simulated
            </Badge>
          </Tooltip>
        )}
      </Group>
      <Tooltip label={`${formatBytes(u.usedBytes)} used, ${formatBytes(u.freeBytes)} free of ${formatBytes(u.totalBytes)}`}>
        <Progress.Root size={compact ? 'md' : 'lg'} aria-label={`GPU ${gpu.index} memory used`}>
          <Progress.Section value={u.usedPercent} color={usageColor(u.usedPercent)} />
        </Progress.Root>
      </Tooltip>
      <Group gap={4} justify="space-between" wrap="nowrap">
        <Text size="xs" c="dimmed">
          {formatBytes(u.usedBytes)} used
        </Text>
        <Text size="xs" c="dimmed">
          {formatBytes(u.freeBytes)} free / {formatBytes(u.totalBytes)}
        </Text>
      </Group>
    </Stack>
  );
}
