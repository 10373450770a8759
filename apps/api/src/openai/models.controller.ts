import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ModelRepository } from '@gridline/db';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { ModelListDto } from './dto/chat-completion.dto';

@ApiTags('openai')
@Authenticated({ scope: 'inference' })
@Controller('v1/models')
export class ModelsController {
  constructor(private readonly models: ModelRepository) {}

  @Get()
  @ApiOperation({ summary: 'List the models of the catalog (OpenAI-compatible)' })
  @ApiOkResponse({ type: ModelListDto })
  async list(@CurrentPrincipal() principal: Principal): Promise<ModelListDto> {
    const allowed = principal.credential.kind === 'token' ? principal.credential.models : null;
    const models = (await this.models.list()).filter((m) => !allowed || allowed.includes(m.name));
    return {
      object: 'list',
      data: models.map((m) => ({ id: m.name, object: 'model', created: Math.floor(m.createdAt.getTime() / 1000), owned_by: 'gridline' })),
    };
  }
}
