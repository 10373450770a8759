import { Injectable } from '@nestjs/common';
import { ApiError, ApiErrorCode, quote } from '@gridline/common';
import { ModelRepository } from '@gridline/db';
import { ModelShapeError, ModelSourceError, ModelSourceProblem, inspectModelSource, modelFacts, modelShape } from '@gridline/models';
import { ApiConfig } from '../api.config';
import { AuditService } from '../audit/audit.service';
import { Principal, scopeFor } from '../auth/principal';
import { PageQueryDto, toPageDto } from '../common/dto/page.dto';
import { isUniqueViolation, notFound } from '../common/resource-errors';
import { RequestOrigin } from '../common/request-origin';
import { ModelDto, ModelPageDto, RegisterModelDto, toModelDto } from './dto/model.dto';

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
  ) {}

  async register(p: Principal, dto: RegisterModelDto, origin: RequestOrigin): Promise<ModelDto> {
    if (dto.teamId && p.role !== 'superadmin' && dto.teamId !== p.teamId) throw new ApiError('forbidden', 'team admins register models for their own team only', { param: 'teamId' });
    const teamId = p.role === 'superadmin' ? (dto.teamId ?? null) : p.teamId;
    if (await this.models.findByName(dto.name)) throw new ApiError('model_exists', `a model named ${quote(dto.name)} exists`, { param: 'name' });
    let inspected;
    try {
      inspected = await inspectModelSource(dto.source, { fileRoots: this.config.modelRoots });
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
    let model;
    try {
      // The shape (per-layer bytes, heads, context) is what deployments are planned with.
      model = await this.models.register({ name: dto.name, source: dto.source, teamId, sizeBytes: inspected.sizeBytes, headerOnly: inspected.headerOnly, facts: { ...modelFacts(inspected.header), shape } });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ApiError('model_exists', `a model named ${quote(dto.name)} exists`, { param: 'name' });
      throw e;
    }
    await this.audit.record(p, origin, { action: 'model.register', targetType: 'model', targetId: model.id, teamId, details: { name: model.name, headerOnly: model.headerOnly } });
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

  /** Removes a model from the catalog; team admins remove their team's, superadmins any. */
  async remove(p: Principal, name: string, origin: RequestOrigin): Promise<void> {
    const model = await this.models.findVisible(scopeFor(p), name);
    if (!model || !(await this.models.deleteVisible(scopeFor(p), name))) throw notFound('model', name, 'name');
    await this.audit.record(p, origin, { action: 'model.delete', targetType: 'model', targetId: model.id, teamId: model.teamId });
  }
}
