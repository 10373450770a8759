import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccessRule, Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { ApiErrors, BODY_ERRORS, ID_ERRORS } from '../common/api-errors.decorator';
import { ParseUuidPipe } from '../common/parse-uuid.pipe';
import { Origin, RequestOrigin } from '../common/request-origin';
import { CreateEndpointDto, EndpointDto, EndpointListDto, EndpointModelDto, FallbackChainDto, FallbackDto, FallbackListDto, UpdateEndpointDto, UpdateEndpointModelDto } from './dto/endpoint.dto';
import { EndpointsService } from './endpoints.service';

/** Endpoints are the platform's: superadmins only. */
const ADMIN: AccessRule = { scope: 'management', roles: [] };
const HANDSHAKE_ERRORS = ['endpoint_credential_refused', 'endpoint_unreachable', 'endpoint_incompatible'] as const;

@ApiTags('endpoints')
@Controller('api/v1/endpoints')
export class EndpointsController {
  constructor(private readonly endpoints: EndpointsService) {}

  @Get()
  @Authenticated(ADMIN)
  @ApiOperation({ summary: 'Registered endpoints (peer Gridlines, Backend.AI clusters, OpenAI-compatible servers) with their health, circuit and catalog' })
  @ApiOkResponse({ type: EndpointListDto })
  async list(): Promise<EndpointListDto> {
    return { items: await this.endpoints.list() };
  }

  @Post()
  @Authenticated(ADMIN)
  @ApiOperation({ summary: 'Registers an endpoint after a handshake (the credential accepted, the kind right, its models listed); the secret is never shown again' })
  @ApiCreatedResponse({ type: EndpointDto })
  @ApiErrors(BODY_ERRORS, 'endpoint_exists', HANDSHAKE_ERRORS)
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateEndpointDto, @Origin() origin: RequestOrigin): Promise<EndpointDto> {
    return this.endpoints.create(p, dto, origin);
  }

  @Get(':id')
  @Authenticated(ADMIN)
  @ApiOkResponse({ type: EndpointDto })
  @ApiErrors(ID_ERRORS)
  get(@Param('id', ParseUuidPipe) id: string): Promise<EndpointDto> {
    return this.endpoints.get(id);
  }

  @Patch(':id')
  @Authenticated(ADMIN)
  @ApiOperation({ summary: 'Changes weight, health settings, enabled; a new url or credentials are checked by a handshake first' })
  @ApiOkResponse({ type: EndpointDto })
  @ApiErrors(ID_ERRORS, BODY_ERRORS, HANDSHAKE_ERRORS)
  update(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Body() dto: UpdateEndpointDto, @Origin() origin: RequestOrigin): Promise<EndpointDto> {
    return this.endpoints.update(p, id, dto, origin);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated(ADMIN)
  @ApiNoContentResponse()
  @ApiErrors(ID_ERRORS)
  remove(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Origin() origin: RequestOrigin): Promise<void> {
    return this.endpoints.remove(p, id, origin);
  }

  @Post(':id/refresh')
  @HttpCode(200)
  @Authenticated(ADMIN)
  @ApiOperation({ summary: 'Checks the endpoint now and refreshes its catalog when it answers (its health moves as a scheduled check would)' })
  @ApiOkResponse({ type: EndpointDto })
  @ApiErrors(ID_ERRORS)
  refresh(@Param('id', ParseUuidPipe) id: string): Promise<EndpointDto> {
    return this.endpoints.refresh(id);
  }

  @Patch(':id/models/:remoteModel')
  @Authenticated(ADMIN)
  @ApiOperation({ summary: "How one of the endpoint's models is offered: its alias, the teams that may use it, enabled (a model id with `/` is URL-encoded)" })
  @ApiOkResponse({ type: EndpointModelDto })
  @ApiErrors(ID_ERRORS, BODY_ERRORS)
  updateModel(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Param('remoteModel') remoteModel: string, @Body() dto: UpdateEndpointModelDto, @Origin() origin: RequestOrigin): Promise<EndpointModelDto> {
    return this.endpoints.updateModel(p, id, remoteModel, dto, origin);
  }
}

@ApiTags('endpoints')
@Controller('api/v1/fallbacks')
export class FallbacksController {
  constructor(private readonly endpoints: EndpointsService) {}

  @Get()
  @Authenticated(ADMIN)
  @ApiOperation({ summary: "Models' fallback chains: where a model's requests go when nothing healthy serves it" })
  @ApiOkResponse({ type: FallbackListDto })
  async list(): Promise<FallbackListDto> {
    return { items: await this.endpoints.fallbacks() };
  }

  @Put(':model')
  @Authenticated(ADMIN)
  @ApiOkResponse({ type: FallbackDto })
  @ApiErrors(BODY_ERRORS)
  set(@CurrentPrincipal() p: Principal, @Param('model') model: string, @Body() dto: FallbackChainDto, @Origin() origin: RequestOrigin): Promise<FallbackDto> {
    return this.endpoints.setFallback(p, model, dto.chain, origin);
  }

  @Delete(':model')
  @HttpCode(204)
  @Authenticated(ADMIN)
  @ApiNoContentResponse()
  @ApiErrors('not_found')
  remove(@CurrentPrincipal() p: Principal, @Param('model') model: string, @Origin() origin: RequestOrigin): Promise<void> {
    return this.endpoints.removeFallback(p, model, origin);
  }
}
