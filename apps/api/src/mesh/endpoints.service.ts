import { Injectable } from '@nestjs/common';
import { ApiError, quote } from '@gridline/common';
import { EndpointModelRecord, EndpointRecord, EndpointRepository, FallbackRecord } from '@gridline/db';
import { DEFAULT_HEALTH, EndpointCredentials, EndpointFailure, EndpointKind, Handshake, HealthSettings, credentialHint, credentialShape, normalizeEndpointUrl } from '@gridline/mesh';
import { AuditService } from '../audit/audit.service';
import { Principal } from '../auth/principal';
import { isUniqueViolation, notFound } from '../common/resource-errors';
import { RequestOrigin } from '../common/request-origin';
import { ApiMetrics } from '../metrics/api-metrics';
import { CircuitBreaker } from './circuit-breaker';
import { EndpointConnector } from './endpoint-connector';
import { EndpointHealthChecker } from './endpoint-health';
import { MeshViews } from './mesh-views';
import { CreateEndpointDto, EndpointCredentialsDto, EndpointDto, EndpointHealthDto, EndpointModelDto, FallbackDto, UpdateEndpointDto, UpdateEndpointModelDto } from './dto/endpoint.dto';

const toModelDto = (m: EndpointModelRecord): EndpointModelDto => ({ remoteModel: m.remoteModel, alias: m.alias, teamIds: m.teamIds, enabled: m.enabled, listed: m.listed, lastSeenAt: m.lastSeenAt.toISOString() });
const toFallbackDto = (f: FallbackRecord): FallbackDto => ({ model: f.model, chain: f.chain, updatedAt: f.updatedAt.toISOString() });

/** The credentials a kind takes, checked: a keypair for a peer or a Backend.AI cluster, a bearer key for an OpenAI-compatible server. */
function credentialsFor(kind: EndpointKind, c: EndpointCredentialsDto): EndpointCredentials {
  if (credentialShape(kind) === 'apiKey') {
    if (!c.apiKey || c.accessKey !== undefined || c.secretKey !== undefined) throw new ApiError('validation_failed', `a ${kind} endpoint takes credentials.apiKey (a bearer key) and nothing else`, { param: 'credentials' });
    return { apiKey: c.apiKey };
  }
  if (!c.accessKey || !c.secretKey || c.apiKey !== undefined) throw new ApiError('validation_failed', `a ${kind} endpoint takes credentials.accessKey and credentials.secretKey (a keypair it issued) and nothing else`, { param: 'credentials' });
  return { accessKey: c.accessKey, secretKey: c.secretKey };
}

function urlOf(raw: string): string {
  const url = normalizeEndpointUrl(raw);
  if (!url) throw new ApiError('validation_failed', 'url must be an http or https URL without credentials, query or fragment', { param: 'url' });
  return url;
}

function healthOf(base: HealthSettings, dto: EndpointHealthDto | undefined): HealthSettings {
  return { ...base, ...Object.fromEntries(Object.entries(dto ?? {}).filter(([, v]) => v !== undefined)) } as HealthSettings;
}

/** Registered endpoints: registration (with a handshake), their health and catalogs, aliases, team restrictions, fallback chains. */
@Injectable()
export class EndpointsService {
  constructor(
    private readonly endpoints: EndpointRepository,
    private readonly connector: EndpointConnector,
    private readonly checker: EndpointHealthChecker,
    private readonly breaker: CircuitBreaker,
    private readonly views: MeshViews,
    private readonly audit: AuditService,
    metrics: ApiMetrics,
  ) {
    metrics.readEndpointsWith(async () => {
      const [list, models] = await Promise.all([this.endpoints.list(), this.endpoints.allModels()]);
      const open = await this.breaker.openUntil(list.map((e) => e.id));
      return list.map((e) => ({ name: e.name, kind: e.kind, state: e.state, enabled: e.enabled, circuitOpen: open.has(e.id), models: models.filter((m) => m.endpointId === e.id && m.listed).length }));
    });
  }

  async list(): Promise<EndpointDto[]> {
    const [list, models] = await Promise.all([this.endpoints.list(), this.endpoints.allModels()]);
    const open = await this.breaker.openUntil(list.map((e) => e.id));
    return list.map((e) => this.toDto(e, models.filter((m) => m.endpointId === e.id), open.get(e.id) ?? null));
  }

  async get(id: string): Promise<EndpointDto> {
    return this.present(await this.find(id));
  }

  /**
   * Registers an endpoint once a handshake passed: the credential is accepted, the remote is what
   * its kind says (a peer speaks our mesh protocol), and it lists its models. Nothing is stored
   * otherwise; the refusal says why (422).
   */
  async create(p: Principal, dto: CreateEndpointDto, origin: RequestOrigin): Promise<EndpointDto> {
    const credentials = credentialsFor(dto.kind, dto.credentials);
    const url = urlOf(dto.url);
    const health = healthOf(DEFAULT_HEALTH, dto.health);
    if (await this.endpoints.findByName(dto.name)) throw new ApiError('endpoint_exists', `an endpoint named ${quote(dto.name)} exists`, { param: 'name' });
    const hello = await this.handshake(dto.name, dto.kind, url, credentials, health);
    let created: EndpointRecord;
    try {
      created = await this.endpoints.create({
        name: dto.name,
        kind: dto.kind,
        url,
        credentialsSealed: this.connector.seal(dto.name, credentials),
        credentialHint: credentialHint(credentials),
        weight: dto.weight ?? 100,
        enabled: true,
        offerNewModels: dto.offerNewModels ?? true,
        health,
        remoteVersion: hello.version,
        createdBy: p.userId,
        state: 'healthy',
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ApiError('endpoint_exists', `an endpoint named ${quote(dto.name)} exists`, { param: 'name' });
      throw e;
    }
    // The handshake was its first check: it passed.
    const at = new Date();
    await this.endpoints.recordCheck(created.id, { state: 'healthy', stateChanged: false, consecutiveFailures: 0, consecutiveSuccesses: 1, lastError: null, at });
    await this.endpoints.replaceCatalog(created.id, hello.models, at, { offerNew: created.offerNewModels });
    this.views.forget();
    await this.audit.record(p, origin, { action: 'endpoint.create', targetType: 'endpoint', targetId: created.id, teamId: null, details: { name: dto.name, kind: dto.kind, url, credential: credentialHint(credentials), models: hello.models.length } });
    return this.present(await this.find(created.id));
  }

  /** Changes an endpoint; a new address or credential is checked by a handshake first, and starts its health afresh. */
  async update(p: Principal, id: string, dto: UpdateEndpointDto, origin: RequestOrigin): Promise<EndpointDto> {
    const current = await this.find(id);
    const health = dto.health ? healthOf({ ...DEFAULT_HEALTH, ...current.health }, dto.health) : undefined;
    const changes: Parameters<EndpointRepository['update']>[1] = {
      ...(dto.weight !== undefined ? { weight: dto.weight } : {}),
      ...(dto.enabled !== undefined ? { enabled: dto.enabled } : {}),
      ...(dto.offerNewModels !== undefined ? { offerNewModels: dto.offerNewModels } : {}),
      ...(health ? { health } : {}),
    };
    let reconnected: Handshake | null = null;
    if (dto.url !== undefined || dto.credentials !== undefined) {
      const url = dto.url !== undefined ? urlOf(dto.url) : current.url;
      const credentials = dto.credentials ? credentialsFor(current.kind, dto.credentials) : null;
      const client = credentials ? this.connector.clientFor(current.kind, url, credentials, health ?? current.health) : this.connector.client({ ...current, url });
      reconnected = await this.shake(current.name, () => client.handshake());
      Object.assign(changes, { url, remoteVersion: reconnected.version }, credentials ? { credentialsSealed: this.connector.seal(current.name, credentials), credentialHint: credentialHint(credentials) } : {});
    }
    const updated = (await this.endpoints.update(id, changes)) ?? current;
    if (reconnected) {
      const at = new Date();
      await this.endpoints.resetHealth(id, 'healthy', at);
      await this.endpoints.recordCheck(id, { state: 'healthy', stateChanged: false, consecutiveFailures: 0, consecutiveSuccesses: 1, lastError: null, at });
      await this.endpoints.replaceCatalog(id, reconnected.models, at, { offerNew: updated.offerNewModels });
      await this.breaker.reset(id);
    }
    this.views.forget();
    await this.audit.record(p, origin, {
      action: 'endpoint.update',
      targetType: 'endpoint',
      targetId: id,
      teamId: null,
      details: { ...changes, credentialsSealed: undefined, ...(dto.credentials ? { credentials: 'replaced' } : {}) },
    });
    return this.present((await this.endpoints.get(id)) ?? updated);
  }

  async remove(p: Principal, id: string, origin: RequestOrigin): Promise<void> {
    const current = await this.find(id);
    await this.endpoints.remove(id);
    await this.breaker.reset(id).catch(() => undefined);
    this.views.forget();
    await this.audit.record(p, origin, { action: 'endpoint.delete', targetType: 'endpoint', targetId: id, teamId: null, details: { name: current.name } });
  }

  /** Checks the endpoint now (its health moves as a scheduled check's would) and refreshes its catalog when it answers. */
  async refresh(id: string): Promise<EndpointDto> {
    await this.checker.check(await this.find(id));
    this.views.forget();
    return this.get(id);
  }

  async updateModel(p: Principal, id: string, remoteModel: string, dto: UpdateEndpointModelDto, origin: RequestOrigin): Promise<EndpointModelDto> {
    await this.find(id);
    let updated: EndpointModelRecord | null;
    try {
      updated = await this.endpoints.updateModel(id, remoteModel, { ...(dto.alias !== undefined ? { alias: dto.alias } : {}), ...(dto.teamIds !== undefined ? { teamIds: dto.teamIds } : {}), ...(dto.enabled !== undefined ? { enabled: dto.enabled } : {}) });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ApiError('validation_failed', `another model of this endpoint is offered as ${quote(dto.alias)}`, { param: 'alias' });
      throw e;
    }
    if (!updated) throw notFound('model', remoteModel, 'remoteModel');
    this.views.forget();
    await this.audit.record(p, origin, { action: 'endpoint.model.update', targetType: 'endpoint', targetId: id, teamId: null, details: { remoteModel, ...dto } });
    return toModelDto(updated);
  }

  async fallbacks(): Promise<FallbackDto[]> {
    return (await this.endpoints.fallbacks()).map(toFallbackDto);
  }

  async setFallback(p: Principal, model: string, chain: string[], origin: RequestOrigin): Promise<FallbackDto> {
    if (chain.includes(model)) throw new ApiError('validation_failed', 'a model cannot fall back to itself', { param: 'chain' });
    if (new Set(chain).size !== chain.length) throw new ApiError('validation_failed', 'chain names a model twice', { param: 'chain' });
    const saved = await this.endpoints.setFallback(model, chain);
    this.views.forget();
    await this.audit.record(p, origin, { action: 'fallback.set', targetType: 'model', targetId: model, teamId: null, details: { chain } });
    return toFallbackDto(saved);
  }

  async removeFallback(p: Principal, model: string, origin: RequestOrigin): Promise<void> {
    if (!(await this.endpoints.removeFallback(model))) throw notFound('fallback chain of', model, 'model');
    this.views.forget();
    await this.audit.record(p, origin, { action: 'fallback.delete', targetType: 'model', targetId: model, teamId: null });
  }

  private async handshake(name: string, kind: EndpointKind, url: string, credentials: EndpointCredentials, health: HealthSettings): Promise<Handshake> {
    const client = this.connector.clientFor(kind, url, credentials, health);
    return this.shake(name, () => client.handshake());
  }

  /** A handshake, its failure as the refusal an admin can act on. */
  private async shake(name: string, run: () => Promise<Handshake>): Promise<Handshake> {
    try {
      return await run();
    } catch (e) {
      if (!(e instanceof EndpointFailure)) throw e;
      if (e.reason === 'credential_refused') throw new ApiError('endpoint_credential_refused', `${quote(name)} refused the credential given: ${e.message}. Check the keypair (or API key) the remote issued.`, { param: 'credentials' });
      if (e.reason === 'protocol' || e.reason === 'client_error') throw new ApiError('endpoint_incompatible', `${quote(name)} answered, but not as its kind should: ${e.message}`, { param: 'kind' });
      throw new ApiError('endpoint_unreachable', `${quote(name)} could not be reached for the handshake: ${e.message}`, { param: 'url' });
    }
  }

  private async find(id: string): Promise<EndpointRecord> {
    const e = await this.endpoints.get(id);
    if (!e) throw notFound('endpoint', id, 'id');
    return e;
  }

  private async present(e: EndpointRecord): Promise<EndpointDto> {
    const [models, open] = await Promise.all([this.endpoints.models(e.id), this.breaker.openUntil([e.id])]);
    return this.toDto(e, models, open.get(e.id) ?? null);
  }

  private toDto(e: EndpointRecord, models: EndpointModelRecord[], openUntil: number | null): EndpointDto {
    return {
      id: e.id,
      name: e.name,
      kind: e.kind,
      url: e.url,
      credentialHint: e.credentialHint,
      weight: e.weight,
      enabled: e.enabled,
      offerNewModels: e.offerNewModels,
      health: { ...DEFAULT_HEALTH, ...e.health },
      state: e.state,
      stateSince: e.stateSince.toISOString(),
      circuit: openUntil ? 'open' : 'closed',
      circuitOpenUntil: openUntil ? new Date(openUntil).toISOString() : null,
      routable: e.enabled && e.state !== 'unhealthy' && !openUntil,
      consecutiveFailures: e.consecutiveFailures,
      lastCheckAt: e.lastCheckAt?.toISOString() ?? null,
      lastError: e.lastError,
      remoteVersion: e.remoteVersion,
      catalogRefreshedAt: e.catalogRefreshedAt?.toISOString() ?? null,
      models: models.map(toModelDto),
      createdAt: e.createdAt.toISOString(),
    };
  }
}
