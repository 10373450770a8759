import { Controller, Get, Param, Req } from '@nestjs/common';
import type { Request } from 'express';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiError, quote } from '@gridline/common';
import { MESH_HOP_HEADER } from '@gridline/mesh';
import { EndpointOffer, ModelRecord, ModelRepository, scopedTeam } from '@gridline/db';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal, scopeFor } from '../auth/principal';
import { ApiErrors } from '../common/api-errors.decorator';
import { MeshViews } from '../mesh/mesh-views';
import { OpenAiModelDto, ModelListDto } from './dto/chat-completion.dto';

/**
 * What a caller may use, and so see here: the global models and its team's (all of them for a
 * superadmin, as ModelRepository.findVisible), narrowed to a token's allowed ones.
 */
function visibleTo(p: Principal, m: ModelRecord): boolean {
  const team = scopedTeam(scopeFor(p));
  return (team === null || m.teamId === null || m.teamId === team) && tokenAllows(p, m.name);
}

function tokenAllows(p: Principal, name: string): boolean {
  const allowed = p.credential.kind === 'token' ? p.credential.models : null;
  return !allowed || allowed.includes(name);
}

/**
 * The catalog as one list: this installation's models and the endpoints' (under their aliases,
 * for the teams they are offered to; none for a local-only team), one entry per name with where
 * it is served.
 */
function merge(p: Principal, local: ModelRecord[], offers: EndpointOffer[]): OpenAiModelDto[] {
  const out = new Map<string, OpenAiModelDto>();
  for (const m of local) if (visibleTo(p, m)) out.set(m.name, { id: m.name, object: 'model', created: Math.floor(m.createdAt.getTime() / 1000), owned_by: 'gridline', served_by: ['local'] });
  for (const o of offers) {
    if (!tokenAllows(p, o.alias)) continue;
    const entry = out.get(o.alias);
    if (entry) {
      if (!entry.served_by.includes(o.endpointName)) entry.served_by.push(o.endpointName);
    } else out.set(o.alias, { id: o.alias, object: 'model', created: 0, owned_by: o.endpointName, served_by: [o.endpointName] });
  }
  return [...out.values()];
}

@ApiTags('openai')
@Authenticated({ scope: 'inference' })
@Controller('v1/models')
export class ModelsController {
  constructor(
    private readonly models: ModelRepository,
    private readonly mesh: MeshViews,
  ) {}

  @Get()
  @ApiOperation({ summary: "List the models a caller may use (OpenAI-compatible): the catalog's and those registered endpoints serve, with where each is served" })
  @ApiOkResponse({ type: ModelListDto })
  async list(@CurrentPrincipal() p: Principal, @Req() req: Request): Promise<ModelListDto> {
    const hop = req.headers[MESH_HOP_HEADER];
    // A peer lists what this installation serves itself: it never offers our endpoints' models on.
    const [local, offers] = await Promise.all([this.models.list(), hop === undefined ? this.mesh.allOffersFor(p.teamId) : []]);
    return { object: 'list', data: merge(p, local, offers) };
  }

  @Get(':model')
  @ApiOperation({ summary: 'One model (OpenAI-compatible); one the list would not show is 404 model_not_found' })
  @ApiOkResponse({ type: OpenAiModelDto })
  @ApiErrors('model_not_found')
  async get(@CurrentPrincipal() p: Principal, @Param('model') name: string, @Req() req: Request): Promise<OpenAiModelDto> {
    const hop = req.headers[MESH_HOP_HEADER];
    const model = await this.models.findVisible(scopeFor(p), name);
    const offers = hop === undefined ? (await this.mesh.offersFor(p.teamId, name)).filter(() => tokenAllows(p, name)) : [];
    const [found] = merge(p, model ? [model] : [], offers);
    // A model the caller may not see is answered as one that does not exist: its name tells nothing.
    if (!found) throw new ApiError('model_not_found', `The model ${quote(name)} does not exist`, { param: 'model' });
    return found;
  }
}
