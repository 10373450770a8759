import { useState } from 'react';
import { Alert, Button, Group, Modal, NumberInput, PasswordInput, Select, Stack, Text, TextInput } from '@mantine/core';
import { errorText } from '../../components/query-state';
import { EMPTY_FORM, ENDPOINT_KINDS, createEndpointRequest, credentialOf, type EndpointForm, type EndpointKind } from './endpoint-form';
import { useCreateEndpoint } from './queries';

/**
 * "Add endpoint": the api registers it only after a handshake (the credential accepted, the kind
 * right, its models listed), so a refusal (unreachable, credential refused, not that kind) shows
 * here with the api's message and the dialog stays open. The secret is sent once and never shown again.
 */
export function AddEndpointDialog({ opened, onClose }: { opened: boolean; onClose(): void }) {
  const create = useCreateEndpoint();
  const [form, setForm] = useState<EndpointForm>(EMPTY_FORM);
  const [problem, setProblem] = useState<string | null>(null);
  const set = <K extends keyof EndpointForm>(key: K, value: EndpointForm[K]) => setForm((f) => ({ ...f, [key]: value }));

  function close() {
    setForm(EMPTY_FORM);
    setProblem(null);
    create.reset();
    onClose();
  }

  function submit(e: React.FormEvent) {
    e.preventDefault();
    const r = createEndpointRequest(form);
    if ('problem' in r) return setProblem(r.problem);
    setProblem(null);
    create.mutate(r.body, { onSuccess: close });
  }

  const keypair = credentialOf(form.kind) === 'keypair';
  return (
    <Modal opened={opened} onClose={close} title="Add an endpoint" size="lg" centered>
      <Stack component="form" onSubmit={submit} gap="sm">
        <Text size="sm" c="dimmed">
          A remote place that serves models: requests for its models go there when nothing here serves them, or as a fallback.
        </Text>
        <Group grow align="flex-start">
          <TextInput label="Name" placeholder="east-peer" description="Lower-case letters, digits and dashes" value={form.name} onChange={(e) => set('name', e.currentTarget.value)} required />
          <Select
            label="Kind"
            description={keypair ? 'Signed with a keypair it issued' : 'A bearer API key'}
            data={ENDPOINT_KINDS.map((k) => ({ value: k.value, label: k.label }))}
            value={form.kind}
            onChange={(v) => v && set('kind', v as EndpointKind)}
            allowDeselect={false}
          />
        </Group>
        <TextInput label="URL" placeholder="https://gridline-b.example.com" description="Base address; requests go to URL/v1/…" value={form.url} onChange={(e) => set('url', e.currentTarget.value)} required />
        {keypair ? (
          <Group grow align="flex-start">
            <TextInput label="Access key" value={form.accessKey} onChange={(e) => set('accessKey', e.currentTarget.value)} autoComplete="off" required />
            <PasswordInput label="Secret key" value={form.secretKey} onChange={(e) => set('secretKey', e.currentTarget.value)} autoComplete="new-password" required />
          </Group>
        ) : (
          <PasswordInput label="API key" value={form.apiKey} onChange={(e) => set('apiKey', e.currentTarget.value)} autoComplete="new-password" required />
        )}
        <NumberInput label="Weight" description="Share of traffic among the healthy endpoints serving a model" min={0} max={10_000} value={form.weight} onChange={(v) => set('weight', v)} w={240} />
        {(problem || create.error) && (
          <Alert color="red" role="alert" title="Not registered">
            {problem ?? errorText(create.error)}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button type="submit" loading={create.isPending}>
            Add endpoint
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
