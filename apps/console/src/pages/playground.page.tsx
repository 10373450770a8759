import { Alert, Anchor, Badge, Button, Card, Grid, Group, NumberInput, Paper, ScrollArea, Select, Slider, Stack, Text, Textarea, Title, Tooltip } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { ApiError, apiErrorOf, data } from '../api/client';
import { useApi } from '../auth/session';
import { formatCount, formatMs } from '../components/format';
import { errorText } from '../components/query-state';
import { deltaText, readChatStream, type ChatChunk } from './playground/sse';

interface Message {
  role: 'user' | 'assistant';
  content: string;
}

/** What the last answer cost and how long it took. */
interface AnswerStats {
  jobId: string | null;
  model: string;
  overheadMs: number | null;
  firstTokenMs: number | null;
  totalMs: number | null;
  usage: NonNullable<ChatChunk['usage']> | null;
  finishReason: string | null;
  stopped: boolean;
}

interface Refusal {
  error: ApiError;
  retryAfter: string | null;
}

/** Chat with a model of the caller's team: the answer streams in as the node writes it; Stop ends the job. */
export function PlaygroundPage() {
  const { api, credentials, fetch: authorized } = useApi();
  const models = useQuery({ queryKey: ['v1-models'], queryFn: () => data(api.GET('/v1/models')) });
  const [model, setModel] = useState<string | null>(null);
  const [system, setSystem] = useState('You are a helpful assistant.');
  const [temperature, setTemperature] = useState(0.7);
  const [maxTokens, setMaxTokens] = useState<number | string>(128);
  const [messages, setMessages] = useState<Message[]>([]);
  const [draft, setDraft] = useState('');
  const [streaming, setStreaming] = useState(false);
  const [stats, setStats] = useState<AnswerStats | null>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const abort = useRef<AbortController | null>(null);
  const viewport = useRef<HTMLDivElement>(null);

  // Which models have a deployment (a bearer token of the inference scope cannot read them: then every model is listed alike).
  const deployments = useQuery({
    queryKey: ['deployments', 'for-playground'],
    queryFn: () => data(api.GET('/api/v1/deployments', { params: { query: { limit: 200 } } })),
    enabled: credentials.kind === 'keypair',
    retry: false,
  });
  const modelIds = (models.data?.data ?? []).map((m) => m.id);
  const deployed = new Set((deployments.data?.items ?? []).map((d) => d.model));
  const serving = modelIds.filter((m) => deployed.has(m));
  const others = modelIds.filter((m) => !deployed.has(m));
  const choices = serving.length ? [{ group: 'Deployed', items: serving }, { group: 'Not deployed (load on demand or refused)', items: others }] : modelIds;
  useEffect(() => {
    if (!model && modelIds.length && !deployments.isLoading) setModel(serving[0] ?? modelIds[0]);
  }, [model, modelIds, serving, deployments.isLoading]);
  useEffect(() => {
    viewport.current?.scrollTo({ top: viewport.current.scrollHeight });
  }, [messages]);
  useEffect(() => () => abort.current?.abort(), []);

  const send = async () => {
    if (!model || !draft.trim() || streaming) return;
    const history: Message[] = [...messages, { role: 'user', content: draft.trim() }];
    setMessages([...history, { role: 'assistant', content: '' }]);
    setDraft('');
    setRefusal(null);
    setStreaming(true);
    const controller = new AbortController();
    abort.current = controller;
    const started = performance.now();
    const current: AnswerStats = { jobId: null, model, overheadMs: null, firstTokenMs: null, totalMs: null, usage: null, finishReason: null, stopped: false };
    setStats(null);
    let text = '';
    try {
      const body = {
        model,
        messages: [...(system.trim() ? [{ role: 'system', content: system.trim() }] : []), ...history],
        temperature,
        ...(typeof maxTokens === 'number' ? { max_tokens: maxTokens } : {}),
        stream: true,
        stream_options: { include_usage: true },
      };
      const res = await authorized('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      current.jobId = res.headers.get('x-gridline-job-id');
      if (!res.ok || !res.body) {
        setRefusal({ error: await apiErrorOf(res), retryAfter: res.headers.get('retry-after') });
        setMessages(history);
        return;
      }
      const overhead = Number(res.headers.get('x-gridline-overhead-ms'));
      current.overheadMs = Number.isFinite(overhead) ? overhead : null;
      setStats({ ...current });
      await readChatStream(res.body, (chunk) => {
        if (chunk.error) {
          setRefusal({ error: new ApiError(200, chunk.error.code ?? 'stream_error', chunk.error.message, chunk.error.param ?? undefined), retryAfter: null });
          return;
        }
        const delta = deltaText(chunk);
        if (delta) {
          if (current.firstTokenMs === null) current.firstTokenMs = performance.now() - started;
          text += delta;
          setMessages([...history, { role: 'assistant', content: text }]);
        }
        const finish = chunk.choices?.find((c) => c.finish_reason)?.finish_reason;
        if (finish) current.finishReason = finish;
        if (chunk.usage) current.usage = chunk.usage;
        setStats({ ...current });
      });
    } catch (e) {
      if (controller.signal.aborted) current.stopped = true;
      else setRefusal({ error: new ApiError(0, 'network_error', errorText(e)), retryAfter: null });
    } finally {
      current.totalMs = performance.now() - started;
      setStats({ ...current });
      setStreaming(false);
      abort.current = null;
    }
  };

  const stop = () => abort.current?.abort();

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <div>
          <Title order={2}>Playground</Title>
          <Text c="dimmed" size="sm">
            Chat with a model of your team through the OpenAI-compatible API; the answer streams as the node generates it.
          </Text>
        </div>
        <Button variant="default" onClick={() => { setMessages([]); setStats(null); setRefusal(null); }} disabled={streaming || messages.length === 0}>
          Clear conversation
        </Button>
      </Group>
      <Grid gap="md">
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Card withBorder padding="md">
            <Stack gap="sm">
              <Select
                label="Model"
                placeholder={models.isLoading ? 'Loading…' : 'No models'}
                data={choices}
                value={model}
                onChange={setModel}
                searchable
                nothingFoundMessage="No such model"
                error={models.error ? errorText(models.error) : undefined}
              />
              <Textarea label="System prompt" autosize minRows={3} maxRows={8} value={system} onChange={(e) => setSystem(e.currentTarget.value)} />
              <div>
                <Text size="sm" fw={500}>
                  Temperature <Text span c="dimmed" size="sm">{temperature.toFixed(2)}</Text>
                </Text>
                <Slider aria-label="Temperature" min={0} max={2} step={0.05} value={temperature} onChange={setTemperature} marks={[{ value: 0, label: '0' }, { value: 1, label: '1' }, { value: 2, label: '2' }]} mb="md" />
              </div>
              <NumberInput label="Max tokens" min={1} max={32768} value={maxTokens} onChange={setMaxTokens} description="Empty: until the model stops or the context ends" />
            </Stack>
          </Card>
          {stats && <AnswerCard stats={stats} />}
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 8 }}>
          <Card withBorder padding="md" h="100%">
            <Stack gap="sm" h="100%">
              <ScrollArea h={440} viewportRef={viewport} type="auto">
                {messages.length === 0 ? (
                  <Text c="dimmed" ta="center" mt={120}>
                    Send a message to start. Stop ends the job on its node at once.
                  </Text>
                ) : (
                  <Stack gap="xs">
                    {messages.map((m, i) => (
                      <Paper
                        key={i}
                        p="sm"
                        radius="md"
                        bg={m.role === 'user' ? 'blue.0' : 'gray.0'}
                        ml={m.role === 'user' ? 'xl' : 0}
                        mr={m.role === 'assistant' ? 'xl' : 0}
                        data-testid={m.role === 'assistant' && i === messages.length - 1 ? 'answer' : undefined}
                      >
                        <Text size="xs" c="dimmed" fw={600} tt="uppercase">
                          {m.role}
                        </Text>
                        <Text size="sm" style={{ whiteSpace: 'pre-wrap' }} data-testid={m.role === 'assistant' && i === messages.length - 1 ? 'answer-text' : undefined}>
                          {m.content || (streaming && i === messages.length - 1 ? '…' : '')}
                        </Text>
                      </Paper>
                    ))}
                  </Stack>
                )}
              </ScrollArea>
              {refusal && <RefusalAlert refusal={refusal} />}
              <Textarea
                label="Message"
                placeholder="Ask something… (Ctrl+Enter sends)"
                autosize
                minRows={2}
                maxRows={6}
                value={draft}
                onChange={(e) => setDraft(e.currentTarget.value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void send();
                }}
              />
              <Group justify="flex-end">
                {streaming ? (
                  <Button color="red" onClick={stop}>
                    Stop
                  </Button>
                ) : (
                  <Button onClick={() => void send()} disabled={!model || !draft.trim()}>
                    Send
                  </Button>
                )}
              </Group>
            </Stack>
          </Card>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}

function RefusalAlert({ refusal }: { refusal: Refusal }) {
  const { error, retryAfter } = refusal;
  return (
    <Alert color="red" title={error.status && error.status !== 200 ? `Refused: ${error.status} ${error.code}` : `Failed: ${error.code}`} role="alert">
      {error.message}
      {error.param ? ` (param: ${error.param})` : ''}
      {retryAfter ? ` — retry after ${retryAfter} s` : ''}
    </Alert>
  );
}

function AnswerCard({ stats }: { stats: AnswerStats }) {
  const rows: [string, string, string, string?][] = [
    ['Prompt tokens', formatCount(stats.usage?.prompt_tokens), 'usage-prompt'],
    ['Completion tokens', formatCount(stats.usage?.completion_tokens), 'usage-completion'],
    ['Time to first token', formatMs(stats.firstTokenMs), 'ttft', 'Measured here, from sending to the first text'],
    ['Gridline overhead', formatMs(stats.overheadMs), 'overhead-ms', 'x-gridline-overhead-ms: time spent outside the model up to the first output'],
    ['Total', formatMs(stats.totalMs), 'total-ms'],
  ];
  return (
    <Card withBorder padding="md" mt="md" data-testid="answer-stats">
      <Group justify="space-between" mb="xs">
        <Text fw={600}>Last answer</Text>
        {stats.stopped ? <Badge color="gray">stopped</Badge> : stats.finishReason ? <Badge color={stats.finishReason === 'stop' ? 'green' : 'yellow'}>finish: {stats.finishReason}</Badge> : <Badge color="blue">streaming</Badge>}
      </Group>
      <Stack gap={4}>
        {rows.map(([label, value, testid, hint]) => (
          <Group key={label} justify="space-between">
            {hint ? (
              <Tooltip label={hint} multiline w={260}>
                <Text size="sm" c="dimmed" td="underline dotted">
                  {label}
                </Text>
              </Tooltip>
            ) : (
              <Text size="sm" c="dimmed">
                {label}
              </Text>
            )}
            <Text size="sm" fw={500} data-testid={testid}>
              {value}
            </Text>
          </Group>
        ))}
        {stats.jobId && (
          <Group justify="space-between">
            <Text size="sm" c="dimmed">
              Job
            </Text>
            <Anchor component={Link} to={`/jobs/${stats.jobId}`} size="sm" ff="monospace" data-testid="job-link">
              {stats.jobId.slice(0, 8)}
            </Anchor>
          </Group>
        )}
      </Stack>
    </Card>
  );
}
