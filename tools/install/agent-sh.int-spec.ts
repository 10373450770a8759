import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'tools/install/agent.sh');

describe('tools/install/agent.sh (POSIX sh, over the built agent)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'gridline-agent-sh-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync('sh', [SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, GRIDLINE_HOME: ROOT, ...env } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('passes its arguments to `gridline-agent install` and, with --root, starts nothing', () => {
    const target = join(dir, 'root');
    const r = run(['--server', 'http://cp:8080', '--join-token', 'gjt_abc', '--labels', 'team=ml', `--root=${target}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('systemctl daemon-reload && systemctl enable --now gridline-agent');
    expect(r.stderr).toContain(`files written under ${target}; nothing started`);
    expect(statSync(join(target, 'etc/gridline/agent.env')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(target, 'etc/gridline/agent.env'), 'utf8')).toContain('GRIDLINE_NODE_LABELS=team=ml\n');
  });

  it('keeps the installer\'s exit code 2 for a bad argument, writing nothing', () => {
    const target = join(dir, 'root');
    const r = run(['--server', 'http://cp:8080', '--join-token', 'gjt_abc', '--taints', 'gpu', '--root', target]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--taints: taint "gpu": expected key=value:Effect or key:Effect');
    expect(existsSync(target)).toBe(false);
  });

  it('refuses a Node.js older than 20.19, naming the version found', () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'node'), '#!/bin/sh\necho 20.18.3\n');
    chmodSync(join(bin, 'node'), 0o755);
    const r = run(['--server', 'http://cp:8080', '--join-token', 'gjt_abc', '--root', join(dir, 'root')], { PATH: `${bin}:/usr/bin:/bin` });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Node.js 20.19 or newer is required, found 20.18.3');
  });

  it('says how to get Gridline when GRIDLINE_HOME holds none and no GRIDLINE_REPO is set', () => {
    const r = run(['--server', 'http://cp:8080', '--join-token', 'gjt_abc', '--root', join(dir, 'root')], { GRIDLINE_HOME: join(dir, 'empty'), GRIDLINE_REPO: '' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no Gridline in ${join(dir, 'empty')}: set GRIDLINE_REPO to its git URL`);
  });
});
