import { ENDPOINT_KINDS, EndpointKind } from '@gridline/mesh';
import { CliError } from './cli-error';

/** An endpoint as `GET /api/v1/endpoints` shows it (the fields the CLI prints). */
export interface EndpointView {
  id: string;
  name: string;
  kind: EndpointKind;
  url: string;
  credentialHint: string;
  weight: number;
  enabled: boolean;
  state: 'unknown' | 'healthy' | 'unhealthy';
  circuit: 'closed' | 'open';
  circuitOpenUntil: string | null;
  routable: boolean;
  lastCheckAt: string | null;
  lastError: string | null;
  remoteVersion: string | null;
  health: { intervalSeconds: number; timeoutSeconds: number };
  models: { remoteModel: string; alias: string; teamIds: string[] | null; enabled: boolean; listed: boolean }[];
}

/** A model's fallback chain as `GET /api/v1/fallbacks` shows it. */
export interface FallbackView {
  model: string;
  chain: string[];
  updatedAt: string;
}

/** `12 s ago`, `5 min ago`, `3 h ago`, `2 d ago`; `never` for no time. */
export function ago(iso: string | null, now = Date.now()): string {
  if (iso === null) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [head, ...rows].map(line).join('\n');
}

/** Why an endpoint is not routed to, read off its fields: disabled, unhealthy, unknown, or its circuit open. */
const STATE = (e: EndpointView) => (e.enabled ? e.state : `${e.state} (disabled)`);

/** The table `gridline endpoints` prints: one line per endpoint, the last check and, when it failed, why. */
export function endpointsTable(endpoints: EndpointView[], now = Date.now()): string {
  const rows = endpoints.map((e) => [
    e.name,
    e.kind,
    e.url,
    STATE(e),
    e.circuit,
    e.routable ? 'yes' : 'no',
    String(e.models.length),
    e.lastError ? `${ago(e.lastCheckAt, now)}: ${e.lastError}` : ago(e.lastCheckAt, now),
    e.id,
  ]);
  const head = ['NAME', 'KIND', 'URL', 'STATE', 'CIRCUIT', 'ROUTABLE', 'MODELS', 'LAST CHECK', 'ID'];
  return `${table(head, rows)}\n(${rows.length} endpoint${rows.length === 1 ? '' : 's'})\n`;
}

/** One endpoint as `gridline endpoints get|add|refresh|enable|disable` prints it: its facts, then its models. */
export function endpointDetail(e: EndpointView, now = Date.now()): string {
  const facts: [string, string][] = [
    ['name', e.name],
    ['id', e.id],
    ['kind', e.kind],
    ['url', e.url],
    ['credential', e.credentialHint],
    ['state', STATE(e)],
    ['circuit', e.circuit === 'open' && e.circuitOpenUntil ? `open until ${e.circuitOpenUntil}` : e.circuit],
    ['routable', e.routable ? 'yes' : 'no'],
    ['weight', String(e.weight)],
    ['checks', `every ${e.health.intervalSeconds} s, timeout ${e.health.timeoutSeconds} s`],
    ['last check', ago(e.lastCheckAt, now)],
    ...(e.lastError ? ([['last error', e.lastError]] as [string, string][]) : []),
    ['remote version', e.remoteVersion ?? '-'],
  ];
  const width = Math.max(...facts.map(([k]) => k.length));
  const models = e.models.map((m) => [m.remoteModel, m.alias, m.enabled ? 'yes' : 'no', m.listed ? 'yes' : 'no', m.teamIds === null ? 'all' : String(m.teamIds.length)]);
  return `${facts.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}`).join('\n')}\n\n${
    models.length ? `${table(['REMOTE MODEL', 'ALIAS', 'ENABLED', 'LISTED', 'TEAMS'], models)}\n` : ''
  }(${models.length} model${models.length === 1 ? '' : 's'})\n`;
}

/** The table `gridline fallbacks` prints. */
export function fallbacksTable(fallbacks: FallbackView[]): string {
  const rows = fallbacks.map((f) => [f.model, f.chain.join(' -> '), f.updatedAt]);
  return `${table(['MODEL', 'FALLS BACK TO', 'UPDATED'], rows)}\n(${rows.length} chain${rows.length === 1 ? '' : 's'})\n`;
}

/**
 * The body of `POST /api/v1/endpoints` from the command line: the kind decides which credential
 * flags it takes (a keypair for a peer Gridline or a Backend.AI cluster, a bearer key for an
 * OpenAI-compatible server). Throws a message for the user when they do not match.
 */
export function endpointBody(name: string, f: { kind?: string; url?: string; 'access-key'?: string; 'secret-key'?: string; 'api-key'?: string; weight?: number; interval?: number; timeout?: number }) {
  const kind = f.kind as EndpointKind | undefined;
  if (!kind || !ENDPOINT_KINDS.includes(kind)) throw new CliError(`--kind must be one of ${ENDPOINT_KINDS.join(', ')}`);
  if (!f.url) throw new CliError('missing --url URL');
  const keypair = f['access-key'] !== undefined || f['secret-key'] !== undefined;
  let credentials: { accessKey: string; secretKey: string } | { apiKey: string };
  if (kind === 'openai') {
    if (keypair || !f['api-key']) throw new CliError('an openai endpoint takes --api-key KEY (not --access-key/--secret-key)');
    credentials = { apiKey: f['api-key'] };
  } else {
    if (f['api-key'] !== undefined || !f['access-key'] || !f['secret-key']) throw new CliError(`a ${kind} endpoint takes --access-key AK --secret-key SK (not --api-key)`);
    credentials = { accessKey: f['access-key'], secretKey: f['secret-key'] };
  }
  const health = { ...(f.interval !== undefined ? { intervalSeconds: f.interval } : {}), ...(f.timeout !== undefined ? { timeoutSeconds: f.timeout } : {}) };
  return { name, kind, url: f.url, credentials, ...(f.weight !== undefined ? { weight: f.weight } : {}), ...(Object.keys(health).length ? { health } : {}) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An endpoint named by its id or its name: a name is looked up in the list (the api addresses endpoints by id). */
export async function endpointId(idOrName: string, list: () => Promise<EndpointView[]>): Promise<string> {
  if (UUID.test(idOrName)) return idOrName;
  const found = (await list()).find((e) => e.name === idOrName);
  if (!found) throw new CliError(`no endpoint named ${idOrName}`);
  return found.id;
}
