import { Injectable } from '@nestjs/common';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ApiError, ApiErrorCode, quote } from '@gridline/common';
import { ModelRepository } from '@gridline/db';
import {
  GiB,
  MODEL_PRESETS,
  ModelPresetName,
  ModelShape,
  ModelShapeError,
  ModelSourceError,
  ModelSourceProblem,
  PRESET_QUANTIZATIONS,
  PresetQuantization,
  buildPresetHeader,
  decodeGgufHeader,
  encodeGguf,
  inspectModelSource,
  isModelPresetName,
  modelFacts,
  modelShape,
  plannedRequirements,
  splitAcrossGpus,
} from '@gridline/models';
import { ApiConfig } from '../api.config';
import { AuditService } from '../audit/audit.service';
import { Principal, scopeFor } from '../auth/principal';
import { PageQueryDto, toPageDto } from '../common/dto/page.dto';
import { isUniqueViolation, notFound } from '../common/resource-errors';
import { RequestOrigin } from '../common/request-origin';
import { MODEL_NAME, ModelDto, ModelPageDto, RegisterModelDto, UpdateModelDto, toModelDto } from './dto/model.dto';
import { ModelStore } from './model-store';
import { ModelLookup } from './model-lookup';
import { ModelPresetListDto, PresetRequirementsQueryDto, RequirementsDto, RequirementsQueryDto, memoryBreakdown } from './dto/requirements.dto';

/** Requirements of a shape at the settings of a query, split over its GPUs when it names some. */
export function requirementsOf(model: string, shape: ModelShape, q: RequirementsQueryDto, overrideBytes: number | null = null): RequirementsDto {
  const { gpus, ...settings } = q;
  let r;
  try {
    r = plannedRequirements(shape, settings, overrideBytes);
  } catch (e) {
    if (e instanceof RangeError) throw new ApiError('validation_failed', e.message);
    throw e;
  }
  const split = gpus ? splitAcrossGpus(r, gpus.split(',').map((g) => Math.floor(Number(g) * GiB))) : undefined;
  return {
    model,
    settings: { ...r.settings },
    ...memoryBreakdown(r),
    layers: r.layers.length,
    largestLayerBytes: Math.max(0, ...r.layers.map((l) => l.bytes)),
    ...(split ? { split: { ...split, gpus: split.gpus.map((g) => ({ ...g })) } } : {}),
  };
}

const SOURCE_ERRORS: Record<ModelSourceProblem, ApiErrorCode> = {
  invalid_source: 'invalid_model_source',
  source_unreachable: 'model_source_unreachable',
  invalid_model_file: 'invalid_model_file',
};

/**
 * The model catalog: registering a file (its header read and checked before anything is
 * written, so nothing is half-registered), listing and removing what a team may see.
 */
@Injectable()
export class ModelsService {
  constructor(
    private readonly models: ModelRepository,
    private readonly audit: AuditService,
    private readonly config: ApiConfig,
    private readonly store: ModelStore,
    private readonly lookup: ModelLookup,
  ) {}

  async register(p: Principal, dto: RegisterModelDto, origin: RequestOrigin): Promise<ModelDto> {
    const teamId = await this.admit(p, dto.name, dto.teamId);
    return this.catalog(p, origin, { name: dto.name, source: dto.source, teamId, sha256: null });
  }

  /**
   * `PUT /api/v1/models/{name}/file`: the file itself, streamed into the model store (hashed
   * and counted as it arrives, cut off at the size limit), then registered like any source.
   * Refused uploads leave no file and no row.
   */
  async upload(p: Principal, name: string, body: Readable, declaredBytes: number | null, origin: RequestOrigin): Promise<ModelDto> {
    if (!MODEL_NAME.test(name)) throw new ApiError('validation_failed', 'model names are 1 to 128 letters, digits, dots, underscores, colons or dashes', { param: 'name' });
    const teamId = await this.admit(p, name, undefined);
    const upload = await this.store.receive(body, declaredBytes);
    try {
      return await this.catalog(p, origin, { name, source: pathToFileURL(upload.partPath).toString(), teamId, sha256: upload.sha256 }, () =>
        this.store.keep(upload, `${name}-${upload.sha256.slice(0, 16)}`),
      );
    } finally {
      await this.store.discard(upload);
    }
  }

  /** The model's file for agents: byte ranges, and its sha256 when known. */
  async file(p: Principal, name: string): Promise<{ path: string; sha256: string | null }> {
    const model = await this.models.findVisible(scopeFor(p), name);
    if (!model) throw notFound('model', name, 'name');
    if (model.headerOnly) throw new ApiError('model_not_deployable', `${quote(name)} is a header-only file: it has no weights to serve`, { param: 'name' });
    if (!model.source?.startsWith('file:')) throw new ApiError('model_not_deployable', `${quote(name)} is not stored on the control plane (its source is ${model.source ? 'remote' : 'an agent'})`, { param: 'name' });
    return { path: fileURLToPath(model.source), sha256: model.sha256 };
  }

  /** Who may add `name`, for which team; refuses a taken name before any costly reading. */
  private async admit(p: Principal, name: string, requestedTeam: string | undefined): Promise<string | null> {
    if (requestedTeam && p.role !== 'superadmin' && requestedTeam !== p.teamId) throw new ApiError('forbidden', 'team admins register models for their own team only', { param: 'teamId' });
    if (await this.models.findByName(name)) throw new ApiError('model_exists', `a model named ${quote(name)} exists`, { param: 'name' });
    return p.role === 'superadmin' ? (requestedTeam ?? null) : p.teamId;
  }

  /** Reads the source's header, checks it, and writes the row; `settle` runs before the row (the upload's final name). */
  private async catalog(p: Principal, origin: RequestOrigin, m: { name: string; source: string; teamId: string | null; sha256: string | null }, settle?: () => Promise<string>): Promise<ModelDto> {
    let inspected;
    try {
      inspected = await inspectModelSource(m.source, { fileRoots: this.config.modelRoots });
    } catch (e) {
      if (e instanceof ModelSourceError) throw new ApiError(SOURCE_ERRORS[e.problem], e.message, { param: 'source' });
      throw e;
    }
    let shape;
    try {
      shape = modelShape(inspected.header);
    } catch (e) {
      if (e instanceof ModelShapeError) throw new ApiError('invalid_model_file', e.message, { param: 'source' });
      throw e;
    }
    const source = settle ? pathToFileURL(await settle()).toString() : m.source;
    let model;
    try {
      // The shape (per-layer bytes, heads, context) is what deployments are planned with.
      model = await this.models.register({ name: m.name, source, teamId: m.teamId, sha256: m.sha256, sizeBytes: inspected.sizeBytes, headerOnly: inspected.headerOnly, facts: { ...modelFacts(inspected.header), shape } });
    } catch (e) {
      if (settle) await rm(fileURLToPath(source), { force: true });
      if (isUniqueViolation(e)) throw new ApiError('model_exists', `a model named ${quote(m.name)} exists`, { param: 'name' });
      throw e;
    }
    await this.audit.record(p, origin, { action: 'model.register', targetType: 'model', targetId: model.id, teamId: m.teamId, details: { name: model.name, headerOnly: model.headerOnly, uploaded: settle !== undefined } });
    return toModelDto(model);
  }

  async list(p: Principal, q: PageQueryDto): Promise<ModelPageDto> {
    return toPageDto(await this.models.listVisible(scopeFor(p), q), toModelDto);
  }

  async get(p: Principal, name: string): Promise<ModelDto> {
    const model = await this.models.findVisible(scopeFor(p), name);
    if (!model) throw notFound('model', name, 'name');
    return toModelDto(model);
  }

  /** What the model needs at given runtime settings, computed from its GGUF shape. */
  async requirements(p: Principal, name: string, q: RequirementsQueryDto): Promise<RequirementsDto> {
    const model = await this.models.findVisible(scopeFor(p), name);
    if (!model) throw notFound('model', name, 'name');
    const shape = (model.facts as { shape?: ModelShape }).shape;
    if (!shape) throw new ApiError('model_shape_unknown', `the catalog has no GGUF shape for ${quote(name)}: register its file`, { param: 'name' });
    return requirementsOf(model.name, shape, q, model.memoryOverrideBytes);
  }

  presets(): ModelPresetListDto {
    return {
      items: Object.entries(MODEL_PRESETS).map(([name, p]) => ({
        name,
        title: p.name,
        architecture: p.architecture,
        layers: p.layers,
        embedding: p.embedding,
        contextLength: p.contextLength,
        quantizations: [...PRESET_QUANTIZATIONS],
      })),
    };
  }

  /** What a well-known model needs before any file of it exists (its published shape, laid out as llama.cpp would). */
  presetRequirements(preset: string, q: PresetRequirementsQueryDto): RequirementsDto {
    if (!isModelPresetName(preset)) throw new ApiError('not_found', `no preset named ${quote(preset)}`, { param: 'preset' });
    const { quantization, ...rest } = q;
    return requirementsOf(`${preset}:${quantization}`, presetShape(preset, quantization), rest);
  }

  /** Sets (or clears) the GPU memory a replica of the model is planned with, in place of the estimate. */
  async update(p: Principal, name: string, dto: UpdateModelDto, origin: RequestOrigin): Promise<ModelDto> {
    const found = await this.models.findChangeable(scopeFor(p), name);
    if (!found) throw notFound('model', name, 'name');
    await this.models.setMemoryOverride(found.id, dto.memoryOverrideBytes);
    this.lookup.forget();
    const model = { ...found, memoryOverrideBytes: dto.memoryOverrideBytes };
    await this.audit.record(p, origin, { action: 'model.update', targetType: 'model', targetId: model.id, teamId: model.teamId, details: { memoryOverrideBytes: dto.memoryOverrideBytes } });
    return toModelDto(model);
  }

  /** Removes a model from the catalog; team admins remove their team's, superadmins any. */
  async remove(p: Principal, name: string, origin: RequestOrigin): Promise<void> {
    const model = await this.models.findChangeable(scopeFor(p), name);
    if (!model || !(await this.models.delete(model.id))) throw notFound('model', name, 'name');
    this.lookup.forget();
    await this.audit.record(p, origin, { action: 'model.delete', targetType: 'model', targetId: model.id, teamId: model.teamId });
  }
}

/** Preset shapes, built once each (a 150k-token vocabulary takes a moment to lay out); at most presets × quantizations. */
const presetShapes = new Map<string, ModelShape>();

function presetShape(preset: ModelPresetName, quantization: PresetQuantization): ModelShape {
  const key = `${preset}:${quantization}`;
  let shape = presetShapes.get(key);
  if (!shape) {
    shape = modelShape(decodeGgufHeader(encodeGguf(buildPresetHeader(MODEL_PRESETS[preset], quantization), { headerOnly: true })));
    presetShapes.set(key, shape);
  }
  return shape;
}
