import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { timelineOf } from '../common/request-timeline';
import { ApiErrors, BODY_ERRORS, ID_ERRORS, QUERY_ERRORS } from '../common/api-errors.decorator';
import { ParseUuidPipe } from '../common/parse-uuid.pipe';
import { CreateJobDto, JobDto, JobListDto, JobQueryDto, toJobDto } from './dto/job.dto';
import { JobsService } from './jobs.service';

@ApiTags('jobs')
@Authenticated({ scope: 'management' })
@Controller('api/v1/jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Submit an inference job (the body of a chat or plain completion); answers 202 with its id at once' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'A retried submit with the same key returns the first job; the same key with another body is 409' })
  @ApiAcceptedResponse({ type: JobDto })
  @ApiErrors(BODY_ERRORS, 'unsupported_parameter', 'model_not_allowed', 'model_not_found', 'idempotency_key_reused', 'rate_limit_exceeded', 'redis_memory_full')
  async create(
    @CurrentPrincipal() p: Principal,
    @Body() dto: CreateJobDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() req: Request & { id?: string },
    @Res({ passthrough: true }) res: Response,
  ): Promise<JobDto> {
    const { job, headers } = await this.jobs.submitAsync(p, dto, idempotencyKey, req.id ? String(req.id) : null, timelineOf(req));
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    res.setHeader('x-gridline-job-id', job.id);
    res.setHeader('location', `/api/v1/jobs/${job.id}`);
    return toJobDto(job);
  }

  @Get()
  @ApiOperation({ summary: "The caller's team's jobs (superadmins: all, or one team's with `teamId`), newest first, cursor-paginated; filters: status, model" })
  @ApiOkResponse({ type: JobListDto })
  @ApiErrors(QUERY_ERRORS, 'invalid_cursor', 'forbidden')
  async list(@CurrentPrincipal() p: Principal, @Query() q: JobQueryDto): Promise<JobListDto> {
    const page = await this.jobs.list(p, q);
    return { object: 'list', data: page.items.map(toJobDto), next_cursor: page.nextCursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Status, timings, usage and the result of a job' })
  @ApiOkResponse({ type: JobDto })
  @ApiErrors(ID_ERRORS)
  async get(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string): Promise<JobDto> {
    return toJobDto(await this.jobs.get(p, id));
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Cancel a job (idempotent: a job that already ended is returned as it is)' })
  @ApiOkResponse({ type: JobDto })
  @ApiErrors(ID_ERRORS)
  async cancel(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string): Promise<JobDto> {
    return toJobDto(await this.jobs.cancel(p, id));
  }
}
