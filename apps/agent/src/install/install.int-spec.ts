import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const MAIN = resolve(__dirname, '../../../../dist/apps/agent/src/main.js');
const TOKEN = 'gjt_Zx81kQ-secret-join-token';

function install(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, 'install', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const mode = (path: string) => statSync(path).mode & 0o777;
const hasCommand = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

describe('gridline-agent install (the built agent)', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'gridline-install-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const unitPath = () => join(root, 'etc/systemd/system/gridline-agent.service');
  const envPath = () => join(root, 'etc/gridline/agent.env');

  it('writes the unit, a 0600 environment file and the service user, and says how to start it without printing the token', () => {
    const r = install('--server', 'https://cp.example.com', '--join-token', TOKEN, '--node-name', 'gpu-7', '--labels', 'team=ml, gridline.dev/zone=eu-1', '--taints', 'gpu=h100:NoSchedule,maintenance:NoExecute', '--redis-url', 'redis://cp.example.com:6379', '--simulate-gpus', '2xH100-80GB', '--root', root);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('systemctl daemon-reload && systemctl enable --now gridline-agent');
    expect(r.stdout).toContain('systemd-sysusers /etc/sysusers.d/gridline-agent.conf');
    expect(r.stdout).toContain('This host joins https://cp.example.com as node gpu-7 with labels team=ml,gridline.dev/zone=eu-1 and taints gpu=h100:NoSchedule,maintenance:NoExecute');
    expect(r.stdout + r.stderr).not.toContain(TOKEN);

    const env = readFileSync(envPath(), 'utf8');
    expect(mode(envPath())).toBe(0o600);
    expect(mode(join(root, 'etc/gridline'))).toBe(0o700);
    expect(env.split('\n').filter((l) => l && !l.startsWith('#')).sort()).toEqual([
      'GRIDLINE_DATA_DIR=/var/lib/gridline-agent',
      `GRIDLINE_JOIN_TOKEN=${TOKEN}`,
      'GRIDLINE_NODE_LABELS=team=ml,gridline.dev/zone=eu-1',
      'GRIDLINE_NODE_NAME=gpu-7',
      'GRIDLINE_NODE_TAINTS=gpu=h100:NoSchedule,maintenance:NoExecute',
      'GRIDLINE_SERVER=https://cp.example.com',
      'GRIDLINE_SIMULATE_GPUS=2xH100-80GB',
      'NODE_ENV=production',
      'REDIS_URL=redis://cp.example.com:6379',
    ]);

    const unit = readFileSync(unitPath(), 'utf8');
    expect(mode(unitPath())).toBe(0o644);
    expect(unit).toContain(`ExecStart=${process.execPath} ${MAIN}\n`);
    for (const line of ['Restart=always', 'User=gridline', 'EnvironmentFile=/etc/gridline/agent.env', 'StateDirectory=gridline-agent', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'LimitNOFILE=65536']) {
      expect(unit).toContain(`\n${line}\n`);
    }
    // The llama.cpp runner children must reach /dev/nvidia* and /dev/dri.
    expect(unit).not.toMatch(/^(PrivateDevices=yes|DevicePolicy=|MemoryDenyWriteExecute=yes)/m);
    expect(unit).not.toContain(TOKEN);
    expect(readFileSync(join(root, 'etc/sysusers.d/gridline-agent.conf'), 'utf8')).toContain('u gridline - "Gridline agent" /var/lib/gridline-agent');
  });

  it('re-running overwrites the settings and restores the env file\'s mode', () => {
    expect(install('--server', 'http://cp:8080', '--join-token', TOKEN, '--labels', 'team=ml', '--root', root).code).toBe(0);
    chmodSync(envPath(), 0o644);
    expect(install('--server', 'http://cp2:8080', '--join-token', TOKEN, '--root', root).code).toBe(0);
    const env = readFileSync(envPath(), 'utf8');
    expect(env).toContain('GRIDLINE_SERVER=http://cp2:8080');
    expect(env).not.toContain('GRIDLINE_NODE_LABELS');
    expect(mode(envPath())).toBe(0o600);
    expect(readdirSync(join(root, 'etc/gridline'))).toEqual(['agent.env']);
  });

  it('a data directory outside /var/lib is created for the service user and made writable', () => {
    expect(install('--server', 'http://cp:8080', '--join-token', TOKEN, '--data-dir', '/data/gridline', '--user', 'svc-gpu', '--root', root).code).toBe(0);
    const unit = readFileSync(unitPath(), 'utf8');
    expect(unit).toContain('ExecStartPre=+/usr/bin/install -d -o svc-gpu -g svc-gpu -m 0750 /data/gridline\n');
    expect(unit).toContain('ReadWritePaths=/data/gridline\n');
    expect(unit).not.toContain('StateDirectory=');
    expect(readFileSync(envPath(), 'utf8')).toContain('GRIDLINE_DATA_DIR=/data/gridline\n');
  });

  (hasCommand('systemd-analyze') && hasCommand('systemd-sysusers') ? it : it.skip)('systemd accepts the unit without a warning, and systemd-sysusers creates the user', () => {
    expect(install('--server', 'http://cp:8080', '--join-token', TOKEN, '--root', root).code).toBe(0);
    const verify = spawnSync('systemd-analyze', ['verify', unitPath()], { encoding: 'utf8' });
    expect({ code: verify.status, output: verify.stdout + verify.stderr }).toEqual({ code: 0, output: '' });
    const sysusers = spawnSync('systemd-sysusers', [`--root=${root}`, join(root, 'etc/sysusers.d/gridline-agent.conf')], { encoding: 'utf8' });
    expect(sysusers.status).toBe(0);
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8')).toMatch(/^gridline:x:\d+:\d+:Gridline agent:\/var\/lib\/gridline-agent:/m);
    expect(readFileSync(join(root, 'etc/group'), 'utf8')).toMatch(/^video:x:\d+:gridline$/m);
  });

  it.each([
    [['--join-token', TOKEN], '--server is required'],
    [['--server', 'http://cp:8080'], '--join-token is required'],
    [['--server', 'ftp://cp', '--join-token', TOKEN], '--server: must be an http:// or https:// URL'],
    [['--server', 'cp.example.com', '--join-token', TOKEN], '--server: must be an http:// or https:// URL'],
    [['--server', 'http://cp:8080', '--join-token', 'has space'], '--join-token: must be printable ASCII'],
    [['--server', 'http://cp:8080', '--join-token', TOKEN, '--labels', 'team'], '--labels: label "team": expected key=value'],
    [['--server', 'http://cp:8080', '--join-token', TOKEN, '--taints', 'gpu=h100:Sometimes'], '--taints: taint "gpu=h100:Sometimes": the effect must be one of'],
    [['--server', 'http://cp:8080', '--join-token', TOKEN, '--node-name', 'bad!name'], '--node-name: must be 1-63 letters'],
    [['--server', 'http://cp:8080', '--join-token', TOKEN, '--redis-url', 'http://redis'], '--redis-url: must be a redis:// or rediss:// URL'],
    [['--server', 'http://cp:8080', '--join-token', TOKEN, '--simulate-gpus', '99xH100-80GB'], '--simulate-gpus: simulated GPUs "99xH100-80GB": the count must be 1-16'],
    [['--server', 'http://cp:8080', '--join-token', TOKEN, '--data-dir', 'relative/dir'], '--data-dir: must be an absolute path'],
    [['--server', 'http://cp:8080', '--join-token', TOKEN, '--user', 'Root Admin'], '--user: must be a system user name'],
    [['--server', 'http://cp:8080', '--join-token', TOKEN, '--gpus', 'all'], "Unknown option '--gpus'"],
  ])('refuses %j with exit code 2, writing nothing', (args, message) => {
    const target = join(root, 'target');
    const r = install(...args, '--root', target);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`gridline-agent install: ${message}`);
    expect(r.stderr).toContain('usage: gridline-agent install');
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toContain(TOKEN);
    expect(existsSync(target)).toBe(false);
  });
});
