import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { INSTANCE_TYPES } from '@gridline/scheduling';
import { Authenticated } from '../auth/auth.decorators';
import { InstanceTypeListDto } from './dto/instance-type.dto';

@ApiTags('deployments')
@Controller('api/v1/instance-types')
export class InstanceTypesController {
  /** Common cloud GPU instance types (Azure, AWS, GCP), from our own table: for `resource.instanceType`. */
  @Get()
  @Authenticated({ scope: 'management' })
  @ApiOkResponse({ type: InstanceTypeListDto })
  list(): InstanceTypeListDto {
    return { items: INSTANCE_TYPES.map((t) => ({ ...t })) };
  }
}
