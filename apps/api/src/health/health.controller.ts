import { Controller, Get } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiProperty, ApiServiceUnavailableResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators';
import { ApiErrors } from '../common/api-errors.decorator';
import { ProblemDto } from '../common/dto/problem.dto';
import { LivenessDto, ReadinessChecksDto, ReadinessDto } from './dto/health.dto';
import { HealthService } from './health.service';

/** The 503 of /readyz: a problem that also names the state of each dependency. */
export class NotReadyProblemDto extends ProblemDto {
  @ApiProperty({ type: ReadinessChecksDto })
  checks!: ReadinessChecksDto;
}

@ApiTags('health')
@ApiExtraModels(NotReadyProblemDto)
@ApiErrors('invalid_text') // the input guard refuses NUL in any path or query string
@Public()
@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** Liveness: the process serves HTTP. */
  @Get('healthz')
  @ApiOkResponse({ type: LivenessDto, description: 'The process is alive' })
  healthz(): LivenessDto {
    return this.health.liveness();
  }

  /** Readiness: Postgres and Redis answer. */
  @Get('readyz')
  @ApiOkResponse({ type: ReadinessDto, description: 'Postgres and Redis are reachable' })
  @ApiServiceUnavailableResponse({
    description: 'Codes: `not_ready` (Not ready). A dependency did not answer within 2 s; `checks` names which',
    content: {
      'application/problem+json': {
        schema: { allOf: [{ $ref: getSchemaPath(NotReadyProblemDto) }, { type: 'object', properties: { code: { type: 'string', enum: ['not_ready'] } } }] },
      },
    },
  })
  readyz(): Promise<ReadinessDto> {
    return this.health.readiness();
  }
}
