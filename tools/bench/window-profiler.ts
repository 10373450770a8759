/**
 * Preloaded (`node --require`) into the processes `bench:fleet` profiles, when asked to
 * (BENCH_CPU_PROFILE_DIR): SIGWINCH starts a CPU profile, the next SIGWINCH writes it to
 * BENCH_PROFILE_PATH. `--cpu-prof` would cover start-up and setup too, and writes nothing
 * here: Nest's shutdown hooks end the process by re-raising SIGTERM, which skips the writer.
 * SIGWINCH because Nest shuts down on SIGUSR2 (and the rest of its list), V8 samples with
 * SIGPROF, and SIGUSR1 opens the inspector; without this file loaded it is ignored.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const path = process.env.BENCH_PROFILE_PATH;
if (path) {
  const session = new Session();
  session.connect();
  let profiling = false;
  process.on('SIGWINCH', () => {
    if (!profiling) {
      profiling = true;
      session.post('Profiler.enable', () => session.post('Profiler.start'));
      return;
    }
    profiling = false;
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      // Written whole, then renamed: the bench waits for the name.
      writeFileSync(`${path}.partial`, JSON.stringify(result.profile));
      renameSync(`${path}.partial`, path);
    });
  });
}
