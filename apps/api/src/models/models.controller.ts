import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { ApiErrors, BODY_ERRORS, QUERY_ERRORS } from '../common/api-errors.decorator';
import { PageQueryDto } from '../common/dto/page.dto';
import { Origin, RequestOrigin } from '../common/request-origin';
import { ModelDto, ModelPageDto, RegisterModelDto, UpdateModelDto } from './dto/model.dto';
import { ModelPresetListDto, PresetRequirementsQueryDto, RequirementsDto, RequirementsQueryDto } from './dto/requirements.dto';
import { sendModelFile } from './model-file';
import { ModelsService } from './models.service';

@ApiTags('models')
@Controller('api/v1/models')
export class ModelCatalogController {
  constructor(private readonly models: ModelsService) {}

  /** Registers a GGUF by its source; only its header is read. */
  @Post()
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  @ApiCreatedResponse({ type: ModelDto })
  @ApiErrors(BODY_ERRORS, 'forbidden', 'model_exists', 'invalid_model_source', 'model_source_unreachable', 'invalid_model_file')
  register(@CurrentPrincipal() p: Principal, @Body() dto: RegisterModelDto, @Origin() origin: RequestOrigin): Promise<ModelDto> {
    return this.models.register(p, dto, origin);
  }

  @Get()
  @Authenticated({ scope: 'management' })
  @ApiOkResponse({ type: ModelPageDto })
  @ApiErrors(QUERY_ERRORS)
  list(@CurrentPrincipal() p: Principal, @Query() q: PageQueryDto): Promise<ModelPageDto> {
    return this.models.list(p, q);
  }

  @Get(':name')
  @Authenticated({ scope: 'management' })
  @ApiOkResponse({ type: ModelDto })
  @ApiErrors('invalid_text', 'not_found')
  get(@CurrentPrincipal() p: Principal, @Param('name') name: string): Promise<ModelDto> {
    return this.models.get(p, name);
  }

  /** Uploads a GGUF into the control plane's model store (streamed, hashed, size-limited) and registers it. */
  @Put(':name/file')
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  @ApiConsumes('application/octet-stream')
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiCreatedResponse({ type: ModelDto })
  @ApiErrors('validation_failed', 'unsupported_media_type', 'payload_too_large', 'forbidden', 'model_exists', 'invalid_model_file')
  upload(@CurrentPrincipal() p: Principal, @Param('name') name: string, @Req() req: Request, @Origin() origin: RequestOrigin, @Res({ passthrough: true }) res: Response): Promise<ModelDto> {
    res.status(201);
    const length = req.headers['content-length'];
    return this.models.upload(p, name, req, length === undefined ? null : Number(length), origin);
  }

  /** The model's file, with byte ranges (resumable downloads) and its sha256 in `x-gridline-sha256`. */
  @Get(':name/file')
  @Authenticated({ scope: 'management' })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' }, description: 'The GGUF file (206 with a Range header)' })
  @ApiErrors('invalid_text', 'not_found', 'model_not_deployable')
  async download(@CurrentPrincipal() p: Principal, @Param('name') name: string, @Res() res: Response): Promise<void> {
    const { path, sha256 } = await this.models.file(p, name);
    await sendModelFile(res, path, sha256);
  }

  @Get(':name/requirements')
  @Authenticated({ scope: 'management' })
  @ApiOkResponse({ type: RequirementsDto })
  @ApiErrors(QUERY_ERRORS, 'not_found', 'model_shape_unknown')
  requirements(@CurrentPrincipal() p: Principal, @Param('name') name: string, @Query() q: RequirementsQueryDto): Promise<RequirementsDto> {
    return this.models.requirements(p, name, q);
  }

  /** An admin's memory figure for the model, planned with in place of the estimate (null clears it). */
  @Patch(':name')
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  @ApiOkResponse({ type: ModelDto })
  @ApiErrors(BODY_ERRORS, 'not_found')
  update(@CurrentPrincipal() p: Principal, @Param('name') name: string, @Body() dto: UpdateModelDto, @Origin() origin: RequestOrigin): Promise<ModelDto> {
    return this.models.update(p, name, dto, origin);
  }

  @Delete(':name')
  @HttpCode(204)
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  @ApiNoContentResponse({ description: 'Removed from the catalog' })
  @ApiErrors('invalid_text', 'not_found')
  remove(@CurrentPrincipal() p: Principal, @Param('name') name: string, @Origin() origin: RequestOrigin): Promise<void> {
    return this.models.remove(p, name, origin);
  }
}

@ApiTags('models')
@Controller('api/v1/model-presets')
export class ModelPresetsController {
  constructor(private readonly models: ModelsService) {}

  /** Well-known model shapes (Llama, Qwen, Mistral, Mixtral, DeepSeek-R1 distills), for plans before a file exists. */
  @Get()
  @Authenticated({ scope: 'management' })
  @ApiOkResponse({ type: ModelPresetListDto })
  list(): ModelPresetListDto {
    return this.models.presets();
  }

  @Get(':preset/requirements')
  @Authenticated({ scope: 'management' })
  @ApiOkResponse({ type: RequirementsDto })
  @ApiErrors(QUERY_ERRORS, 'not_found')
  requirements(@Param('preset') preset: string, @Query() q: PresetRequirementsQueryDto): RequirementsDto {
    return this.models.presetRequirements(preset, q);
  }
}
