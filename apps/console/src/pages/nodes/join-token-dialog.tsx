import { useState } from 'react';
import { Alert, Button, Code, CopyButton, Group, Modal, NumberInput, Select, Stack, Switch, TagsInput, Text, TextInput } from '@mantine/core';
import { errorText } from '../../components/query-state';
import { TOKEN_EXPIRIES, joinTokenRequest } from './fleet';
import { useCreateJoinToken, type CreatedJoinToken } from './queries';

/**
 * "Add node": creates a join token and prints the command to run on the GPU host. The token is
 * shown once (the api keeps only its hash); closing the dialog forgets it.
 */
export function JoinTokenDialog({ opened, onClose }: { opened: boolean; onClose(): void }) {
  const create = useCreateJoinToken();
  const [description, setDescription] = useState('');
  const [labels, setLabels] = useState<string[]>([]);
  const [unlimited, setUnlimited] = useState(false);
  const [uses, setUses] = useState<number>(1);
  const [autoApprove, setAutoApprove] = useState(false);
  const [ttl, setTtl] = useState(String(86_400));
  const [problem, setProblem] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedJoinToken | null>(null);

  function close() {
    setCreated(null);
    setProblem(null);
    setDescription('');
    setLabels([]);
    setUnlimited(false);
    setUses(1);
    setAutoApprove(false);
    setTtl(String(86_400));
    create.reset();
    onClose();
  }

  function submit(e: React.FormEvent) {
    e.preventDefault();
    const r = joinTokenRequest({ description, labels, uses: unlimited ? null : uses, autoApprove, ttlSeconds: Number(ttl) });
    if ('problem' in r) return setProblem(r.problem);
    setProblem(null);
    create.mutate(r.body, { onSuccess: setCreated });
  }

  return (
    <Modal opened={opened} onClose={close} title={created ? 'Join the node' : 'Add a node'} size="lg" centered>
      {created ? (
        <Stack>
          <Alert color="yellow" title="Shown once">
            Copy the command now: the api keeps only a hash of the token, and this dialog forgets it when it closes.
          </Alert>
          <Text size="sm">Run this on the GPU host (as root). The agent installs, registers with this control plane and starts heartbeating.</Text>
          <Code block data-testid="install-command" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
            {created.installCommand}
          </Code>
          <Group justify="space-between">
            <Text size="xs" c="dimmed">
              Token {created.prefix}… · {created.maxUses === null ? 'any number of joins' : `${created.maxUses} join(s)`} · expires {new Date(created.expiresAt).toLocaleString()} ·{' '}
              {created.autoApprove ? 'nodes are approved at once' : 'nodes wait for approval'}
            </Text>
            <CopyButton value={created.installCommand}>
              {({ copied, copy }) => (
                <Button size="xs" color={copied ? 'teal' : 'blue'} onClick={copy}>
                  {copied ? 'Copied' : 'Copy command'}
                </Button>
              )}
            </CopyButton>
          </Group>
          <Group justify="flex-end">
            <Button onClick={close}>Done</Button>
          </Group>
        </Stack>
      ) : (
        <Stack component="form" onSubmit={submit} gap="sm">
          <Text size="sm" c="dimmed">
            A join token lets an agent register this host as a node. Nodes that join with it get its labels.
          </Text>
          <TextInput label="Description" placeholder="rack 4, December" value={description} onChange={(e) => setDescription(e.currentTarget.value)} maxLength={200} />
          <TagsInput label="Labels" description="key=value, Enter after each" placeholder="pool=inference" value={labels} onChange={setLabels} splitChars={[',', ' ']} />
          <Group grow align="flex-start">
            <NumberInput label="Uses" description="Nodes that may join with it" min={1} max={100000} value={uses} onChange={(v) => setUses(typeof v === 'number' ? v : Number(v) || 0)} disabled={unlimited} />
            <Select label="Expires after" description="Unused joins lapse then" data={TOKEN_EXPIRIES.map((e) => ({ value: String(e.seconds), label: e.label }))} value={ttl} onChange={(v) => v && setTtl(v)} allowDeselect={false} />
          </Group>
          <Switch label="Any number of uses until it expires" checked={unlimited} onChange={(e) => setUnlimited(e.currentTarget.checked)} />
          <Switch label="Approve joining nodes automatically" description="Otherwise each new node stays Pending until a superadmin approves it" checked={autoApprove} onChange={(e) => setAutoApprove(e.currentTarget.checked)} />
          {(problem || create.error) && (
            <Alert color="red" role="alert" title="No token created">
              {problem ?? errorText(create.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending}>
              Create join token
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
