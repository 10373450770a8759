import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AccessRule, Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { ApiErrors, BODY_ERRORS, ID_ERRORS, QUERY_ERRORS } from '../common/api-errors.decorator';
import { ParseUuidPipe } from '../common/parse-uuid.pipe';
import { Origin, RequestOrigin } from '../common/request-origin';
import { CreateJoinTokenDto, CreateReplicaDto, CreatedJoinTokenDto, JoinTokenDto, JoinTokenListDto, LoadsQueryDto, ModelLoadListDto, NodeDto, NodeListDto, ReplicaDto, UpdateNodeDto } from './dto/node.dto';
import { NodesService } from './nodes.service';

/** Nodes are the platform's: superadmins only. */
const ADMIN: AccessRule = { scope: 'management', roles: [] };

/** The control plane's own URL as the caller reached it, for the install command it prints. */
const serverUrl = (req: Request) => `${req.protocol}://${req.get('host') ?? 'localhost'}`;

@ApiTags('nodes')
@Controller('api/v1/join-tokens')
export class JoinTokensController {
  constructor(private readonly nodes: NodesService) {}

  @Post()
  @Authenticated(ADMIN)
  @ApiOperation({ summary: 'Creates a join token for agents (shown once); single use unless maxUses says otherwise' })
  @ApiCreatedResponse({ type: CreatedJoinTokenDto })
  @ApiErrors(BODY_ERRORS)
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateJoinTokenDto, @Origin() origin: RequestOrigin, @Req() req: Request): Promise<CreatedJoinTokenDto> {
    return this.nodes.createToken(p, dto, origin, serverUrl(req));
  }

  @Get()
  @Authenticated(ADMIN)
  @ApiOkResponse({ type: JoinTokenListDto })
  async list(): Promise<JoinTokenListDto> {
    return { items: await this.nodes.listTokens() };
  }

  @Delete(':id')
  @Authenticated(ADMIN)
  @ApiOperation({ summary: 'Revokes a join token: no node joins with it any more (nodes that joined keep their credentials)' })
  @ApiOkResponse({ type: JoinTokenDto })
  @ApiErrors(ID_ERRORS)
  revoke(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Origin() origin: RequestOrigin): Promise<JoinTokenDto> {
    return this.nodes.revokeToken(p, id, origin);
  }
}

@ApiTags('nodes')
@Controller('api/v1/nodes')
export class NodesController {
  constructor(private readonly nodes: NodesService) {}

  @Get()
  @Authenticated(ADMIN)
  @ApiOkResponse({ type: NodeListDto })
  async list(): Promise<NodeListDto> {
    return { items: await this.nodes.list() };
  }

  @Get('loads')
  @Authenticated(ADMIN)
  @ApiOperation({ summary: 'Recent model loads: the memory planned next to the memory each load took' })
  @ApiOkResponse({ type: ModelLoadListDto })
  @ApiErrors(QUERY_ERRORS)
  async loads(@Query() q: LoadsQueryDto): Promise<ModelLoadListDto> {
    return { items: await this.nodes.loads(q) };
  }

  @Get(':id')
  @Authenticated(ADMIN)
  @ApiOkResponse({ type: NodeDto })
  @ApiErrors(ID_ERRORS)
  get(@Param('id', ParseUuidPipe) id: string): Promise<NodeDto> {
    return this.nodes.get(id);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @Authenticated(ADMIN)
  @ApiOkResponse({ type: NodeDto })
  @ApiErrors(ID_ERRORS, 'node_revoked')
  approve(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Origin() origin: RequestOrigin): Promise<NodeDto> {
    return this.nodes.approve(p, id, origin);
  }

  @Post(':id/cordon')
  @HttpCode(200)
  @Authenticated(ADMIN)
  @ApiOperation({ summary: 'No new jobs or replicas go to the node; what runs there keeps running' })
  @ApiOkResponse({ type: NodeDto })
  @ApiErrors(ID_ERRORS)
  cordon(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Origin() origin: RequestOrigin): Promise<NodeDto> {
    return this.nodes.setFlags(p, id, { cordoned: true }, 'node.cordon', origin);
  }

  @Post(':id/uncordon')
  @HttpCode(200)
  @Authenticated(ADMIN)
  @ApiOperation({ summary: 'Ends a cordon or a drain' })
  @ApiOkResponse({ type: NodeDto })
  @ApiErrors(ID_ERRORS)
  uncordon(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Origin() origin: RequestOrigin): Promise<NodeDto> {
    return this.nodes.setFlags(p, id, { cordoned: false, draining: false }, 'node.uncordon', origin);
  }

  @Post(':id/drain')
  @HttpCode(200)
  @Authenticated(ADMIN)
  @ApiOperation({ summary: 'No new jobs; jobs in flight finish; then the node may be deleted' })
  @ApiOkResponse({ type: NodeDto })
  @ApiErrors(ID_ERRORS)
  drain(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Origin() origin: RequestOrigin): Promise<NodeDto> {
    return this.nodes.setFlags(p, id, { draining: true }, 'node.drain', origin);
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @Authenticated(ADMIN)
  @ApiOperation({ summary: "Revokes the node's credential: its agent is refused from its next request on" })
  @ApiOkResponse({ type: NodeDto })
  @ApiErrors(ID_ERRORS)
  revoke(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Origin() origin: RequestOrigin): Promise<NodeDto> {
    return this.nodes.revoke(p, id, origin);
  }

  @Patch(':id')
  @Authenticated(ADMIN)
  @ApiOperation({ summary: 'Sets the labels and taints (each replaces what was there)' })
  @ApiOkResponse({ type: NodeDto })
  @ApiErrors(ID_ERRORS, BODY_ERRORS)
  update(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Body() dto: UpdateNodeDto, @Origin() origin: RequestOrigin): Promise<NodeDto> {
    return this.nodes.update(p, id, dto, origin);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated(ADMIN)
  @ApiOperation({ summary: 'Removes a node that is drained and holds nothing, or is Lost' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrors(ID_ERRORS, 'node_not_removable')
  remove(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Origin() origin: RequestOrigin): Promise<void> {
    return this.nodes.remove(p, id, origin);
  }

  @Post(':id/replicas')
  @Authenticated(ADMIN)
  @ApiOperation({ summary: 'Loads a catalog model on the node: the agent pulls its file, loads it and reports (state Pulling → Loading → Ready or Failed)' })
  @ApiCreatedResponse({ type: ReplicaDto })
  @ApiErrors(ID_ERRORS, BODY_ERRORS, 'node_not_schedulable', 'model_not_deployable')
  addReplica(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Body() dto: CreateReplicaDto, @Origin() origin: RequestOrigin): Promise<ReplicaDto> {
    return this.nodes.addReplica(p, id, dto, origin);
  }

  @Delete(':id/replicas/:replicaId')
  @HttpCode(204)
  @Authenticated(ADMIN)
  @ApiOperation({ summary: 'Unloads a replica: no new jobs go to it, and the agent unloads it once its jobs are done' })
  @ApiNoContentResponse({ description: 'Being unloaded' })
  @ApiErrors(ID_ERRORS)
  removeReplica(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Param('replicaId', ParseUuidPipe) replicaId: string, @Origin() origin: RequestOrigin): Promise<void> {
    return this.nodes.removeReplica(p, id, replicaId, origin);
  }
}
