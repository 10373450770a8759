import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';
import { signatureHeaders, type Keypair } from './sign';

export type Schemas = components['schemas'];

/** How the console authenticates: a keypair (every request signed here) or a bearer token. */
export type Credentials = ({ kind: 'keypair' } & Keypair) | { kind: 'token'; token: string };

/** A refusal from the api in its problem shape (or OpenAI's error shape under /v1). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

/** Reads a failed response's problem (`/api/v1`) or OpenAI error (`/v1`) body. */
export async function apiErrorOf(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.clone().json();
  } catch {
    // not JSON: fall through to the status text
  }
  const b = (body ?? {}) as { code?: unknown; detail?: unknown; title?: unknown; param?: unknown; error?: { code?: unknown; message?: unknown; param?: unknown } };
  const code = String(b.code ?? b.error?.code ?? `http_${response.status}`);
  const message = String(b.detail ?? b.error?.message ?? b.title ?? response.statusText);
  const param = b.param ?? b.error?.param;
  return new ApiError(response.status, code, message, typeof param === 'string' ? param : undefined);
}

/** Adds the credentials to one request: a signature over its method, path, host and content type, or the bearer token. */
export async function authorize(request: Request, credentials: Credentials): Promise<Request> {
  const headers = new Headers(request.headers);
  if (credentials.kind === 'token') {
    headers.set('authorization', `Bearer ${credentials.token}`);
  } else {
    const contentType = headers.get('content-type') ?? 'application/json';
    if (!headers.has('content-type')) headers.set('content-type', contentType);
    const signed = await signatureHeaders(credentials, request.method, new URL(request.url), contentType);
    for (const [name, value] of Object.entries(signed)) headers.set(name, value);
  }
  return new Request(request, { headers });
}

export type AuthorizedFetch = (url: string, init?: RequestInit) => Promise<Response>;

/**
 * A `fetch` that authorizes every request (used for streams and downloads outside the typed client). A 401 goes to
 * `onUnauthorized` as the typed client's do (the session ends); the response is still returned for the caller to read.
 */
export function authorizedFetch(credentials: Credentials, onUnauthorized?: (error: ApiError) => void): AuthorizedFetch {
  return async (url, init) => {
    const response = await fetch(await authorize(new Request(new URL(url, window.location.origin), init), credentials));
    if (response.status === 401 && onUnauthorized) onUnauthorized(await apiErrorOf(response));
    return response;
  };
}

/** The typed client of the api, generated from docs/openapi.json: a path or body that the api does not have is a type error. */
export function createApi(credentials: Credentials, onUnauthorized?: (error: ApiError) => void) {
  const client = createClient<paths>({ baseUrl: window.location.origin });
  const auth: Middleware = {
    async onRequest({ request }) {
      return authorize(request, credentials);
    },
    async onResponse({ response }) {
      if (!response.ok) {
        const error = await apiErrorOf(response);
        // A key deactivated, rotated or expired while signed in: back to the sign-in page, with the reason.
        if (response.status === 401) onUnauthorized?.(error);
        throw error;
      }
      return response;
    },
  };
  client.use(auth);
  return client;
}

export type Api = ReturnType<typeof createApi>;

/** The data of a typed call; failures were already thrown as ApiError by the middleware. */
export async function data<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const r = await call;
  if (r.data === undefined) {
    if (r.response.status === 204) return undefined as T;
    throw await apiErrorOf(r.response);
  }
  return r.data;
}
