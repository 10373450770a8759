import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ModelRepository } from '@gridline/db';
import { Authenticated } from '../auth/auth.decorators';
import { ModelListDto } from './dto/chat-completion.dto';

@ApiTags('openai')
@Authenticated()
@Controller('v1/models')
export class ModelsController {
  constructor(private readonly models: ModelRepository) {}

  @Get()
  @ApiOperation({ summary: 'List the models of the catalog (OpenAI-compatible)' })
  @ApiOkResponse({ type: ModelListDto })
  async list(): Promise<ModelListDto> {
    const models = await this.models.list();
    return {
      object: 'list',
      data: models.map((m) => ({ id: m.name, object: 'model', created: Math.floor(m.createdAt.getTime() / 1000), owned_by: 'gridline' })),
    };
  }
}
