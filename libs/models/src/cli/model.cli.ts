#!/usr/bin/env node
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MODEL_PRESETS, PRESET_QUANTIZATIONS, PresetQuantization, buildPresetHeader, buildTinyLlama, encodeGguf, isModelPresetName } from '../gguf';

const USAGE = `Usage:
  npm run model:tiny -- --out PATH [--seed N] [--layers N] [--embedding N]
  npm run model:tiny -- --out PATH --header-only --preset NAME [--quant ${PRESET_QUANTIZATIONS.join('|')}]
presets: ${Object.keys(MODEL_PRESETS).join(', ')}`;

function isQuantization(q: string): q is PresetQuantization {
  return (PRESET_QUANTIZATIONS as readonly string[]).includes(q);
}

function main(argv: string[]): number {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        seed: { type: 'string', default: '42' },
        layers: { type: 'string', default: '2' },
        embedding: { type: 'string', default: '64' },
        preset: { type: 'string' },
        quant: { type: 'string', default: 'Q4_K_M' },
        'header-only': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help || !args.out) {
    process.stderr.write(`${USAGE}\n`);
    return args.help ? 0 : 2;
  }
  const out = resolve(args.out);
  let bytes: Buffer;
  if (args['header-only']) {
    if (!args.preset || !isModelPresetName(args.preset)) {
      process.stderr.write(`--header-only needs --preset (one of ${Object.keys(MODEL_PRESETS).join(', ')})\n`);
      return 2;
    }
    if (!isQuantization(args.quant)) {
      process.stderr.write(`--quant must be one of ${PRESET_QUANTIZATIONS.join(', ')}\n`);
      return 2;
    }
    bytes = encodeGguf(buildPresetHeader(MODEL_PRESETS[args.preset], args.quant), { headerOnly: true });
  } else {
    const ints = { seed: Number(args.seed), layers: Number(args.layers), embedding: Number(args.embedding) };
    for (const [k, v] of Object.entries(ints)) {
      if (!Number.isInteger(v) || v < 0) {
        process.stderr.write(`--${k} must be a non-negative integer\n`);
        return 2;
      }
    }
    bytes = encodeGguf(buildTinyLlama(ints));
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, bytes);
  process.stdout.write(`wrote ${out} (${bytes.length} bytes)\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
