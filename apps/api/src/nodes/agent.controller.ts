import { Body, Controller, Get, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiSecurity, ApiTags, ApiCreatedResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiError, quote } from '@gridline/common';
import { ModelRepository } from '@gridline/db';
import { fileURLToPath } from 'node:url';
import { Public } from '../auth/auth.decorators';
import { HMAC_SECURITY } from '../auth/auth.decorators';
import { ApiErrors, AUTHENTICATION_ERRORS, BODY_ERRORS } from '../common/api-errors.decorator';
import { ParseUuidPipe } from '../common/parse-uuid.pipe';
import { notFound } from '../common/resource-errors';
import { sendModelFile } from '../models/model-file';
import { HeartbeatDto, HeartbeatReplyDto, JoinDto, JoinReplyDto } from './dto/agent.dto';
import { ConfirmsNodeCredential, CurrentNode, NodeAuthGuard } from './node-auth.guard';
import { NodePrincipal } from './node-credentials';
import { NodesService } from './nodes.service';

/** What agents call: join with a token, then heartbeat and fetch model files signed with their node credential. */
@ApiTags('agent')
@Controller('api/v1/agent')
export class AgentController {
  constructor(
    private readonly nodes: NodesService,
    private readonly models: ModelRepository,
  ) {}

  @Post('join')
  @Public()
  @ApiOperation({ summary: 'An agent joins with a join token and receives its node credential (shown once)' })
  @ApiCreatedResponse({ type: JoinReplyDto })
  @ApiErrors(BODY_ERRORS, 'join_token_invalid', 'join_token_expired', 'join_token_revoked', 'join_token_used', 'node_revoked')
  join(@Body() dto: JoinDto): Promise<JoinReplyDto> {
    return this.nodes.join(dto);
  }

  @Post('heartbeat')
  @HttpCode(200)
  @Public()
  @UseGuards(NodeAuthGuard)
  @ConfirmsNodeCredential()
  @ApiSecurity(HMAC_SECURITY)
  @ApiOperation({ summary: "The node's inventory and replicas; the answer carries the replicas the control plane wants on it" })
  @ApiOkResponse({ type: HeartbeatReplyDto })
  @ApiErrors(BODY_ERRORS, ...AUTHENTICATION_ERRORS, 'node_mismatch', 'node_revoked')
  heartbeat(@CurrentNode() node: NodePrincipal, @Body() dto: HeartbeatDto): Promise<HeartbeatReplyDto> {
    return this.nodes.heartbeat(node, dto);
  }

  /** A catalog model's file for the node's model store, with byte ranges (resumable) and its sha256. */
  @Get('models/:id/file')
  @Public()
  @UseGuards(NodeAuthGuard)
  @ApiSecurity(HMAC_SECURITY)
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' }, description: 'The GGUF file (206 with a Range header)' })
  @ApiErrors(...AUTHENTICATION_ERRORS, 'invalid_text', 'not_found', 'model_not_deployable')
  async file(@Param('id', ParseUuidPipe) id: string, @Res() res: Response): Promise<void> {
    const model = await this.models.findById(id);
    if (!model) throw notFound('model', id, 'id');
    if (model.headerOnly || !model.source?.startsWith('file:')) throw new ApiError('model_not_deployable', `${quote(model.name)} has no file the control plane serves`, { param: 'id' });
    await sendModelFile(res, fileURLToPath(model.source), model.sha256);
  }
}
