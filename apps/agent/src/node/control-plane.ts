import { signingFetch } from '@gridline/auth';
import { AGENT_PATHS, HeartbeatReply, HeartbeatRequest, JoinReply, JoinRequest } from '@gridline/scheduling';

/** A refusal from the control plane, with its stable code (see the api's error catalogue). */
export class ControlPlaneError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** The node's credential no longer works: revoked, or replaced by a newer join of the same name, or the node was deleted. */
  get credentialRefused(): boolean {
    return this.code === 'node_revoked' || this.code === 'signature_mismatch' || this.code === 'node_mismatch';
  }
}

const REQUEST_TIMEOUT_MS = 10_000;

async function answer<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: { code?: string; detail?: string; error?: { code?: string; message?: string } } = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  if (!res.ok) throw new ControlPlaneError(res.status, body.code ?? body.error?.code ?? `http_${res.status}`, body.detail ?? body.error?.message ?? `HTTP ${res.status}`);
  return body as T;
}

/** The agent's HTTP side of the agent protocol (libs/scheduling agent-rpc). */
export class ControlPlane {
  private signed: typeof fetch | null = null;

  constructor(readonly server: string) {}

  /** Signs every later request with the node credential. */
  useCredential(c: { accessKey: string; secretKey: string }): void {
    this.signed = signingFetch(c) as typeof fetch;
  }

  async join(req: JoinRequest): Promise<JoinReply> {
    const res = await fetch(this.url(AGENT_PATHS.join), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    return answer<JoinReply>(res);
  }

  async heartbeat(req: HeartbeatRequest): Promise<HeartbeatReply> {
    const res = await this.fetch(this.url(AGENT_PATHS.heartbeat), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    return answer<HeartbeatReply>(res);
  }

  modelFileUrl(modelId: string): string {
    return this.url(AGENT_PATHS.modelFile(modelId));
  }

  /** A signed fetch (for the model store's downloads too). */
  readonly fetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    if (!this.signed) throw new Error('the agent has no node credential yet');
    return this.signed(input, init);
  };

  private url(path: string): string {
    return new URL(path, this.server).toString();
  }
}
