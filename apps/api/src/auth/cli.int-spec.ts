import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startOpenAiDouble } from '@gridline/testing';
import { ApiTestApp, ROOT_ACCESS, ROOT_SECRET, startApiTestApp } from '../testing/api-test-app';

const CLI = join(__dirname, '..', '..', '..', '..', 'dist', 'tools', 'cli', 'gridline.js');

/** The built `gridline` CLI against a real api, as a new user would drive it. */
describe('gridline CLI', () => {
  let t: ApiTestApp;
  const home = mkdtempSync(join(tmpdir(), 'gl-cli-'));
  const cwd = mkdtempSync(join(tmpdir(), 'gl-cli-cwd-'));
  const env = { ...process.env, XDG_CONFIG_HOME: join(home, 'config'), GRIDLINE_ACCESS_KEY: '', GRIDLINE_SECRET_KEY: '', GRIDLINE_URL: '' };
  const gridline = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { env, cwd, encoding: 'utf8' });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  };

  beforeAll(async () => {
    t = await startApiTestApp();
  });
  afterAll(() => t?.close());

  it('refuses to work before login, saying how to log in', async () => {
    const r = await gridline('teams', 'list');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('gridline login');
  });

  it('refuses a wrong secret at login and stores nothing', async () => {
    const r = await gridline('login', '--url', t.base, '--access-key', ROOT_ACCESS, '--secret-key', 'W'.repeat(40));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('signature_mismatch');
    expect(() => statSync(join(home, 'config', 'gridline', 'credentials.json'))).toThrow();
  });

  it('logs in, storing the keypair in a 0600 file under the config directory', async () => {
    const r = await gridline('login', '--url', t.base, '--access-key', ROOT_ACCESS, '--secret-key', ROOT_SECRET);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('superadmin');
    const file = join(home, 'config', 'gridline', 'credentials.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ url: t.base, accessKey: ROOT_ACCESS, secretKey: ROOT_SECRET });
    expect(r.stdout).not.toContain(ROOT_SECRET);
  });

  it('manages teams, users, keys and tokens', async () => {
    const team = JSON.parse((await gridline('teams', 'create', 'cli-team', '--weight', '3', '--quota-gpus', '8')).stdout) as { id: string; weight: number; quotaGpus: number };
    expect(team).toMatchObject({ weight: 3, quotaGpus: 8 });
    expect((await gridline('teams', 'list')).stdout).toMatch(/cli-team\s+3\s+8/);

    const user = JSON.parse((await gridline('users', 'create', 'cli@example.com', 'Cli User', '--team', team.id, '--role', 'team_admin')).stdout) as { id: string };
    expect((await gridline('teams', 'members', team.id)).stdout).toMatch(/cli@example.com\s+Cli User\s+team_admin/);

    const key = await gridline('keys', 'create', '--user', user.id, '--team', team.id);
    const made = JSON.parse(key.stdout) as { accessKey: string; secretKey: string };
    expect(made.secretKey).toHaveLength(40);
    expect(key.stderr).toContain('shown this once');
    expect((await gridline('keys', 'list', '--user', user.id)).stdout).toContain(made.accessKey);

    // The new team admin's own session, through environment variables.
    const asAdmin = async (...args: string[]) =>
      (await promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...env, GRIDLINE_URL: t.base, GRIDLINE_ACCESS_KEY: made.accessKey, GRIDLINE_SECRET_KEY: made.secretKey }, cwd, encoding: 'utf8' })).stdout;
    expect(JSON.parse(await asAdmin('whoami'))).toMatchObject({ role: 'team_admin', teamId: team.id });
    const token = JSON.parse(await asAdmin('tokens', 'create', 'sdk', '--scope', 'inference', '--models', 'demo,other')) as { id: string; token: string; models: string[] };
    expect(token.models).toEqual(['demo', 'other']);
    expect(await asAdmin('tokens', 'list')).toMatch(new RegExp(`${token.id}\\s+gl_`));

    const rotated = JSON.parse((await gridline('keys', 'rotate', made.accessKey, '--grace', '60')).stdout) as { accessKey: string };
    expect(rotated.accessKey).not.toBe(made.accessKey);
    expect(JSON.parse((await gridline('keys', 'disable', rotated.accessKey)).stdout)).toMatchObject({ isActive: false });
    expect((await gridline('tokens', 'revoke', token.id)).code).toBe(0);
    expect((await gridline('audit', '--action', 'token.revoke')).stdout).toContain(token.id);
  }, 30_000); // a dozen CLI processes, each a node start-up

  it('sets, shows and clears quotas of the team, a keypair (named by its access key) and a model', async () => {
    const team = JSON.parse((await gridline('teams', 'create', 'cli-quotas')).stdout) as { id: string };
    const key = JSON.parse((await gridline('keys', 'create', '--team', team.id)).stdout) as { accessKey: string };
    expect((await gridline('quotas', 'set', '--team', team.id, '--concurrent', '4', '--rpm', '60')).code).toBe(0);
    const set = await gridline('quotas', 'set', '--team', team.id, '--keypair', key.accessKey, '--tpd', '100000');
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ limits: { maxConcurrentJobs: 4, requestsPerMinute: 60 }, keys: [{ kind: 'keypair', limits: { tokensPerDay: 100000 } }] });
    // Changing one limit keeps the others; "none" removes one.
    expect((await gridline('quotas', 'set', '--team', team.id, '--rpm', 'none', '--tpm', '5000')).code).toBe(0);
    const shown = (await gridline('quotas', '--team', team.id)).stdout;
    expect(shown).toMatch(/^scope\s+concurrent\s+queued\s+rpm\s+tpm\s+tpd$/m);
    expect(shown).toMatch(/^team\s+4 \(0\)\s+-\s+-\s+5000 \(0\)\s+-$/m);
    expect(shown).toMatch(/^keypair [0-9a-f-]{36}\s+-\s+-\s+-\s+-\s+100000 \(0\)$/m);
    const refused = await gridline('quotas', 'set', '--team', team.id, '--model', 'no-such-model', '--rpm', '1');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('(model_not_found)');
    expect((await gridline('quotas', 'clear', '--team', team.id, '--keypair', key.accessKey)).code).toBe(0);
    expect(JSON.parse((await gridline('quotas', '--team', team.id, '--json')).stdout)).toMatchObject({ limits: { maxConcurrentJobs: 4, tokensPerMinute: 5000, requestsPerMinute: null }, keys: [] });
  }, 30_000);

  it("lists no endpoints yet, and prints the api's refusal of an endpoint it cannot reach without echoing the secret", async () => {
    const empty = await gridline('endpoints');
    expect(empty.code).toBe(0);
    expect(empty.stdout).toMatch(/^NAME\s+KIND\s+URL\s+STATE\s+CIRCUIT\s+ROUTABLE\s+MODELS\s+LAST CHECK\s+ID\n\(0 endpoints\)\n$/);
    // --url here is the endpoint's; the api's address comes from the login.
    const refused = await gridline('endpoints', 'add', 'nowhere', '--kind', 'openai', '--url', 'http://127.0.0.1:9', '--api-key', 'sk-cli-secret-0001');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('(endpoint_unreachable)');
    expect(refused.stdout + refused.stderr).not.toContain('sk-cli-secret-0001');
    expect((await gridline('endpoints')).stdout).toContain('(0 endpoints)');
    expect((await gridline('endpoints', 'get', 'nowhere')).stderr).toContain('no endpoint named nowhere');
  }, 30_000);

  it('adds an OpenAI-compatible server, shows it by name, aliases a model, disables it, sets and clears a fallback chain, and removes it', async () => {
    const double = await startOpenAiDouble({ apiKey: 'sk-cli-double-0001', models: ['gpt-double-mini'] });
    try {
      const added = await gridline('endpoints', 'add', 'double', '--kind', 'openai', '--url', double.url, '--api-key', 'sk-cli-double-0001', '--weight', '7', '--interval', '60');
      expect(added.code).toBe(0);
      expect(added.stdout).toMatch(/^state:\s+healthy$/m);
      expect(added.stdout).toMatch(/^weight:\s+7$/m);
      expect(added.stdout).toMatch(/^checks:\s+every 60 s/m);
      expect(added.stdout).toMatch(/^gpt-double-mini\s+gpt-double-mini\s+yes\s+yes\s+all$/m);
      expect(added.stdout + added.stderr).not.toContain('sk-cli-double-0001');
      expect((await gridline('endpoints')).stdout).toMatch(new RegExp(`^double\\s+openai\\s+${double.url.replace(/[.]/g, '\\.')}\\s+healthy\\s+closed\\s+yes\\s+1\\s+`, 'm'));

      expect(JSON.parse((await gridline('endpoints', 'alias', 'double', 'gpt-double-mini', 'mini')).stdout)).toMatchObject({ remoteModel: 'gpt-double-mini', alias: 'mini' });
      const disabled = await gridline('endpoints', 'disable', 'double');
      expect(disabled.stdout).toMatch(/^state:\s+healthy \(disabled\)$/m);
      expect(disabled.stdout).toMatch(/^routable:\s+no$/m);
      expect(disabled.stdout).toMatch(/^gpt-double-mini\s+mini\s+/m);

      expect((await gridline('fallbacks', 'set', 'big-model', 'mini,tiny')).code).toBe(0);
      expect((await gridline('fallbacks')).stdout).toMatch(/^big-model\s+mini -> tiny\s+/m);
      expect((await gridline('fallbacks', 'clear', 'big-model')).code).toBe(0);
      expect((await gridline('fallbacks')).stdout).toContain('(0 chains)');

      expect((await gridline('endpoints', 'remove', 'double')).code).toBe(0);
      expect((await gridline('endpoints')).stdout).toContain('(0 endpoints)');
    } finally {
      await double.close();
    }
  }, 60_000);

  it('prints API errors with their code and exits 1', async () => {
    const r = await gridline('teams', 'get', '00000000-0000-4000-8000-000000000000');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('(not_found)');
  });

  it('logs out', async () => {
    expect((await gridline('logout')).code).toBe(0);
    expect((await gridline('whoami')).code).toBe(1);
  });
});
