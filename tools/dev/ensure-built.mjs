#!/usr/bin/env node
// Builds dist/ when it is missing or older than any source file, so `npm run model:tiny`
// and friends work straight after `npm ci`.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const stamp = 'dist/.built';
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist') continue;
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : /\.m?ts$/.test(e.name) ? statSync(p).mtimeMs : 0);
  }
  return t;
}
const sourceTime = Math.max(...['apps', 'libs', 'tools'].map(newest));
if (!existsSync(stamp) || statSync(stamp).mtimeMs < sourceTime) {
  process.stderr.write('building Gridline (dist/ is missing or out of date)...\n');
  execSync('npm run -s build', { stdio: 'inherit' });
}
