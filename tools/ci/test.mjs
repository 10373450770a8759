#!/usr/bin/env node
// `npm test`: lint, type-check, build, schema and API drift checks, llama.cpp's RPC binaries, then unit, integration and
// e2e tests (Jest, real Postgres/Redis/llama.cpp). Every step runs; the last line is
// `N passed, N failed`, counting each check as one and each Jest test as one.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';

const env = { ...process.env, NX_NO_CLOUD: 'true', NX_DAEMON: 'false', NX_TUI: 'false', NX_SKIP_NX_CACHE: 'true' };
const results = [];

function step(name, command) {
  const started = Date.now();
  process.stdout.write(`\n=== ${name}: ${command}\n`);
  const r = spawnSync(command, { shell: true, stdio: 'inherit', env });
  const ok = r.status === 0;
  results.push({ name, ok, seconds: (Date.now() - started) / 1000 });
  return ok;
}

step('lint', 'npx nx show projects > /dev/null && npx eslint . --max-warnings 0');
step('typecheck', 'npm run -s typecheck');
const built = step('build', 'npm run -s build');
if (built) {
  step('migrations', 'node tools/ci/migration-check.mjs');
  step('openapi', 'node dist/apps/api/src/openapi-document.js --check && node tools/ci/console-api-types.mjs --check');
  // llama.cpp's RPC binaries for replicas spanning nodes: built once per machine (about 7 minutes
  // on 2 cores), reused from the cache after that; their tests need them.
  step('llama-rpc', 'node dist/tools/llama/build-rpc.js');
}

const report = '.jest-results.json';
rmSync(report, { force: true });
// The console's browser tests leave a screenshot of every page here: CI keeps the folder as its artifacts.
const screenshots = 'artifacts/screenshots';
rmSync(screenshots, { recursive: true, force: true });
let passed = results.filter((r) => r.ok).length;
let failed = results.filter((r) => !r.ok).length;
if (built) {
  const started = Date.now();
  process.stdout.write('\n=== jest: unit, int, e2e\n');
  // No --forceExit: a test that leaves a handle open should be seen; the timeout bounds it.
  const jest = spawnSync('npx jest --ci --json --outputFile=' + report, { shell: true, stdio: 'inherit', env, timeout: 40 * 60 * 1000, killSignal: 'SIGKILL' });
  const seconds = (Date.now() - started) / 1000;
  if (existsSync(report)) {
    const j = JSON.parse(readFileSync(report, 'utf8'));
    passed += j.numPassedTests;
    failed += j.numFailedTests + (j.numRuntimeErrorTestSuites ?? 0);
    if (j.numTotalTests === 0) failed += 1;
    results.push({ name: `jest (${j.numTotalTests} tests in ${j.numTotalTestSuites} files)`, ok: jest.status === 0 && j.numTotalTests > 0, seconds });
  } else {
    failed += 1;
    results.push({ name: 'jest (no report)', ok: false, seconds });
  }
}

if (existsSync(screenshots)) process.stdout.write(`\nconsole screenshots (CI artifacts): ${readdirSync(screenshots).length} in ${screenshots}/\n`);
process.stdout.write('\n');
for (const r of results) process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name} (${r.seconds.toFixed(1)} s)\n`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
