#!/usr/bin/env node
/**
 * `gridline`: the command-line client. Every request is signed with a keypair.
 * Credentials, first found: GRIDLINE_ACCESS_KEY + GRIDLINE_SECRET_KEY (+ GRIDLINE_URL);
 * --credentials FILE; the file `gridline login` writes ($XDG_CONFIG_HOME/gridline/credentials.json,
 * mode 0600); the local stack's .gridline/admin.json.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { signingFetch } from '@gridline/auth';
import { parseLabels, parseTaints } from '@gridline/scheduling';
import { CliError } from './cli-error';
import { EndpointView, FallbackView, endpointBody, endpointDetail, endpointId, endpointsTable, fallbacksTable } from './endpoints';
import { NodeView, followReplica, nodesTable } from './nodes';

const USAGE = `Usage: gridline COMMAND [options]

  login --url URL --access-key AK --secret-key SK   check the keypair and store it (mode 0600)
  logout | whoami

  teams list [--name TEXT] | get ID | create NAME [--weight N] [--quota-gpus N] [--quota-gpu-memory BYTES]
  teams update ID [same options] | delete ID
  teams members TEAM_ID | add-member TEAM_ID USER_ID --role team_admin|member | remove-member TEAM_ID USER_ID
  users list [--email TEXT] | get ID | me | create EMAIL NAME [--team ID] [--role team_admin|member] [--superadmin] | delete ID
  keys list [--user ID] | get AK | create [--user ID] [--team ID] [--expires ISO] | rotate AK --grace SECONDS
  keys disable AK | enable AK | delete AK
  tokens list [--user ID] | create NAME --scope inference|management [--models a,b] [--expires ISO] [--user ID] | revoke ID
  audit [--action ACTION] [--since ISO] [--limit N]
  usage [--from ISO] [--to ISO] [--group-by team,model,key,user,day,endpoint] [--team ID] [--csv]
  quotas [--team ID]                          inference quotas of the team (default: the caller's), with their use now
  quotas set [--team ID] [--keypair AK|--token ID|--model NAME] [--concurrent N] [--queued N] [--rpm N] [--tpm N] [--tpd N]
  quotas clear [--team ID] [--keypair AK|--token ID|--model NAME]      (set: a limit given as "none" is removed)

  chat [--model NAME] [--max-tokens N] [--temperature T] [--stream] "message"
  jobs submit [--model NAME] [--max-tokens N] [--temperature T] [--prompt] [--idempotency-key K] [--wait] "message"
  jobs list [--status S] [--model NAME] [--limit N] [--cursor C] | get ID | cancel ID
  models                                            the models the caller may use (OpenAI list)
  catalog list | get NAME | register NAME SOURCE [--team ID] | delete NAME
  deploy NAME --model M [--replicas N] [--context N] [--parallel N] [--kv-cache f16|q8_0|...] [--flash-attention]
         [--count N] [--instance-type T] [--preferred n1,n2] [--placement binpack|spread] [--team ID] [--dry-run]
  deployments list | get ID | delete ID
  nodes                                        the fleet: status, GPUs (simulated ones marked), replicas, jobs
  nodes get ID | approve ID | cordon ID | uncordon ID | drain ID | revoke ID | delete ID
  nodes label ID k=v,... | taint ID key=value:NoSchedule,...      (each replaces what the node had)
  nodes join-token [--max-uses N|--unlimited] [--auto-approve] [--ttl SECONDS] [--labels k=v,...]
  nodes load ID MODEL [--context N] [--parallel N] [--gpu-layers N|auto|max] [--wait]   (a progress bar while it pulls)
  nodes unload ID REPLICA_ID | loads [--model NAME]
  instance-types

  endpoints                                    remote places serving models: state, circuit, routable, models, last check
  endpoints get ID|NAME | remove ID|NAME | refresh ID|NAME | enable ID|NAME | disable ID|NAME
  endpoints add NAME --kind gridline|backendai|openai --url URL (--access-key AK --secret-key SK | --api-key KEY)
                [--weight N] [--interval SECONDS] [--timeout SECONDS]
                (here --url is the endpoint's address; the api's comes from GRIDLINE_URL or the login)
  endpoints alias ID|NAME REMOTE_MODEL ALIAS   the name clients use here for one of its models
  fallbacks | fallbacks set MODEL a,b,c | fallbacks clear MODEL     where a model's requests go when nothing serves it

  request METHOD PATH [JSON_BODY]

Options: --url URL  --credentials FILE  --json (print raw JSON)`;

/** A row of `GET /api/v1/usage`. */
interface UsageLine {
  team: { name: string } | null;
  model: string | null;
  key: { kind: 'keypair' | 'token'; label: string } | null;
  user: { email: string | null } | null;
  day: string | null;
  endpoint: { id: string; name: string | null } | null;
  requests: number;
  outcomes: { failed: number };
  promptTokens: number;
  cachedPromptTokens: number;
  completionTokens: number;
  firstTokenMs: { p50: number | null };
  totalMs: { p50: number | null };
}

interface Credentials {
  url: string;
  accessKey: string;
  secretKey: string;
}

export function configFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'gridline', 'credentials.json');
}

function readCredentials(path: string): Credentials | null {
  if (!existsSync(path)) return null;
  const saved = JSON.parse(readFileSync(path, 'utf8')) as Partial<Credentials>;
  if (!saved.accessKey || !saved.secretKey) throw new CliError(`${path} has no accessKey/secretKey`);
  return { url: saved.url ?? 'http://127.0.0.1:8080', accessKey: saved.accessKey, secretKey: saved.secretKey };
}

function credentials(flags: { credentials?: string; url?: string }): Credentials {
  const env = process.env;
  let found: Credentials | null = null;
  if (env.GRIDLINE_ACCESS_KEY && env.GRIDLINE_SECRET_KEY) {
    found = { url: env.GRIDLINE_URL || 'http://127.0.0.1:8080', accessKey: env.GRIDLINE_ACCESS_KEY, secretKey: env.GRIDLINE_SECRET_KEY };
  } else if (flags.credentials) {
    found = readCredentials(flags.credentials);
    if (!found) throw new CliError(`no such file: ${flags.credentials}`);
  } else {
    found = readCredentials(configFile()) ?? readCredentials('.gridline/admin.json');
  }
  if (!found) throw new CliError('not logged in: run `gridline login --url URL --access-key AK --secret-key SK`, or start the local stack (npm start)');
  return { ...found, url: flags.url || env.GRIDLINE_URL || found.url };
}

async function call(creds: Credentials, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown; res: Response }> {
  const res = await signingFetch(creds)(new URL(path, creds.url).toString(), {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (method !== 'POST' || !path.startsWith('/v1/chat')) {
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null, res };
  }
  return { status: res.status, json: null, res };
}

function fail(r: { status: number; json: unknown }): never {
  const j = r.json as { detail?: string; code?: string; error?: { message: string; code: string } } | null;
  const message = j?.error ? `${j.error.message} (${j.error.code})` : j?.detail ? `${j.detail} (${j.code})` : `HTTP ${r.status}`;
  throw new CliError(message);
}

async function ok(creds: Credentials, method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await call(creds, method, path, body);
  if (r.status >= 400) fail(r);
  return r.json;
}

function print(value: unknown, columns: string[] | null, raw: boolean): void {
  const page = value as { items?: Record<string, unknown>[]; total?: number };
  if (raw || !columns || !Array.isArray(page?.items)) {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  const rows = page.items.map((item) => columns.map((c) => (item[c] === null || item[c] === undefined ? '-' : String(item[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd();
  process.stdout.write(`${line(columns)}\n${rows.map(line).join('\n')}${rows.length ? '\n' : ''}(${rows.length} of ${page.total})\n`);
}

const qs = (params: Record<string, string | undefined>) => {
  const entries = Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined);
  return entries.length ? `?${new URLSearchParams(entries).toString()}` : '';
};
const int = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new CliError(`--${name} must be a whole number`);
  return Number(v);
};
const need = (v: string | undefined, what: string): string => {
  if (!v) throw new CliError(`missing ${what}\n\n${USAGE}`);
  return v;
};

/** The model named by --model, else the first the stack serves. */
async function modelOrFirst(creds: Credentials, model: string | undefined): Promise<string> {
  if (model) return model;
  const list = (await ok(creds, 'GET', '/v1/models')) as { data?: { id: string }[] };
  const first = list.data?.[0]?.id;
  if (!first) throw new CliError('the stack serves no model yet');
  return first;
}

async function chat(creds: Credentials, message: string, flags: { model?: string; 'max-tokens'?: string; temperature?: string; stream?: boolean }): Promise<void> {
  const model = await modelOrFirst(creds, flags.model);
  const body = {
    model,
    messages: [{ role: 'user', content: message }],
    max_tokens: int(flags['max-tokens'], 'max-tokens') ?? 64,
    ...(flags.temperature !== undefined ? { temperature: Number(flags.temperature) } : {}),
    stream: flags.stream === true,
  };
  const { res, status } = await call(creds, 'POST', '/v1/chat/completions', body);
  if (status >= 400) fail({ status, json: await res.json() });
  if (!flags.stream) {
    const json = (await res.json()) as { choices: { message: { content: string } }[]; usage: Record<string, number> };
    process.stdout.write(`${json.choices[0].message.content}\n`);
    process.stderr.write(`[${model}] ${JSON.stringify(json.usage)}\n`);
    return;
  }
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(part, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf('\n\n')) >= 0) {
      const line = buffer.slice(0, nl).replace(/^data: /, '');
      buffer = buffer.slice(nl + 2);
      if (line === '[DONE]') continue;
      const chunk = JSON.parse(line) as { choices?: { delta?: { content?: string } }[]; error?: { message: string } };
      if (chunk.error) throw new CliError(chunk.error.message);
      process.stdout.write(chunk.choices?.[0]?.delta?.content ?? '');
    }
  }
  process.stdout.write('\n');
}

const JOB_COLUMNS = ['id', 'status', 'model', 'kind', 'mode', 'attempt', 'queued_at', 'tokens', 'error'];
const TERMINAL = ['succeeded', 'failed', 'cancelled', 'expired'];

interface JobView {
  id: string;
  status: string;
  timings: { queued_at: string };
  usage: { completion_tokens: number } | null;
  result: { text: string } | null;
  error: { code: string; message: string } | null;
}

function jobRow(j: JobView & Record<string, unknown>): Record<string, unknown> {
  return { ...j, queued_at: j.timings.queued_at, tokens: j.usage?.completion_tokens ?? null, error: j.error?.code ?? null };
}

async function submitJob(creds: Credentials, message: string, f: { model?: string; 'max-tokens'?: string; temperature?: string; prompt?: boolean; 'idempotency-key'?: string; wait?: boolean; json?: boolean }): Promise<number> {
  const body = {
    model: await modelOrFirst(creds, f.model),
    ...(f.prompt ? { prompt: message } : { messages: [{ role: 'user', content: message }] }),
    max_tokens: int(f['max-tokens'], 'max-tokens') ?? 64,
    ...(f.temperature !== undefined ? { temperature: Number(f.temperature) } : {}),
  };
  const res = await signingFetch(creds)(new URL('/api/v1/jobs', creds.url).toString(), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(f['idempotency-key'] ? { 'idempotency-key': f['idempotency-key'] } : {}) },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as JobView;
  if (res.status >= 400) fail({ status: res.status, json });
  if (!f.wait) {
    process.stdout.write(f.json ? `${JSON.stringify(json, null, 2)}\n` : `${json.id}\n`);
    return 0;
  }
  let job = json;
  while (!TERMINAL.includes(job.status)) {
    await new Promise((r) => setTimeout(r, 250));
    job = (await ok(creds, 'GET', `/api/v1/jobs/${json.id}`)) as JobView;
  }
  if (f.json) process.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
  else if (job.result) process.stdout.write(`${job.result.text}\n`);
  else process.stderr.write(`job ${job.id} ${job.status}: ${job.error?.code ?? ''} ${job.error?.message ?? ''}\n`);
  return job.status === 'succeeded' ? 0 : 1;
}

/** `GET /api/v1/teams/{id}/quotas`, as `gridline quotas` reads and rewrites it. */
interface QuotaLimitsView {
  maxConcurrentJobs: number | null;
  maxQueuedJobs: number | null;
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  tokensPerDay: number | null;
}
interface TeamQuotasView {
  teamId: string;
  limits: QuotaLimitsView | null;
  usage: Record<string, number | null> | null;
  keys: { kind: 'keypair' | 'token'; id: string; limits: QuotaLimitsView; usage: Record<string, number | null> | null }[];
  models: { model: string; limits: QuotaLimitsView; usage: Record<string, number | null> | null }[];
}

const QUOTA_FLAGS = { concurrent: 'maxConcurrentJobs', queued: 'maxQueuedJobs', rpm: 'requestsPerMinute', tpm: 'tokensPerMinute', tpd: 'tokensPerDay' } as const;
const USAGE_FOR = { concurrent: 'concurrentJobs', queued: 'queuedJobs', rpm: 'requestsThisMinute', tpm: 'tokensThisMinute', tpd: 'tokensToday' } as const;

/**
 * `gridline quotas`: shows a team's quotas as a table (limit, and in brackets its use now), or
 * changes one scope of them: the current set is read, that scope's entry changed, and the set
 * written back whole (PUT replaces it).
 */
async function quotas(creds: Credentials, sub: string | null, f: Record<string, string | boolean | undefined>, raw: boolean): Promise<number> {
  const str = (k: string) => (typeof f[k] === 'string' ? (f[k] as string) : undefined);
  const team = str('team') ?? ((await ok(creds, 'GET', '/api/v1/whoami')) as { teamId: string }).teamId;
  const path = `/api/v1/teams/${encodeURIComponent(team)}/quotas`;
  const current = (await ok(creds, 'GET', path)) as TeamQuotasView;
  if (sub === null) {
    if (raw) {
      print(current, null, true);
      return 0;
    }
    const cell = (limits: QuotaLimitsView, usage: Record<string, number | null> | null, flag: keyof typeof QUOTA_FLAGS) => {
      const limit = limits[QUOTA_FLAGS[flag]];
      const used = usage?.[USAGE_FOR[flag]];
      return limit === null ? null : used === null || used === undefined ? String(limit) : `${limit} (${used})`;
    };
    const row = (scope: string, limits: QuotaLimitsView, usage: Record<string, number | null> | null) => ({ scope, ...Object.fromEntries(Object.keys(QUOTA_FLAGS).map((k) => [k, cell(limits, usage, k as keyof typeof QUOTA_FLAGS)])) });
    const items = [
      ...(current.limits ? [row('team', current.limits, current.usage)] : []),
      ...current.keys.map((k) => row(`${k.kind} ${k.id}`, k.limits, k.usage)),
      ...current.models.map((m) => row(`model ${m.model}`, m.limits, m.usage)),
    ];
    print({ items, total: items.length }, ['scope', ...Object.keys(QUOTA_FLAGS)], false);
    return 0;
  }
  if ([str('keypair'), str('token'), str('model')].filter(Boolean).length > 1) throw new CliError('give at most one of --keypair, --token and --model');
  // A keypair is named by its access key; the quota API takes its id.
  const keypair = str('keypair') ? ((await ok(creds, 'GET', `/api/v1/keypairs/${encodeURIComponent(str('keypair') as string)}`)) as { id: string }).id : undefined;
  const token = str('token');
  const model = str('model');
  const existing: QuotaLimitsView | null = keypair
    ? (current.keys.find((k) => k.kind === 'keypair' && k.id === keypair)?.limits ?? null)
    : token
      ? (current.keys.find((k) => k.kind === 'token' && k.id === token)?.limits ?? null)
      : model
        ? (current.models.find((m) => m.model === model)?.limits ?? null)
        : current.limits;
  let next: QuotaLimitsView | null = null;
  if (sub === 'set') {
    next = { ...(existing ?? { maxConcurrentJobs: null, maxQueuedJobs: null, requestsPerMinute: null, tokensPerMinute: null, tokensPerDay: null }) };
    for (const [flag, field] of Object.entries(QUOTA_FLAGS) as [keyof typeof QUOTA_FLAGS, keyof QuotaLimitsView][]) {
      const v = str(flag);
      if (v !== undefined) next[field] = v === 'none' ? null : (int(v, flag) as number);
    }
  }
  const keys = current.keys.filter((k) => !(k.id === keypair || k.id === token)).map(({ kind, id, limits }) => ({ kind, id, limits }));
  const models = current.models.filter((m) => m.model !== model).map(({ model: name, limits }) => ({ model: name, limits }));
  if (next && keypair) keys.push({ kind: 'keypair', id: keypair, limits: next });
  if (next && token) keys.push({ kind: 'token', id: token, limits: next });
  if (next && model) models.push({ model, limits: next });
  const own = keypair || token || model ? current.limits : next;
  print(await ok(creds, 'PUT', path, { limits: own, keys, models }), null, true);
  return 0;
}

/**
 * `gridline endpoints` and `gridline fallbacks`: the mesh, superadmins only. An endpoint is named by
 * its id or its name (looked up in the list). What the api answers never holds a secret: the
 * credentials go in the request and only their hint comes back.
 */
async function mesh(creds: Credentials, command: string, sub: string | null, [a, b, c]: string[], f: Record<string, string | boolean | undefined>, raw: boolean): Promise<number> {
  const str = (k: string) => (typeof f[k] === 'string' ? (f[k] as string) : undefined);
  const list = async () => ((await ok(creds, 'GET', '/api/v1/endpoints')) as { items: EndpointView[] }).items;
  const path = async (idOrName: string | undefined) => `/api/v1/endpoints/${await endpointId(need(idOrName, 'ID|NAME'), list)}`;
  const show = (e: unknown) => (raw ? print(e, null, true) : process.stdout.write(endpointDetail(e as EndpointView)));
  switch (`${command} ${sub ?? ''}`.trim()) {
    case 'endpoints':
      if (raw) print({ items: await list() }, null, true);
      else process.stdout.write(endpointsTable(await list()));
      return 0;
    case 'endpoints get':
      show(await ok(creds, 'GET', await path(a)));
      return 0;
    case 'endpoints add': {
      const body = endpointBody(need(a, 'NAME'), {
        kind: str('kind'),
        url: str('url'),
        'access-key': str('access-key'),
        'secret-key': str('secret-key'),
        'api-key': str('api-key'),
        weight: int(str('weight'), 'weight'),
        interval: int(str('interval'), 'interval'),
        timeout: int(str('timeout'), 'timeout'),
      });
      show(await ok(creds, 'POST', '/api/v1/endpoints', body));
      return 0;
    }
    case 'endpoints remove':
      await ok(creds, 'DELETE', await path(a));
      return 0;
    case 'endpoints refresh':
      show(await ok(creds, 'POST', `${await path(a)}/refresh`));
      return 0;
    case 'endpoints enable':
    case 'endpoints disable':
      show(await ok(creds, 'PATCH', await path(a), { enabled: sub === 'enable' }));
      return 0;
    case 'endpoints alias':
      print(await ok(creds, 'PATCH', `${await path(a)}/models/${encodeURIComponent(need(b, 'REMOTE_MODEL'))}`, { alias: need(c, 'ALIAS') }), null, true);
      return 0;
    case 'fallbacks': {
      const chains = (await ok(creds, 'GET', '/api/v1/fallbacks')) as { items: FallbackView[] };
      if (raw) print(chains, null, true);
      else process.stdout.write(fallbacksTable(chains.items));
      return 0;
    }
    case 'fallbacks set': {
      const chain = need(b, 'a,b,c').split(',').map((m) => m.trim()).filter(Boolean);
      print(await ok(creds, 'PUT', `/api/v1/fallbacks/${encodeURIComponent(need(a, 'MODEL'))}`, { chain }), null, true);
      return 0;
    }
    case 'fallbacks clear':
      await ok(creds, 'DELETE', `/api/v1/fallbacks/${encodeURIComponent(need(a, 'MODEL'))}`);
      return 0;
    default:
      throw new CliError(`unknown command: ${[command, sub].filter(Boolean).join(' ')}\n\n${USAGE}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const { values: f, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      credentials: { type: 'string' },
      'access-key': { type: 'string' },
      'secret-key': { type: 'string' },
      'api-key': { type: 'string' },
      kind: { type: 'string' },
      interval: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
      model: { type: 'string' },
      'max-tokens': { type: 'string' },
      temperature: { type: 'string' },
      stream: { type: 'boolean', default: false },
      prompt: { type: 'boolean', default: false },
      wait: { type: 'boolean', default: false },
      'idempotency-key': { type: 'string' },
      status: { type: 'string' },
      cursor: { type: 'string' },
      name: { type: 'string' },
      email: { type: 'string' },
      user: { type: 'string' },
      team: { type: 'string' },
      role: { type: 'string' },
      superadmin: { type: 'boolean', default: false },
      weight: { type: 'string' },
      'quota-gpus': { type: 'string' },
      'quota-gpu-memory': { type: 'string' },
      keypair: { type: 'string' },
      token: { type: 'string' },
      concurrent: { type: 'string' },
      queued: { type: 'string' },
      rpm: { type: 'string' },
      tpm: { type: 'string' },
      tpd: { type: 'string' },
      expires: { type: 'string' },
      grace: { type: 'string' },
      scope: { type: 'string' },
      models: { type: 'string' },
      action: { type: 'string' },
      since: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'group-by': { type: 'string' },
      csv: { type: 'boolean', default: false },
      limit: { type: 'string' },
      replicas: { type: 'string' },
      context: { type: 'string' },
      parallel: { type: 'string' },
      'kv-cache': { type: 'string' },
      'flash-attention': { type: 'boolean', default: false },
      count: { type: 'string' },
      'instance-type': { type: 'string' },
      preferred: { type: 'string' },
      placement: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'max-uses': { type: 'string' },
      unlimited: { type: 'boolean', default: false },
      'auto-approve': { type: 'boolean', default: false },
      ttl: { type: 'string' },
      labels: { type: 'string' },
      'gpu-layers': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const [command, sub, ...rest] = positionals;
  if (f.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return f.help ? 0 : 2;
  }

  if (command === 'login') {
    const creds = { url: f.url || process.env.GRIDLINE_URL || 'http://127.0.0.1:8080', accessKey: need(f['access-key'], '--access-key'), secretKey: need(f['secret-key'], '--secret-key') };
    const me = (await ok(creds, 'GET', '/api/v1/whoami')) as { role: string; teamId: string; label: string };
    const path = configFile();
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
    chmodSync(path, 0o600);
    process.stdout.write(`logged in to ${creds.url} as ${me.label} (${me.role}, team ${me.teamId}); credentials in ${path}\n`);
    return 0;
  }
  if (command === 'logout') {
    rmSync(configFile(), { force: true });
    process.stdout.write('logged out\n');
    return 0;
  }

  // `endpoints add --url` names the endpoint, not the api.
  const creds = credentials(command === 'endpoints' && sub === 'add' ? { credentials: f.credentials } : f);
  const raw = f.json === true;
  const teamBody = () => ({
    ...(f.weight !== undefined ? { weight: int(f.weight, 'weight') } : {}),
    ...(f['quota-gpus'] !== undefined ? { quotaGpus: int(f['quota-gpus'], 'quota-gpus') } : {}),
    ...(f['quota-gpu-memory'] !== undefined ? { quotaGpuMemoryBytes: int(f['quota-gpu-memory'], 'quota-gpu-memory') } : {}),
  });
  const [a, b] = rest;
  const single = ['whoami', 'audit', 'usage', 'models', 'request', 'chat', 'deploy', 'instance-types'].includes(command) || (command === 'nodes' && !sub) || (command === 'quotas' && !sub) || (command === 'endpoints' && !sub) || (command === 'fallbacks' && !sub);
  switch (single ? command : `${command} ${sub ?? ''}`.trim()) {
    case 'whoami':
      print(await ok(creds, 'GET', '/api/v1/whoami'), null, raw);
      return 0;
    case 'teams list':
      print(await ok(creds, 'GET', `/api/v1/teams${qs({ name: f.name, limit: f.limit })}`), ['id', 'name', 'weight', 'quotaGpus'], raw);
      return 0;
    case 'teams get':
      print(await ok(creds, 'GET', `/api/v1/teams/${need(a, 'ID')}`), null, raw);
      return 0;
    case 'teams create':
      print(await ok(creds, 'POST', '/api/v1/teams', { name: need(a, 'NAME'), ...teamBody() }), null, raw);
      return 0;
    case 'teams update':
      print(await ok(creds, 'PATCH', `/api/v1/teams/${need(a, 'ID')}`, { ...(f.name ? { name: f.name } : {}), ...teamBody() }), null, raw);
      return 0;
    case 'teams delete':
      await ok(creds, 'DELETE', `/api/v1/teams/${need(a, 'ID')}`);
      return 0;
    case 'teams members':
      print(await ok(creds, 'GET', `/api/v1/teams/${need(a, 'TEAM_ID')}/members`), ['userId', 'email', 'displayName', 'role'], raw);
      return 0;
    case 'teams add-member':
      print(await ok(creds, 'PUT', `/api/v1/teams/${need(a, 'TEAM_ID')}/members/${need(b, 'USER_ID')}`, { role: need(f.role, '--role') }), null, raw);
      return 0;
    case 'teams remove-member':
      await ok(creds, 'DELETE', `/api/v1/teams/${need(a, 'TEAM_ID')}/members/${need(b, 'USER_ID')}`);
      return 0;
    case 'users list':
      print(await ok(creds, 'GET', `/api/v1/users${qs({ email: f.email, limit: f.limit })}`), ['id', 'email', 'displayName', 'isSuperadmin'], raw);
      return 0;
    case 'users me':
      print(await ok(creds, 'GET', '/api/v1/users/me'), null, raw);
      return 0;
    case 'users get':
      print(await ok(creds, 'GET', `/api/v1/users/${need(a, 'ID')}`), null, raw);
      return 0;
    case 'users create':
      print(
        await ok(creds, 'POST', '/api/v1/users', {
          email: need(a, 'EMAIL'),
          displayName: need(b, 'NAME'),
          ...(f.team ? { teamId: f.team } : {}),
          ...(f.role ? { role: f.role } : {}),
          ...(f.superadmin ? { isSuperadmin: true } : {}),
        }),
        null,
        raw,
      );
      return 0;
    case 'users delete':
      await ok(creds, 'DELETE', `/api/v1/users/${need(a, 'ID')}`);
      return 0;
    case 'keys list':
      print(await ok(creds, 'GET', `/api/v1/keypairs${qs({ userId: f.user, limit: f.limit })}`), ['accessKey', 'userId', 'teamId', 'isActive', 'expiresAt', 'lastUsedAt'], raw);
      return 0;
    case 'keys get':
      print(await ok(creds, 'GET', `/api/v1/keypairs/${need(a, 'ACCESS_KEY')}`), null, raw);
      return 0;
    case 'keys create':
      print(await ok(creds, 'POST', '/api/v1/keypairs', { ...(f.user ? { userId: f.user } : {}), ...(f.team ? { teamId: f.team } : {}), ...(f.expires ? { expiresAt: f.expires } : {}) }), null, raw);
      process.stderr.write('The secret key is shown this once: store it now.\n');
      return 0;
    case 'keys rotate':
      print(await ok(creds, 'POST', `/api/v1/keypairs/${need(a, 'ACCESS_KEY')}/rotate`, { graceSeconds: int(need(f.grace, '--grace SECONDS'), 'grace') }), null, raw);
      process.stderr.write('The new secret key is shown this once: store it now.\n');
      return 0;
    case 'keys disable':
    case 'keys enable':
      print(await ok(creds, 'PATCH', `/api/v1/keypairs/${need(a, 'ACCESS_KEY')}`, { isActive: sub === 'enable' }), null, raw);
      return 0;
    case 'keys delete':
      await ok(creds, 'DELETE', `/api/v1/keypairs/${need(a, 'ACCESS_KEY')}`);
      return 0;
    case 'tokens list':
      print(await ok(creds, 'GET', `/api/v1/tokens${qs({ userId: f.user, limit: f.limit })}`), ['id', 'prefix', 'name', 'scope', 'models', 'expiresAt', 'lastUsedAt'], raw);
      return 0;
    case 'tokens create':
      print(
        await ok(creds, 'POST', '/api/v1/tokens', {
          name: need(a, 'NAME'),
          scope: need(f.scope, '--scope inference|management'),
          ...(f.models ? { models: f.models.split(',').map((m) => m.trim()) } : {}),
          ...(f.expires ? { expiresAt: f.expires } : {}),
          ...(f.user ? { userId: f.user } : {}),
        }),
        null,
        raw,
      );
      process.stderr.write('The token is shown this once: store it now.\n');
      return 0;
    case 'tokens revoke':
      await ok(creds, 'DELETE', `/api/v1/tokens/${need(a, 'ID')}`);
      return 0;
    case 'usage': {
      const query = qs({ from: f.from as string | undefined, to: f.to as string | undefined, groupBy: f['group-by'] as string | undefined, teamId: f.team as string | undefined, ...(f.csv ? { format: 'csv' } : {}) });
      if (f.csv) {
        const res = await signingFetch(creds)(new URL(`/api/v1/usage${query}`, creds.url).toString(), { headers: { accept: 'text/csv' } });
        const text = await res.text();
        if (res.status >= 400) fail({ status: res.status, json: JSON.parse(text) as unknown });
        process.stdout.write(text);
        return 0;
      }
      const usage = (await ok(creds, 'GET', `/api/v1/usage${query}`)) as { groupBy: string[]; items: UsageLine[] };
      const items = usage.items.map((u) => ({
        team: u.team?.name,
        model: u.model,
        key: u.key ? `${u.key.kind === 'token' ? 'token ' : ''}${u.key.label}` : undefined,
        user: u.user?.email,
        day: u.day,
        // Null is a job served here; a removed endpoint keeps only its id.
        endpoint: u.endpoint ? (u.endpoint.name ?? u.endpoint.id) : 'local',
        requests: u.requests,
        failed: u.outcomes.failed,
        prompt: u.promptTokens,
        cached: u.cachedPromptTokens,
        completion: u.completionTokens,
        'ttft p50 ms': u.firstTokenMs.p50,
        'total p50 ms': u.totalMs.p50,
      }));
      // The columns of the groups asked for, in the api's order ('local' would otherwise show an endpoint column nobody asked for).
      const groups = ['team', 'model', 'key', 'user', 'day', 'endpoint'].filter((g) => usage.groupBy.includes(g));
      print({ items, total: items.length }, [...groups, 'requests', 'failed', 'prompt', 'cached', 'completion', 'ttft p50 ms', 'total p50 ms'], raw);
      return 0;
    }
    case 'quotas':
    case 'quotas set':
    case 'quotas clear':
      return quotas(creds, sub ?? null, f, raw);
    case 'audit':
      print(await ok(creds, 'GET', `/api/v1/audit${qs({ action: f.action, since: f.since, limit: f.limit })}`), ['createdAt', 'action', 'targetType', 'targetId', 'actorCredential', 'teamId'], raw);
      return 0;
    case 'models':
      print(await ok(creds, 'GET', '/v1/models'), null, true);
      return 0;
    case 'catalog list':
      print(await ok(creds, 'GET', `/api/v1/models${qs({ limit: f.limit })}`), ['name', 'architecture', 'layers', 'contextLength', 'sizeBytes', 'headerOnly', 'teamId'], raw);
      return 0;
    case 'catalog get':
      print(await ok(creds, 'GET', `/api/v1/models/${encodeURIComponent(need(a, 'NAME'))}`), null, true);
      return 0;
    case 'catalog register':
      print(await ok(creds, 'POST', '/api/v1/models', { name: need(a, 'NAME'), source: need(b, 'SOURCE'), ...(f.team ? { teamId: f.team } : {}) }), null, true);
      return 0;
    case 'catalog delete':
      await ok(creds, 'DELETE', `/api/v1/models/${encodeURIComponent(need(a, 'NAME'))}`);
      return 0;
    case 'deploy':
      return deploy(creds, need(sub, 'NAME'), f, raw);
    case 'deployments list':
      print(await ok(creds, 'GET', `/api/v1/deployments${qs({ limit: f.limit })}`), ['id', 'name', 'model', 'replicas', 'phase', 'teamId'], raw);
      return 0;
    case 'deployments get':
      print(await ok(creds, 'GET', `/api/v1/deployments/${need(a, 'ID')}`), null, true);
      return 0;
    case 'deployments delete':
      await ok(creds, 'DELETE', `/api/v1/deployments/${need(a, 'ID')}`);
      return 0;
    case 'nodes':
      if (raw) print(await ok(creds, 'GET', '/api/v1/nodes'), null, true);
      else process.stdout.write(nodesTable(((await ok(creds, 'GET', '/api/v1/nodes')) as { items: NodeView[] }).items));
      return 0;
    case 'nodes get':
      print(await ok(creds, 'GET', `/api/v1/nodes/${need(a, 'ID')}`), null, true);
      return 0;
    case 'nodes approve':
    case 'nodes cordon':
    case 'nodes uncordon':
    case 'nodes drain':
    case 'nodes revoke': {
      const n = (await ok(creds, 'POST', `/api/v1/nodes/${need(a, 'ID')}/${sub}`)) as NodeView;
      process.stdout.write(`${n.name}: ${n.status}${n.reason ? ` (${n.reason})` : ''}\n`);
      return 0;
    }
    case 'nodes delete':
      await ok(creds, 'DELETE', `/api/v1/nodes/${need(a, 'ID')}`);
      return 0;
    case 'nodes label':
      print(await ok(creds, 'PATCH', `/api/v1/nodes/${need(a, 'ID')}`, { labels: parseLabels(b ?? '') }), null, true);
      return 0;
    case 'nodes taint':
      print(await ok(creds, 'PATCH', `/api/v1/nodes/${need(a, 'ID')}`, { taints: parseTaints(b ?? '') }), null, true);
      return 0;
    case 'nodes join-token': {
      const body = {
        maxUses: f.unlimited ? null : (int(f['max-uses'], 'max-uses') ?? 1),
        autoApprove: f['auto-approve'] === true,
        ...(f.ttl ? { ttlSeconds: int(f.ttl, 'ttl') } : {}),
        ...(f.labels ? { labels: parseLabels(f.labels) } : {}),
      };
      const t = (await ok(creds, 'POST', '/api/v1/join-tokens', body)) as { token: string; installCommand: string; expiresAt: string; maxUses: number | null };
      if (raw) print(t, null, true);
      else process.stdout.write(`join token (shown once; ${t.maxUses === null ? 'any number of joins' : `${t.maxUses} join(s)`} until ${t.expiresAt}):\n  ${t.token}\non the GPU host:\n  ${t.installCommand}\n`);
      return 0;
    }
    case 'nodes load': {
      const body = { model: need(b, 'MODEL'), ...(f.context ? { contextSize: int(f.context, 'context') } : {}), ...(f.parallel ? { parallel: int(f.parallel, 'parallel') } : {}), ...(f['gpu-layers'] ? { gpuLayers: f['gpu-layers'] } : {}) };
      const r = (await ok(creds, 'POST', `/api/v1/nodes/${need(a, 'ID')}/replicas`, body)) as { id: string };
      process.stdout.write(`replica ${r.id}\n`);
      if (!f.wait) return 0;
      const end = await followReplica(async () => (await ok(creds, 'GET', `/api/v1/nodes/${a}`)) as NodeView, r.id, process.stdout);
      if (end.state === 'Failed') throw new CliError(`the load failed: ${end.reason}`);
      return 0;
    }
    case 'nodes unload':
      await ok(creds, 'DELETE', `/api/v1/nodes/${need(a, 'ID')}/replicas/${need(b, 'REPLICA_ID')}`);
      return 0;
    case 'nodes loads':
      print(await ok(creds, 'GET', `/api/v1/nodes/loads${qs({ model: f.model })}`), null, true);
      return 0;
    case 'endpoints':
    case 'endpoints get':
    case 'endpoints add':
    case 'endpoints remove':
    case 'endpoints refresh':
    case 'endpoints enable':
    case 'endpoints disable':
    case 'endpoints alias':
    case 'fallbacks':
    case 'fallbacks set':
    case 'fallbacks clear':
      return mesh(creds, command, sub ?? null, rest, f, raw);
    case 'instance-types':
      print(await ok(creds, 'GET', '/api/v1/instance-types'), ['name', 'provider', 'gpuModel', 'gpuCount', 'gpuMemoryBytes'], raw);
      return 0;
    case 'request': {
      const [method, path, body] = [sub, a, b];
      const r = await call(creds, need(method, 'METHOD').toUpperCase(), need(path, 'PATH'), body ? JSON.parse(body) : undefined);
      print(r.json, null, true);
      return r.status < 400 ? 0 : 1;
    }
    case 'jobs submit':
      return submitJob(creds, rest.filter(Boolean).join(' ') || need(undefined, 'a message'), { ...f, json: raw });
    case 'jobs list': {
      const page = (await ok(creds, 'GET', `/api/v1/jobs${qs({ status: f.status, model: f.model, limit: f.limit, cursor: f.cursor })}`)) as { data: (JobView & Record<string, unknown>)[]; next_cursor: string | null };
      if (raw) print(page, null, true);
      else {
        print({ items: page.data.map(jobRow), total: page.next_cursor ? `more: --cursor ${page.next_cursor}` : page.data.length }, JOB_COLUMNS, false);
      }
      return 0;
    }
    case 'jobs get':
      print(await ok(creds, 'GET', `/api/v1/jobs/${need(a, 'ID')}`), null, true);
      return 0;
    case 'jobs cancel':
      print(await ok(creds, 'DELETE', `/api/v1/jobs/${need(a, 'ID')}`), null, true);
      return 0;
    case 'chat':
      await chat(creds, [sub, ...rest].filter(Boolean).join(' ') || need(undefined, 'a message'), f);
      return 0;
    default:
      throw new CliError(`unknown command: ${[command, sub].filter(Boolean).join(' ')}\n\n${USAGE}`);
  }
}

interface PlanView {
  feasible: boolean;
  applicable: boolean;
  targetNodeCount: number;
  reasons: string[];
  rules: { rule: string; passed: boolean; blocks: string; message: string }[];
  replicas: { nodes: { name: string; gpus: { index: number; layers: [number, number] | null; bytes: number }[] }[] }[];
  memory: { weightsBytes: number; kvCacheBytes: number; computeBytes: number; overheadBytes: number; totalBytes: number };
  yaml: string;
}

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(2)} GiB`;

/** A plan as a person reads it: the verdict, the memory of one replica, every rule, where each replica goes, the YAML. */
function printPlan(plan: PlanView): void {
  const out: string[] = [];
  const verdict = !plan.feasible ? 'does not fit' : plan.applicable ? 'fits' : 'fits, but cannot be applied yet';
  out.push(`Plan: ${verdict} (${plan.replicas.length} replica(s) on ${plan.targetNodeCount} node(s))`);
  const m = plan.memory;
  out.push(`Memory per replica: ${gib(m.totalBytes)} = weights ${gib(m.weightsBytes)} + KV cache ${gib(m.kvCacheBytes)} + compute ${gib(m.computeBytes)} + overhead ${gib(m.overheadBytes)}`);
  out.push('Rules:');
  for (const r of plan.rules) out.push(`  ${r.passed ? 'ok  ' : r.blocks === 'apply' ? 'HOLD' : 'FAIL'} ${r.rule.padEnd(20)} ${r.message}`);
  for (const reason of plan.reasons) out.push(`Note: ${reason}`);
  plan.replicas.forEach((replica, i) => {
    out.push(`Replica ${i + 1}:`);
    for (const node of replica.nodes) {
      for (const g of node.gpus) out.push(`  ${node.name} GPU ${g.index}: ${g.layers ? `layers ${g.layers[0]}-${g.layers[1]}` : 'fixed part only'}, ${gib(g.bytes)}`);
    }
  });
  out.push('---', plan.yaml.trimEnd());
  process.stdout.write(`${out.join('\n')}\n`);
}

async function deploy(creds: Credentials, name: string, f: Record<string, string | boolean | undefined>, raw: boolean): Promise<number> {
  const str = (k: string) => (typeof f[k] === 'string' ? (f[k] as string) : undefined);
  const runtime = {
    ...(str('context') ? { contextSize: int(str('context'), 'context') } : {}),
    ...(str('parallel') ? { parallel: int(str('parallel'), 'parallel') } : {}),
    ...(str('kv-cache') ? { kvCacheType: str('kv-cache') } : {}),
    ...(f['flash-attention'] ? { flashAttention: true } : {}),
  };
  const resource = {
    ...(str('count') ? { count: int(str('count'), 'count') } : {}),
    ...(str('instance-type') ? { instanceType: str('instance-type') } : {}),
    ...(str('preferred') ? { preferredNodes: (str('preferred') as string).split(',') } : {}),
  };
  const body = {
    name,
    model: need(str('model'), '--model'),
    ...(str('team') ? { teamId: str('team') } : {}),
    ...(str('replicas') ? { replicas: int(str('replicas'), 'replicas') } : {}),
    ...(str('placement') ? { placement: str('placement') } : {}),
    ...(Object.keys(runtime).length ? { runtime } : {}),
    ...(Object.keys(resource).length ? { resource } : {}),
  };
  const dryRun = f['dry-run'] === true;
  const r = await call(creds, 'POST', `/api/v1/deployments${dryRun ? '?dryRun=true' : ''}`, body);
  const plan = (r.status < 400 ? (dryRun ? r.json : (r.json as { plan?: unknown }).plan) : (r.json as { plan?: unknown } | null)?.plan) as PlanView | undefined;
  if (raw) print(r.json, null, true);
  else if (plan) printPlan(plan);
  if (r.status >= 400) fail(r);
  if (!raw && !dryRun) process.stdout.write(`Deployment ${(r.json as { id: string }).id} stored (${(r.json as { phase: string }).phase}).\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: Error) => {
    process.stderr.write(`gridline: ${e instanceof CliError || e instanceof TypeError ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
