import { useEffect, useState } from 'react';
import { ActionIcon, Alert, Button, Divider, Group, Modal, Select, Stack, Text, TextInput } from '@mantine/core';
import { errorText } from '../../components/query-state';
import { TAINT_EFFECTS, labelRows, labelsFromRows, taintsFromRows, type LabelRow, type TaintEffect, type TaintRow } from './fleet';
import { useUpdateNode, type Node } from './queries';

/** Edits a node's labels and taints; saving replaces both (PATCH /api/v1/nodes/{id}). */
export function LabelsDialog({ node, opened, onClose }: { node: Node; opened: boolean; onClose(): void }) {
  const update = useUpdateNode();
  const [labels, setLabels] = useState<LabelRow[]>([]);
  const [taints, setTaints] = useState<TaintRow[]>([]);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    if (!opened) return;
    setLabels([...labelRows(node.labels), { key: '', value: '' }]);
    setTaints(node.taints.map((t) => ({ key: t.key, value: t.value ?? '', effect: t.effect })));
    setProblem(null);
    update.reset();
    // Only when the dialog opens (not on `node`): the node refreshes every few seconds and must not wipe the edits.
  }, [opened]);

  function save() {
    const l = labelsFromRows(labels);
    if ('problem' in l) return setProblem(l.problem);
    const t = taintsFromRows(taints);
    if ('problem' in t) return setProblem(t.problem);
    setProblem(null);
    update.mutate({ id: node.id, body: { labels: l.labels, taints: t.taints } }, { onSuccess: onClose });
  }

  const setLabel = (i: number, patch: Partial<LabelRow>) => setLabels((rows) => rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const setTaint = (i: number, patch: Partial<TaintRow>) => setTaints((rows) => rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));

  return (
    <Modal opened={opened} onClose={onClose} title={`Labels and taints of ${node.name}`} size="lg" centered>
      <Stack gap="sm">
        <Text size="sm" c="dimmed">
          Deployments select nodes by label; a taint keeps out every deployment that does not tolerate it. Saving replaces both.
        </Text>
        <Divider label="Labels" labelPosition="left" />
        {labels.map((row, i) => (
          <Group key={i} gap="xs" wrap="nowrap">
            <TextInput aria-label={`Label key ${i + 1}`} placeholder="key (e.g. zone)" value={row.key} onChange={(e) => setLabel(i, { key: e.currentTarget.value })} flex={1} />
            <Text c="dimmed">=</Text>
            <TextInput aria-label={`Label value ${i + 1}`} placeholder="value" value={row.value} onChange={(e) => setLabel(i, { value: e.currentTarget.value })} flex={1} />
            <ActionIcon variant="subtle" color="gray" aria-label={`Remove label ${i + 1}`} onClick={() => setLabels((rows) => rows.filter((_, j) => j !== i))}>
              ✕
            </ActionIcon>
          </Group>
        ))}
        <Button variant="light" size="xs" w="fit-content" onClick={() => setLabels((rows) => [...rows, { key: '', value: '' }])}>
          Add label
        </Button>
        <Divider label="Taints" labelPosition="left" />
        {taints.length === 0 && (
          <Text size="xs" c="dimmed">
            No taints: any deployment may use this node.
          </Text>
        )}
        {taints.map((row, i) => (
          <Group key={i} gap="xs" wrap="nowrap">
            <TextInput aria-label={`Taint key ${i + 1}`} placeholder="key" value={row.key} onChange={(e) => setTaint(i, { key: e.currentTarget.value })} flex={1} />
            <TextInput aria-label={`Taint value ${i + 1}`} placeholder="value (optional)" value={row.value} onChange={(e) => setTaint(i, { value: e.currentTarget.value })} flex={1} />
            <Select aria-label={`Taint effect ${i + 1}`} data={[...TAINT_EFFECTS]} value={row.effect} onChange={(v) => v && setTaint(i, { effect: v as TaintEffect })} allowDeselect={false} w={170} />
            <ActionIcon variant="subtle" color="gray" aria-label={`Remove taint ${i + 1}`} onClick={() => setTaints((rows) => rows.filter((_, j) => j !== i))}>
              ✕
            </ActionIcon>
          </Group>
        ))}
        <Button variant="light" size="xs" w="fit-content" onClick={() => setTaints((rows) => [...rows, { key: '', value: '', effect: 'NoSchedule' }])}>
          Add taint
        </Button>
        {(problem || update.error) && (
          <Alert color="red" role="alert" title="Not saved">
            {problem ?? errorText(update.error)}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button onClick={save} loading={update.isPending}>
            Save
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
