import fc from 'fast-check';
import type { OpenAPIObject, OperationObject, ParameterObject, ReferenceObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { signRequest } from '@gridline/auth';
import { buildOpenApi } from '../openapi';
import { ApiTestApp, ROOT_ACCESS, ROOT_SECRET, startApiTestApp } from '../testing/api-test-app';
import { rowCounts } from '../testing/row-counts';

interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  queryParams: string[];
  bodyFields: string[];
  hasBody: boolean;
}

/** Every operation of the generated OpenAPI document: the routes the fuzzer covers, new ones included. */
function operations(doc: OpenAPIObject): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const op = item[method] as OperationObject | undefined;
      if (!op) continue;
      const params = (op.parameters ?? []) as ParameterObject[];
      const body = op.requestBody && 'content' in op.requestBody ? op.requestBody.content['application/json']?.schema : undefined;
      const ref = body && '$ref' in body ? (body as ReferenceObject).$ref.split('/').pop() : undefined;
      const schema = (ref ? doc.components?.schemas?.[ref] : body) as SchemaObject | undefined;
      ops.push({
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
        bodyFields: Object.keys(schema?.properties ?? {}),
        hasBody: op.requestBody !== undefined,
      });
    }
  }
  return ops;
}

/** Percent-encodes a path segment; a lone surrogate becomes the (invalid) UTF-8 a hostile client would send. */
function encodePathSegment(s: string): string {
  return s
    .split(/([\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff])/)
    .map((part, i) => (i % 2 === 1 ? '%ED%A0%80' : encodeURIComponent(part)))
    .join('');
}

const HOSTILE = ['\u0000', 'a\u0000b', '\ud800', 'x\udc00', 'x'.repeat(10_000), '%00', "'; DROP TABLE users; --", '../../etc/passwd', '{{7*7}}', '\u202e', '0', '-1', 'null', ''];
const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom(...HOSTILE), fc.uuid());
const value = fc.oneof(text, fc.jsonValue({ maxDepth: 3 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(text, { maxLength: 5 }));

/**
 * Property-based fuzzing of every route in the OpenAPI document, as the superadmin (the caller
 * who gets furthest): random and hostile path parameters, query strings and bodies built from
 * each operation's own fields. Whatever comes in, the answer is never a 5xx, and a refused
 * request writes no row.
 */
describe('API fuzzing (every route, real Postgres and Redis)', () => {
  let t: ApiTestApp;
  let ops: Operation[];

  beforeAll(async () => {
    t = await startApiTestApp();
    ops = operations(buildOpenApi(t.app));
  });

  afterAll(() => t?.close());

  it('covers the inference and the admin routes', () => {
    const routes = ops.map((o) => `${o.method} ${o.path}`);
    expect(routes).toEqual(expect.arrayContaining(['POST /v1/chat/completions', 'GET /v1/models', 'POST /api/v1/jobs', 'POST /api/v1/users', 'PATCH /api/v1/keypairs/{accessKey}', 'PUT /api/v1/teams/{id}/members/{userId}']));
  });

  it('never answers 5xx, and writes nothing when it refuses', async () => {
    const failures: string[] = [];
    for (const op of ops) {
      const request = fc.record({
        params: fc.array(text, { minLength: op.pathParams.length, maxLength: op.pathParams.length }),
        query: fc.dictionary(op.queryParams.length ? fc.oneof(fc.constantFrom(...op.queryParams), fc.string()) : fc.string(), text, { maxKeys: 3 }),
        body: fc.oneof(
          fc.dictionary(op.bodyFields.length ? fc.oneof(fc.constantFrom(...op.bodyFields), fc.string()) : fc.string(), value, { maxKeys: 6 }).map((b) => JSON.stringify(b)),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.constantFrom('{', '[]', '"x"', '{"a":' + '['.repeat(200) + ']'.repeat(200) + '}', '{"model":"\\u0000"}'),
        ),
        contentType: fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/json; charset=latin1'),
      });
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          let path = op.path;
          op.pathParams.forEach((name, i) => (path = path.replace(`{${name}}`, encodePathSegment(r.params[i]) || 'x')));
          const query = new URLSearchParams(r.query).toString();
          const pathAndQuery = query ? `${path}?${query}` : path;
          const before = await rowCounts(t.pg);
          const headers = signRequest({ accessKey: ROOT_ACCESS, secretKey: ROOT_SECRET, method: op.method, pathAndQuery, host: t.host, contentType: r.contentType });
          const res = await fetch(`${t.base}${pathAndQuery}`, { method: op.method, headers, body: op.hasBody ? r.body : undefined });
          const answer = await res.text();
          if (res.status >= 500) failures.push(`${op.method} ${pathAndQuery.slice(0, 120)} → ${res.status} ${answer.slice(0, 200)}`);
          if (res.status >= 400) {
            const after = await rowCounts(t.pg);
            if (JSON.stringify(after) !== JSON.stringify(before)) failures.push(`${op.method} ${pathAndQuery.slice(0, 120)} → ${res.status} wrote rows`);
          }
          return failures.length === 0;
        }),
        { numRuns: 25, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
      );
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
