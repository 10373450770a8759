import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '@gridline/common';
import { NodeSpecError, Taint, formatLabels, formatTaints, parseLabels, parseTaints } from '@gridline/scheduling';
import { AgentConfig } from '../agent.config';
import { SimulatedGpuSpecError, parseSimulatedGpus } from '../inventory/simulated-gpus';

/** A refused `gridline-agent install` argument; the message names the flag. Exit code 2. */
export class InstallArgumentError extends Error {
  override readonly name = 'InstallArgumentError';
  readonly code = 'invalid_install_argument';
}

export const INSTALL_USAGE = `usage: gridline-agent install --server URL --join-token TOKEN [--node-name NAME]
         [--labels k=v,...] [--taints k=v:NoSchedule,...] [--redis-url URL] [--data-dir DIR]
         [--simulate-gpus 2xH100-80GB,...] [--root DIR] [--user USER]`;

export const DEFAULT_SERVICE_USER = 'gridline';
export const DEFAULT_DATA_DIR = '/var/lib/gridline-agent';

export interface InstallOptions {
  /** The agent's environment, as the service will get it (labels and taints normalised). */
  env: Record<string, string>;
  labels: Record<string, string>;
  taints: Taint[];
  dataDir: string;
  root: string;
  user: string;
}

/** Flag → the AgentConfig variable it sets, so a config error names the flag the user typed. */
const FLAG_OF: Record<string, string> = {
  GRIDLINE_SERVER: '--server',
  GRIDLINE_JOIN_TOKEN: '--join-token',
  GRIDLINE_NODE_NAME: '--node-name',
  GRIDLINE_NODE_LABELS: '--labels',
  GRIDLINE_NODE_TAINTS: '--taints',
  REDIS_URL: '--redis-url',
  GRIDLINE_DATA_DIR: '--data-dir',
  GRIDLINE_SIMULATE_GPUS: '--simulate-gpus',
};

// Written unquoted into an EnvironmentFile and a unit: no whitespace, quotes, backslashes or systemd's `%` specifiers.
const PLAIN = /^[\x21-\x7e]+$/;
const UNSAFE = /["'\\%]/;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;

function plain(flag: string, value: string): string {
  if (!PLAIN.test(value) || UNSAFE.test(value)) throw new InstallArgumentError(`${flag}: must be printable ASCII without spaces, quotes, backslashes or %`);
  return value;
}

function absolutePath(flag: string, value: string): string {
  plain(flag, value);
  if (!value.startsWith('/') || value.split('/').includes('..')) throw new InstallArgumentError(`${flag}: must be an absolute path without ..`);
  return value.length > 1 ? value.replace(/\/+$/, '') : value;
}

/** Parses and checks every argument of `gridline-agent install` (those after `install`). Throws InstallArgumentError. */
export function parseInstallOptions(args: string[]): InstallOptions {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(
        ['server', 'join-token', 'node-name', 'labels', 'taints', 'redis-url', 'data-dir', 'simulate-gpus', 'root', 'user'].map((name) => [name, { type: 'string' }]),
      ) as Record<string, { type: 'string' }>,
    }).values as Record<string, string | undefined>;
  } catch (e) {
    throw new InstallArgumentError((e as Error).message);
  }
  for (const flag of ['server', 'join-token']) {
    if (!values[flag]) throw new InstallArgumentError(`--${flag} is required`);
  }
  const env: Record<string, string> = {};
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined) env[name] = plain(FLAG_OF[name], value);
  };
  set('GRIDLINE_SERVER', values.server);
  set('GRIDLINE_JOIN_TOKEN', values['join-token']);
  set('GRIDLINE_NODE_NAME', values['node-name']);
  set('REDIS_URL', values['redis-url']);

  let labels: Record<string, string>;
  let taints: Taint[];
  try {
    labels = parseLabels(values.labels ?? '');
    taints = parseTaints(values.taints ?? '');
    if (values['simulate-gpus'] !== undefined) parseSimulatedGpus(values['simulate-gpus']);
  } catch (e) {
    if (e instanceof NodeSpecError) throw new InstallArgumentError(`${e.code === 'invalid_labels' ? '--labels' : '--taints'}: ${e.message}`);
    if (e instanceof SimulatedGpuSpecError) throw new InstallArgumentError(`--simulate-gpus: ${e.message}`);
    throw e;
  }
  if (Object.keys(labels).length) env.GRIDLINE_NODE_LABELS = formatLabels(labels);
  if (taints.length) env.GRIDLINE_NODE_TAINTS = formatTaints(taints);
  if (values['simulate-gpus'] !== undefined) env.GRIDLINE_SIMULATE_GPUS = plain('--simulate-gpus', values['simulate-gpus'].replace(/\s+/g, ''));

  const dataDir = absolutePath('--data-dir', values['data-dir'] ?? DEFAULT_DATA_DIR);
  env.GRIDLINE_DATA_DIR = dataDir;
  const root = absolutePath('--root', values.root ?? '/');
  const user = values.user ?? DEFAULT_SERVICE_USER;
  if (!USER.test(user)) throw new InstallArgumentError('--user: must be a system user name (lower-case letters, digits, _ -; at most 32)');

  // The agent's own config class has the last word on the URL, the node name and the Redis URL.
  try {
    loadConfig(AgentConfig, env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const first = e.variables[0];
    throw new InstallArgumentError(`${FLAG_OF[first.name] ?? first.name}: ${first.problem}`);
  }
  return { env, labels, taints, dataDir, root, user };
}
