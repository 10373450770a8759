import type { InstallOptions } from './install-options';

export const SERVICE_NAME = 'gridline-agent';
export const UNIT_PATH = `/etc/systemd/system/${SERVICE_NAME}.service`;
export const ENV_PATH = '/etc/gridline/agent.env';
export const SYSUSERS_PATH = `/etc/sysusers.d/${SERVICE_NAME}.conf`;

/** Where this installation of Gridline lives: the node binary, the repository (or package) root and the agent's entry point. */
export interface Installation {
  node: string;
  home: string;
  main: string;
}

export interface InstallFile {
  /** Absolute path on the target system (not yet under --root). */
  path: string;
  content: string;
  mode: number;
  dirMode: number;
}

const STATE_ROOT = '/var/lib/';

/** A path as a systemd unit word: quoted when it has spaces; `%` is a specifier there. */
const unitWord = (path: string): string => {
  const escaped = path.replace(/%/g, '%%');
  return /\s/.test(escaped) ? `"${escaped.replace(/(["\\])/g, '\\$1')}"` : escaped;
};

function dataDirLines(opts: InstallOptions): string[] {
  if (opts.dataDir.startsWith(STATE_ROOT) && opts.dataDir.length > STATE_ROOT.length) {
    return [
      '# systemd creates the data directory (the node credential, the model store) owned by the service user.',
      `StateDirectory=${opts.dataDir.slice(STATE_ROOT.length)}`,
      'StateDirectoryMode=0750',
    ];
  }
  return [
    '# The data directory (the node credential, the model store) is outside /var/lib: created as root ("+"), owned by the service user.',
    `ExecStartPre=+/usr/bin/install -d -o ${opts.user} -g ${opts.user} -m 0750 ${opts.dataDir}`,
    `ReadWritePaths=${opts.dataDir}`,
  ];
}

export function renderUnit(opts: InstallOptions, inst: Installation): string {
  return [
    `# Written by \`gridline-agent install\`; re-run it to change this unit or ${ENV_PATH}.`,
    '[Unit]',
    `Description=Gridline agent (node ${opts.env.GRIDLINE_NODE_NAME ?? '%H'} of ${opts.env.GRIDLINE_SERVER.replace(/%/g, '%%')})`,
    'Wants=network-online.target',
    'After=network-online.target nvidia-persistenced.service',
    '',
    '[Service]',
    'Type=simple',
    `User=${opts.user}`,
    `Group=${opts.user}`,
    `EnvironmentFile=${ENV_PATH}`,
    `WorkingDirectory=${unitWord(inst.home)}`,
    '# CUDA needs /dev/nvidia-uvm, which only a privileged helper creates; "-" because hosts without NVIDIA GPUs have none.',
    'ExecStartPre=-+/usr/bin/nvidia-modprobe -u -c=0',
    ...dataDirLines(opts),
    `ExecStart=${unitWord(inst.node)} ${unitWord(inst.main)}`,
    'Restart=always',
    'RestartSec=5',
    '# SIGTERM reaches the agent first, so it stops its llama.cpp runners and drains; what is left after the timeout is killed.',
    'KillMode=mixed',
    'TimeoutStopSec=90',
    'LimitNOFILE=65536',
    '# llama.cpp may lock model weights in RAM (mlock), and CUDA pins host memory for transfers.',
    'LimitMEMLOCK=infinity',
    'UMask=0027',
    '# Hardening. The runner children use the GPU device nodes (/dev/nvidia*, /dev/dri), so PrivateDevices and',
    '# DevicePolicy stay off; V8 and the CUDA JIT map writable, executable memory, so MemoryDenyWriteExecute does too.',
    '# ProtectHome is read-only, not yes, so an installation under /home stays readable.',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=read-only',
    'PrivateTmp=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'RestrictSUIDSGID=yes',
    'RestrictRealtime=yes',
    'RestrictNamespaces=yes',
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
    'CapabilityBoundingSet=',
    'AmbientCapabilities=',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** The agent's environment. Values were checked to need no quoting (printable ASCII, no spaces, quotes or backslashes). */
export function renderEnvFile(opts: InstallOptions): string {
  return [
    `# Gridline agent settings, read by systemd for ${SERVICE_NAME}.service (EnvironmentFile=).`,
    '# Written by `gridline-agent install`. It holds the join token: keep it root-owned, mode 0600.',
    'NODE_ENV=production',
    ...Object.entries(opts.env).map(([k, v]) => `${k}=${v}`),
    '',
  ].join('\n');
}

/** systemd-sysusers creates the service user (and the GPU device groups) if missing; existing ones are left alone. */
export function renderSysusers(opts: InstallOptions): string {
  return [
    '# The Gridline agent\'s service user; `systemd-sysusers` creates it if missing. video and render own /dev/dri (Vulkan).',
    `u ${opts.user} - "Gridline agent" ${opts.dataDir}`,
    `m ${opts.user} video`,
    `m ${opts.user} render`,
    '',
  ].join('\n');
}

export function installFiles(opts: InstallOptions, inst: Installation): InstallFile[] {
  return [
    { path: UNIT_PATH, content: renderUnit(opts, inst), mode: 0o644, dirMode: 0o755 },
    // systemd reads the EnvironmentFile as root before it drops to the service user.
    { path: ENV_PATH, content: renderEnvFile(opts), mode: 0o600, dirMode: 0o700 },
    ...(opts.user === 'root' ? [] : [{ path: SYSUSERS_PATH, content: renderSysusers(opts), mode: 0o644, dirMode: 0o755 }]),
  ];
}
