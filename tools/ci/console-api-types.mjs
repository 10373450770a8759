#!/usr/bin/env node
// The console's typed API client reads apps/console/src/api/schema.d.ts, generated from
// docs/openapi.json by openapi-typescript. Writes it, or with --check fails when it is stale.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import openapiTS, { astToString } from 'openapi-typescript';

const source = new URL('../../docs/openapi.json', import.meta.url);
const target = new URL('../../apps/console/src/api/schema.d.ts', import.meta.url);

const header = '// Generated from docs/openapi.json by tools/ci/console-api-types.mjs (`npm run openapi`); do not edit.\n';
// A property with a default is one a client may leave out (every such property is in a request body):
// openapi-typescript's default would make it required, so PATCH /deployments would demand idleSeconds, pinned, placement.
const ast = await openapiTS(JSON.parse(readFileSync(source, 'utf8')), { defaultNonNullable: false });
const text = header + astToString(ast);

if (process.argv.includes('--check')) {
  const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
  if (current !== text) {
    process.stderr.write('apps/console/src/api/schema.d.ts is out of date: run `npm run openapi` and commit the result\n');
    process.exit(1);
  }
  process.stdout.write('the console API types match docs/openapi.json\n');
} else {
  writeFileSync(target, text);
  process.stdout.write(`wrote ${target.pathname}\n`);
}
