import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenAPIObject, OperationObject, ParameterObject, ReferenceObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import { API_ERRORS, ApiErrorCode } from '@gridline/common';
import { documentedCodes } from './common/api-errors.decorator';
import { renderOpenApiDocument } from './openapi-document';

const COMMITTED = join(__dirname, '..', '..', '..', 'docs', 'openapi.json');
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

interface Operation {
  name: string;
  path: string;
  op: OperationObject;
}

function operations(doc: OpenAPIObject): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ name: `${m.toUpperCase()} ${path}`, path, op: item[m] as OperationObject })),
  );
}

const responses = (o: Operation) => Object.entries(o.op.responses ?? {}) as [string, ResponseObject][];
const codesAt = (o: Operation, status: number): ApiErrorCode[] => {
  const response = o.op.responses?.[String(status)] as ResponseObject | undefined;
  return response ? documentedCodes(response) : [];
};

describe('the OpenAPI document', () => {
  let text: string;
  let doc: OpenAPIObject;
  let ops: Operation[];

  beforeAll(async () => {
    text = await renderOpenApiDocument();
    doc = JSON.parse(text) as OpenAPIObject;
    ops = operations(doc);
  }, 30_000);

  it('is the one checked in (docs/openapi.json; `npm run openapi` regenerates it)', () => {
    expect(text === readFileSync(COMMITTED, 'utf8')).toBe(true);
  });

  it('covers every route of the api', () => {
    expect(ops.length).toBeGreaterThanOrEqual(34);
    expect(ops.map((o) => o.name)).toEqual(expect.arrayContaining(['GET /healthz', 'GET /readyz', 'POST /v1/chat/completions', 'GET /v1/models', 'POST /api/v1/jobs', 'GET /api/v1/whoami', 'GET /api/v1/audit']));
  });

  it('documents the success response of every operation with a schema (204 has no body)', () => {
    const missing: string[] = [];
    for (const o of ops) {
      const success = responses(o).filter(([status]) => status.startsWith('2'));
      if (success.length === 0) missing.push(`${o.name}: no 2xx response`);
      for (const [status, response] of success) {
        if (status === '204') continue;
        const schema = Object.values(response.content ?? {})[0]?.schema as (SchemaObject & ReferenceObject) | undefined;
        if (!schema?.$ref && !schema?.type) missing.push(`${o.name}: ${status} has no schema`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('documents 4xx responses on every operation, each with the error schema of its route family and codes of that status', () => {
    const wrong: string[] = [];
    for (const o of ops) {
      const openAi = o.path.startsWith('/v1/');
      const errors = responses(o).filter(([status]) => Number(status) >= 400);
      if (!errors.some(([status]) => status.startsWith('4'))) wrong.push(`${o.name}: no 4xx response`);
      for (const [status, response] of errors) {
        const [type, media] = Object.entries(response.content ?? {})[0] ?? [];
        const ref = ((media?.schema as SchemaObject | undefined)?.allOf?.[0] as ReferenceObject | undefined)?.$ref ?? '';
        if (openAi ? type !== 'application/json' || !ref.endsWith('/ErrorResponseDto') : type !== 'application/problem+json' || !/\/(NotReady)?ProblemDto$/.test(ref)) {
          wrong.push(`${o.name}: ${status} is ${type} ${ref}`);
        }
        const codes = documentedCodes(response);
        if (codes.length === 0) wrong.push(`${o.name}: ${status} lists no codes`);
        for (const code of codes) if (API_ERRORS[code]?.status !== Number(status)) wrong.push(`${o.name}: ${code} is not a ${status}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  const CREATES_AT_PATH = ['PUT /api/v1/models/{name}/file', 'PUT /api/v1/fallbacks/{model}'];
  /** OpenAI's routes name what was not found in OpenAI's words. */
  const NOT_FOUND_AS: Record<string, ApiErrorCode> = { 'GET /v1/models/{model}': 'model_not_found' };

  it("lists what the request pipeline can answer for each operation's inputs", () => {
    const missing: string[] = [];
    const need = (o: Operation, status: number, ...codes: ApiErrorCode[]) => {
      for (const code of codes) if (!codesAt(o, status).includes(code)) missing.push(`${o.name}: ${status} ${code}`);
    };
    for (const o of ops) {
      const params = (o.op.parameters ?? []) as ParameterObject[];
      need(o, 400, 'invalid_text'); // NUL in any path or query string
      const body = o.op.requestBody && 'content' in o.op.requestBody ? o.op.requestBody.content : undefined;
      if (body) {
        if (body['application/json']) need(o, 400, 'invalid_json', 'validation_failed', 'nesting_too_deep', 'too_many_keys', 'string_too_long');
        need(o, 413, 'payload_too_large');
        need(o, 415, 'unsupported_media_type');
      }
      if (params.some((p) => p.in === 'query')) need(o, 400, 'validation_failed');
      // A path naming what the request creates (an upload under its new name) cannot be missing.
      if (params.some((p) => p.in === 'path') && !CREATES_AT_PATH.includes(o.name)) need(o, 404, NOT_FOUND_AS[o.name] ?? 'not_found');
      if (o.op.security?.length) {
        need(o, 400, 'malformed_authorization', 'date_sync_error', 'missing_version');
        need(o, 401, 'authentication_required', 'signature_mismatch', 'replayed_request', 'invalid_token');
      }
    }
    expect(missing).toEqual([]);
  });

  it('resolves every schema reference, in the generated and in the committed document', () => {
    for (const source of [text, readFileSync(COMMITTED, 'utf8')]) {
      const { components } = JSON.parse(source) as OpenAPIObject;
      const refs = [...source.matchAll(/"\$ref": "#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
      expect(refs.filter((name) => !components?.schemas?.[name])).toEqual([]);
    }
  });
});
