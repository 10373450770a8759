/**
 * Per-suite default timeouts (Jest reads `testTimeout` from the global config only, not per
 * project): integration and e2e tests drive real processes on two shared cores. No test is a
 * time limit; a test that needs more says so itself.
 */
const SECONDS: Record<string, number> = { int: 20, e2e: 30 };
const suite = expect.getState().testPath?.match(/\.(int|e2e)-spec\.ts$/)?.[1];
if (suite) jest.setTimeout(SECONDS[suite] * 1000);
