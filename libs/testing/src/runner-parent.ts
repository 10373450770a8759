/**
 * A stand-in for the agent in runner tests (`node dist/libs/testing/src/runner-parent.js MODEL
 * PARALLEL`): forks the built runner, loads the model, keeps PARALLEL long generations
 * streaming to this process, prints `runner PID streaming`, and waits to be killed.
 */
import { chatRequest } from '@gridline/contract';
import { startRunner } from './runner-harness';

async function main(): Promise<void> {
  const [modelPath, parallelArg = '4'] = process.argv.slice(2);
  const parallel = Number(parallelArg);
  const runner = startRunner();
  await runner.start('cpu');
  await runner.load({ modelPath, gpuLayers: 0, contextSize: 2048, parallel, threads: 1 });
  let streaming = 0;
  for (let i = 0; i < parallel; i++) {
    let first = true;
    runner
      .generate(`long-${i}`, chatRequest([{ role: 'user', content: 'Tell me a long story.' }], { sampling: { temperature: 0 } }), () => {
        if (!first) return;
        first = false;
        if (++streaming === parallel) process.stdout.write(`runner ${runner.pid} streaming\n`);
      })
      .catch(() => undefined);
  }
}

main().catch((e: Error) => {
  process.stderr.write(`runner-parent: ${e.message}\n`);
  process.exit(1);
});
