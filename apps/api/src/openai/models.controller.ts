import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiError, quote } from '@gridline/common';
import { ModelRecord, ModelRepository, scopedTeam } from '@gridline/db';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal, scopeFor } from '../auth/principal';
import { ApiErrors } from '../common/api-errors.decorator';
import { OpenAiModelDto, ModelListDto } from './dto/chat-completion.dto';

/**
 * What a caller may use, and so see here: the global models and its team's (all of them for a
 * superadmin, as ModelRepository.findVisible), narrowed to a token's allowed ones.
 */
function visibleTo(p: Principal, m: ModelRecord): boolean {
  const team = scopedTeam(scopeFor(p));
  const allowed = p.credential.kind === 'token' ? p.credential.models : null;
  return (team === null || m.teamId === null || m.teamId === team) && (!allowed || allowed.includes(m.name));
}

function toModel(m: ModelRecord): OpenAiModelDto {
  return { id: m.name, object: 'model', created: Math.floor(m.createdAt.getTime() / 1000), owned_by: 'gridline' };
}

@ApiTags('openai')
@Authenticated({ scope: 'inference' })
@Controller('v1/models')
export class ModelsController {
  constructor(private readonly models: ModelRepository) {}

  @Get()
  @ApiOperation({ summary: 'List the models of the catalog (OpenAI-compatible)' })
  @ApiOkResponse({ type: ModelListDto })
  async list(@CurrentPrincipal() p: Principal): Promise<ModelListDto> {
    return { object: 'list', data: (await this.models.list()).filter((m) => visibleTo(p, m)).map(toModel) };
  }

  @Get(':model')
  @ApiOperation({ summary: 'One model of the catalog (OpenAI-compatible); one the list would not show is 404 model_not_found' })
  @ApiOkResponse({ type: OpenAiModelDto })
  @ApiErrors('model_not_found')
  async get(@CurrentPrincipal() p: Principal, @Param('model') name: string): Promise<OpenAiModelDto> {
    const model = await this.models.findVisible(scopeFor(p), name);
    // A model the caller may not see is answered as one that does not exist: its name tells nothing.
    if (!model || !visibleTo(p, model)) throw new ApiError('model_not_found', `The model ${quote(name)} does not exist`, { param: 'model' });
    return toModel(model);
  }
}
