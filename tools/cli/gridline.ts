#!/usr/bin/env node
/**
 * `gridline`: a small client for a Gridline stack that signs every request with a keypair.
 * Credentials: GRIDLINE_ACCESS_KEY / GRIDLINE_SECRET_KEY / GRIDLINE_URL, or the file the
 * local stack writes (`.gridline/admin.json`, or --credentials PATH).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { signingFetch } from '@gridline/auth';

const USAGE = `Usage:
  gridline chat [--model NAME] [--max-tokens N] [--temperature T] [--stream] "message"
  gridline models
  gridline request METHOD PATH [JSON_BODY]
Options: --url URL  --credentials FILE (default .gridline/admin.json)`;

interface Credentials {
  url: string;
  accessKey: string;
  secretKey: string;
}

function credentials(file: string | undefined, urlFlag: string | undefined): Credentials {
  const env = process.env;
  if (env.GRIDLINE_ACCESS_KEY && env.GRIDLINE_SECRET_KEY) {
    return { url: urlFlag ?? env.GRIDLINE_URL ?? 'http://127.0.0.1:8080', accessKey: env.GRIDLINE_ACCESS_KEY, secretKey: env.GRIDLINE_SECRET_KEY };
  }
  const path = file ?? '.gridline/admin.json';
  let saved: Partial<Credentials>;
  try {
    saved = JSON.parse(readFileSync(path, 'utf8')) as Partial<Credentials>;
  } catch {
    throw new Error(`no credentials: set GRIDLINE_ACCESS_KEY and GRIDLINE_SECRET_KEY, or start the local stack (npm start) which writes ${path}`);
  }
  if (!saved.accessKey || !saved.secretKey) throw new Error(`${path} has no accessKey/secretKey`);
  return { url: urlFlag ?? env.GRIDLINE_URL ?? saved.url ?? 'http://127.0.0.1:8080', accessKey: saved.accessKey, secretKey: saved.secretKey };
}

async function call(creds: Credentials, method: string, path: string, body?: unknown): Promise<Response> {
  const f = signingFetch(creds);
  return f(new URL(path, creds.url).toString(), {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function printResponse(res: Response): Promise<number> {
  const text = await res.text();
  let out = text;
  try {
    out = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    /* not JSON: print as is */
  }
  (res.ok ? process.stdout : process.stderr).write(`${out}\n`);
  return res.ok ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      credentials: { type: 'string' },
      model: { type: 'string' },
      'max-tokens': { type: 'string', default: '64' },
      temperature: { type: 'string' },
      stream: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const creds = credentials(values.credentials, values.url);
  switch (command) {
    case 'models':
      return printResponse(await call(creds, 'GET', '/v1/models'));
    case 'request': {
      const [method, path, body] = rest;
      if (!method || !path) throw new Error('request needs METHOD and PATH');
      return printResponse(await call(creds, method.toUpperCase(), path, body ? JSON.parse(body) : undefined));
    }
    case 'chat': {
      const message = rest.join(' ');
      if (!message) throw new Error('chat needs a message');
      let model = values.model;
      if (!model) {
        const list = (await (await call(creds, 'GET', '/v1/models')).json()) as { data?: { id: string }[] };
        model = list.data?.[0]?.id;
        if (!model) throw new Error('the stack serves no model yet');
      }
      const body = {
        model,
        messages: [{ role: 'user', content: message }],
        max_tokens: Number(values['max-tokens']),
        ...(values.temperature !== undefined ? { temperature: Number(values.temperature) } : {}),
        stream: values.stream,
      };
      const res = await call(creds, 'POST', '/v1/chat/completions', body);
      if (!res.ok || !values.stream) {
        if (!res.ok) return printResponse(res);
        const json = (await res.json()) as { choices: { message: { content: string } }[]; usage: Record<string, number> };
        process.stdout.write(`${json.choices[0].message.content}\n`);
        process.stderr.write(`[${model}] ${JSON.stringify(json.usage)}\n`);
        return 0;
      }
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(part, { stream: true });
        let nl: number;
        while ((nl = buffer.indexOf('\n\n')) >= 0) {
          const line = buffer.slice(0, nl).replace(/^data: /, '');
          buffer = buffer.slice(nl + 2);
          if (line === '[DONE]') continue;
          const chunk = JSON.parse(line) as { choices?: { delta?: { content?: string } }[]; error?: { message: string } };
          if (chunk.error) throw new Error(chunk.error.message);
          process.stdout.write(chunk.choices?.[0]?.delta?.content ?? '');
        }
      }
      process.stdout.write('\n');
      return 0;
    }
    default:
      process.stderr.write(`unknown command ${command}\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: Error) => {
    process.stderr.write(`gridline: ${e.message}\n`);
    process.exitCode = 1;
  },
);
