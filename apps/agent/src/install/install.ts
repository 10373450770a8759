import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ENV_PATH, Installation, SYSUSERS_PATH, SERVICE_NAME, installFiles } from './install-files';
import { INSTALL_USAGE, InstallArgumentError, InstallOptions, parseInstallOptions } from './install-options';

export interface InstallIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const PROCESS_IO: InstallIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** This build: dist/apps/agent/src/install/ → dist/apps/agent/src/main.js and the root that holds dist/ and package.json. */
export const THIS_INSTALLATION: Installation = {
  node: process.execPath,
  home: resolve(__dirname, '..', '..', '..', '..', '..'),
  main: resolve(__dirname, '..', 'main.js'),
};

/** Write to a temporary file with the final mode, then rename: a secret is never readable, even for a moment. */
function writeAtomically(path: string, content: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

function instructions(opts: InstallOptions, written: string[], inst: Installation): string {
  const { env, labels, taints } = opts;
  const node = env.GRIDLINE_NODE_NAME ?? '(the host name)';
  const lines = [
    'gridline-agent install: wrote',
    ...written.map((p) => `  ${p}${p.endsWith(ENV_PATH) ? ' (mode 0600: it holds the join token)' : ''}`),
    '',
    `This host joins ${env.GRIDLINE_SERVER} as node ${node}` +
      (Object.keys(labels).length ? ` with labels ${env.GRIDLINE_NODE_LABELS}` : '') +
      (taints.length ? ` and taints ${env.GRIDLINE_NODE_TAINTS}` : '') +
      (env.GRIDLINE_SIMULATE_GPUS ? `, reporting simulated GPUs ${env.GRIDLINE_SIMULATE_GPUS}` : '') +
      `; data in ${opts.dataDir}, running as ${opts.user}.`,
  ];
  if (/^\/(root|home)(\/|$)/.test(inst.home)) {
    lines.push(`Note: the user ${opts.user} must be able to read ${inst.home} (installations under /root usually are not).`);
  }
  lines.push('', 'Start it (as root):');
  if (opts.user !== 'root') lines.push(`  systemd-sysusers ${SYSUSERS_PATH}`);
  lines.push(`  systemctl daemon-reload && systemctl enable --now ${SERVICE_NAME}`, `Follow its log: journalctl -u ${SERVICE_NAME} -f`, '');
  return lines.join('\n');
}

/**
 * `gridline-agent install ...`: checks every argument, then writes the systemd unit, the agent's environment file
 * and its service user under --root. Returns the exit code: 0, 2 for a bad argument (nothing written), 1 when a
 * file cannot be written.
 */
export function runInstall(args: string[], io: InstallIo = PROCESS_IO, inst: Installation = THIS_INSTALLATION): number {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(`${INSTALL_USAGE}\n`);
    return 0;
  }
  let opts: InstallOptions;
  try {
    opts = parseInstallOptions(args);
  } catch (e) {
    if (!(e instanceof InstallArgumentError)) throw e;
    io.err(`gridline-agent install: ${e.message}\n${INSTALL_USAGE}\n`);
    return 2;
  }
  const written: string[] = [];
  try {
    for (const file of installFiles(opts, inst)) {
      const target = join(opts.root, file.path);
      mkdirSync(dirname(target), { recursive: true, mode: file.dirMode });
      writeAtomically(target, file.content, file.mode);
      written.push(target);
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    io.err(`gridline-agent install: cannot write ${err.path ?? ''}: ${err.code ?? err.message}${err.code === 'EACCES' ? ' (run it as root, or pass --root DIR)' : ''}\n`);
    return 1;
  }
  io.out(instructions(opts, written, inst));
  return 0;
}
