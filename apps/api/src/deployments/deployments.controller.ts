import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiExtraModels, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { Response } from 'express';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { ApiErrors, BODY_ERRORS, ID_ERRORS, QUERY_ERRORS } from '../common/api-errors.decorator';
import { PageQueryDto } from '../common/dto/page.dto';
import { ParseUuidPipe } from '../common/parse-uuid.pipe';
import { Origin, RequestOrigin } from '../common/request-origin';
import { CreateDeploymentDto, DryRunQueryDto, UpdateDeploymentDto } from './dto/deployment.dto';
import { DeploymentDto, DeploymentPageDto, DeploymentPlanDto } from './dto/plan.dto';
import { DeploymentsService } from './deployments.service';

@ApiTags('deployments')
@ApiExtraModels(DeploymentPlanDto, DeploymentDto)
@Controller('api/v1/deployments')
export class DeploymentsController {
  constructor(private readonly deployments: DeploymentsService) {}

  @Post()
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  @ApiOperation({ summary: 'Plans a deployment against the fleet and stores it; with `?dryRun=true`, returns the plan (200) without storing anything' })
  @ApiOkResponse({ description: 'The plan (dry run)', schema: { $ref: getSchemaPath(DeploymentPlanDto) } })
  @ApiCreatedResponse({ description: 'The deployment, stored with its plan', schema: { $ref: getSchemaPath(DeploymentDto) } })
  @ApiErrors(BODY_ERRORS, QUERY_ERRORS, 'forbidden', 'not_found', 'model_not_found', 'model_shape_unknown', 'deployment_infeasible', 'deployment_not_applicable', 'deployment_exists')
  async create(
    @CurrentPrincipal() p: Principal,
    @Query() q: DryRunQueryDto,
    @Body() dto: CreateDeploymentDto,
    @Origin() origin: RequestOrigin,
    @Res({ passthrough: true }) res: Response,
  ): Promise<DeploymentPlanDto | DeploymentDto> {
    if (q.dryRun) {
      res.status(200);
      return this.deployments.dryRun(p, dto);
    }
    return this.deployments.create(p, dto, origin);
  }

  @Get()
  @Authenticated({ scope: 'management' })
  @ApiOkResponse({ type: DeploymentPageDto })
  @ApiErrors(QUERY_ERRORS)
  list(@CurrentPrincipal() p: Principal, @Query() q: PageQueryDto): Promise<DeploymentPageDto> {
    return this.deployments.list(p, q);
  }

  @Get(':id')
  @Authenticated({ scope: 'management' })
  @ApiOkResponse({ type: DeploymentDto })
  @ApiErrors(ID_ERRORS)
  get(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string): Promise<DeploymentDto> {
    return this.deployments.get(p, id);
  }

  @Patch(':id')
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  @ApiOkResponse({ type: DeploymentDto })
  @ApiErrors(ID_ERRORS, BODY_ERRORS, 'deployment_infeasible', 'deployment_not_applicable', 'model_shape_unknown')
  update(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Body() dto: UpdateDeploymentDto, @Origin() origin: RequestOrigin): Promise<DeploymentDto> {
    return this.deployments.update(p, id, dto, origin);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  @ApiNoContentResponse({ description: 'Deleted; the scheduler unloads its replicas' })
  @ApiErrors(ID_ERRORS)
  remove(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Origin() origin: RequestOrigin): Promise<void> {
    return this.deployments.remove(p, id, origin);
  }
}
