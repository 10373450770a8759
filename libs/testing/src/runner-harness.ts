import { join } from 'node:path';
import { RunnerClient } from '@gridline/runtime';
import { DIST } from './processes';

/** The built llama.cpp runner (npm run build puts it here). */
export const BUILT_RUNNER = join(DIST, 'libs', 'runtime', 'src', 'runner', 'llama-runner.mjs');

export function startRunner(): RunnerClient {
  return new RunnerClient(BUILT_RUNNER);
}
