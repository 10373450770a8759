import { signRequest } from './hmac-signature';

export interface SigningCredentials {
  accessKey: string;
  secretKey: string;
  version?: string;
}

type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * Signs a request to `url` in place: sets Authorization, the date, the version and the content
 * type the signature names (set, never appended: a header sent twice would be joined into another).
 */
export function signHeaders(headers: Headers, credentials: SigningCredentials, method: string, url: URL): void {
  const signed = signRequest({
    accessKey: credentials.accessKey,
    secretKey: credentials.secretKey,
    method,
    pathAndQuery: `${url.pathname}${url.search}`,
    host: url.host,
    contentType: headers.get('content-type') ?? 'application/json',
    version: credentials.version,
  });
  for (const [name, value] of Object.entries(signed)) headers.set(name, value);
}

/**
 * A `fetch` that signs every request with a Gridline keypair: pass it to the `openai` SDK
 * (`new OpenAI({ baseURL, apiKey: 'unused', fetch: signingFetch(creds) })`) or use it directly.
 */
export function signingFetch(credentials: SigningCredentials, base: FetchLike = fetch): FetchLike {
  return async (input, init = {}) => {
    const request = input instanceof Request ? input : null;
    const url = new URL(request ? request.url : input.toString());
    const method = (init.method ?? request?.method ?? 'GET').toUpperCase();
    const headers = new Headers(init.headers ?? request?.headers);
    signHeaders(headers, credentials, method, url);
    return base(request ? new Request(request, { ...init, headers }) : url.toString(), { ...init, method, headers });
  };
}
