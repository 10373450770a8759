import { PATH_METADATA } from '@nestjs/common/constants';
import { DECORATORS, OpenAPIObject, ResponseObject, SchemaObject, getSchemaPath } from '@nestjs/swagger';
import { API_ERRORS, API_ERROR_CODES, ApiErrorCode } from '@gridline/common';
import { ErrorResponseDto, ProblemDto } from './dto/problem.dto';
import { usesOpenAiErrors } from './problem.filter';

export type ErrorCodes = readonly ApiErrorCode[];

/** What the input guard and the validation pipe answer about a JSON body. */
export const BODY_ERRORS = [
  'invalid_json',
  'validation_failed',
  'invalid_text',
  'nesting_too_deep',
  'too_many_keys',
  'too_many_items',
  'string_too_long',
  'payload_too_large',
  'unsupported_media_type',
] as const satisfies ErrorCodes;

/** What a query string can be refused with: a value its DTO refuses, or NUL / a lone surrogate. */
export const QUERY_ERRORS = ['validation_failed', 'invalid_text'] as const satisfies ErrorCodes;

/** A UUID in the path: malformed (400 naming the parameter), or no row the caller can see (404). */
export const ID_ERRORS = ['validation_failed', 'invalid_text', 'not_found'] as const satisfies ErrorCodes;

/** Refusals to authenticate, for any credential (libs/auth). */
export const AUTHENTICATION_ERRORS = [
  'malformed_authorization',
  'unsupported_sign_method',
  'date_sync_error',
  'missing_version',
  'authentication_required',
  'signature_mismatch',
  'replayed_request',
  'invalid_token',
  // A signature's replay check needs Redis: while it does not answer, 503 rather than a wait.
  'redis_unavailable',
] as const satisfies ErrorCodes;

const CODES = 'gridline:api-errors';
const NOTES = 'gridline:api-error-notes';
const PROBLEM_JSON = 'application/problem+json';

type Responses = Record<string, ResponseObject & { type?: unknown }>;

/**
 * Documents the error codes a route can answer: one response per status, each with the error
 * schema and the codes it can carry (an enum), in the words of the catalogue. Codes add up
 * across decorators (`@Authenticated` adds the authentication ones), so one route lists each of
 * its statuses once. On a class, applies to every route of the class. The schema is the problem
 * one; `openAiErrorShapes` turns it into OpenAI's for routes under `/v1`, as the filter does.
 */
export function ApiErrors(...codes: (ApiErrorCode | ErrorCodes)[]): MethodDecorator & ClassDecorator {
  return documentErrors(codes.flat());
}

/** As `ApiErrors`, with a sentence about one status (who may call, when it happens). */
export function documentErrors(codes: ApiErrorCode[], notes: Record<number, string> = {}): MethodDecorator & ClassDecorator {
  const decorator = (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor): void => {
    const handlers: object[] = descriptor ? [descriptor.value as object] : routeHandlers(target as { prototype: Record<string, unknown> });
    for (const handler of handlers) document(handler, codes, notes);
  };
  return decorator as MethodDecorator & ClassDecorator;
}

function routeHandlers(controller: { prototype: Record<string, unknown> }): object[] {
  return Object.getOwnPropertyNames(controller.prototype)
    .map((name) => controller.prototype[name])
    .filter((fn): fn is object => typeof fn === 'function' && Reflect.hasMetadata(PATH_METADATA, fn));
}

function document(handler: object, codes: ApiErrorCode[], notes: Record<number, string>): void {
  const all: ApiErrorCode[] = [...new Set([...((Reflect.getMetadata(CODES, handler) as ApiErrorCode[] | undefined) ?? []), ...codes])];
  const allNotes: Record<number, string> = { ...(Reflect.getMetadata(NOTES, handler) as Record<number, string> | undefined), ...notes };
  Reflect.defineMetadata(CODES, all, handler);
  Reflect.defineMetadata(NOTES, allNotes, handler);
  const responses: Responses = { ...(Reflect.getMetadata(DECORATORS.API_RESPONSE, handler) as Responses | undefined) };
  for (const [status, list] of byStatus(all)) responses[status] = errorResponse(list, allNotes[status]);
  Reflect.defineMetadata(DECORATORS.API_RESPONSE, responses, handler);
}

/** The error responses of a route documented by hand (one not built from a controller): one per status. */
export function errorResponses(codes: ApiErrorCode[], notes: Record<number, string> = {}): Record<string, ResponseObject> {
  const out: Record<string, ResponseObject> = {};
  for (const [status, list] of byStatus(codes)) out[status] = errorResponse(list, notes[status]);
  return out;
}

/** Codes by status, each list in catalogue order, so the document does not depend on decorator order. */
function byStatus(codes: ApiErrorCode[]): Map<number, ApiErrorCode[]> {
  const sorted = [...codes].sort((a, b) => API_ERROR_CODES.indexOf(a) - API_ERROR_CODES.indexOf(b));
  const out = new Map<number, ApiErrorCode[]>();
  for (const code of sorted) out.set(API_ERRORS[code].status, [...(out.get(API_ERRORS[code].status) ?? []), code]);
  return out;
}

function errorResponse(codes: ApiErrorCode[], note: string | undefined): ResponseObject {
  const listed = codes.map((c) => `\`${c}\` (${API_ERRORS[c].title})`).join(', ');
  return {
    description: note ? `${note}. Codes: ${listed}` : `Codes: ${listed}`,
    content: { [PROBLEM_JSON]: { schema: problemSchema(codes) } },
  };
}

function problemSchema(codes: ApiErrorCode[]): SchemaObject {
  return { allOf: [{ $ref: getSchemaPath(ProblemDto) }, { type: 'object', properties: { code: { type: 'string', enum: codes } } }] };
}

function openAiSchema(codes: ApiErrorCode[]): SchemaObject {
  return {
    allOf: [{ $ref: getSchemaPath(ErrorResponseDto) }, { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string', enum: codes } } } } }],
  };
}

/** The codes an error response documents (its schema's enum). */
export function documentedCodes(response: ResponseObject): ApiErrorCode[] {
  const content = response.content?.[PROBLEM_JSON] ?? response.content?.['application/json'];
  const parts = (content?.schema as SchemaObject | undefined)?.allOf ?? [];
  for (const part of parts as SchemaObject[]) {
    const code = (part.properties?.code ?? (part.properties?.error as SchemaObject | undefined)?.properties?.code) as SchemaObject | undefined;
    if (code?.enum) return code.enum as ApiErrorCode[];
  }
  return [];
}

/** Errors under `/v1` take OpenAI's shape (`application/json`, `{ error: { … } }`), as ProblemFilter answers them. */
export function openAiErrorShapes(doc: OpenAPIObject): OpenAPIObject {
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!usesOpenAiErrors(path)) continue;
    for (const operation of [item.get, item.put, item.post, item.delete, item.patch]) {
      for (const response of Object.values(operation?.responses ?? {}) as ResponseObject[]) {
        if (!response.content?.[PROBLEM_JSON]) continue;
        response.content = { 'application/json': { schema: openAiSchema(documentedCodes(response)) } };
      }
    }
  }
  return doc;
}
