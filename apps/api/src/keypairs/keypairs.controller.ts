import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiParam, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { ApiErrors, BODY_ERRORS, QUERY_ERRORS } from '../common/api-errors.decorator';
import { Origin, RequestOrigin } from '../common/request-origin';
import { CreateKeypairDto, KeypairDto, KeypairPageDto, KeypairQueryDto, NewKeypairDto, RotateKeypairDto, UpdateKeypairDto } from './dto/keypair.dto';
import { KeypairsService } from './keypairs.service';

/** An access key in the path: one the caller cannot manage, or not an access key at all, is a 404. */
const AccessKeyParam = () => ApiParam({ name: 'accessKey', example: 'AKIAIOSFODNN7EXAMPLE' });
const ACCESS_KEY_ERRORS = ['invalid_text', 'not_found'] as const;

@ApiTags('keypairs')
@Controller('api/v1/keypairs')
export class KeypairsController {
  constructor(private readonly keypairs: KeypairsService) {}

  @Get()
  @Authenticated({ scope: 'management' })
  @ApiOkResponse({ type: KeypairPageDto })
  @ApiErrors(QUERY_ERRORS)
  list(@CurrentPrincipal() p: Principal, @Query() q: KeypairQueryDto): Promise<KeypairPageDto> {
    return this.keypairs.list(p, q);
  }

  /** Creates a keypair. The secret is in this response only. */
  @Post()
  @Authenticated({ scope: 'management' })
  @ApiCreatedResponse({ type: NewKeypairDto, description: 'The keypair, with its secret (shown this once)' })
  @ApiErrors(BODY_ERRORS, 'forbidden', 'not_found')
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateKeypairDto, @Origin() origin: RequestOrigin): Promise<NewKeypairDto> {
    return this.keypairs.create(p, dto, origin);
  }

  @Get(':accessKey')
  @Authenticated({ scope: 'management' })
  @AccessKeyParam()
  @ApiOkResponse({ type: KeypairDto })
  @ApiErrors(ACCESS_KEY_ERRORS)
  get(@CurrentPrincipal() p: Principal, @Param('accessKey') accessKey: string): Promise<KeypairDto> {
    return this.keypairs.get(p, accessKey);
  }

  @Patch(':accessKey')
  @Authenticated({ scope: 'management' })
  @AccessKeyParam()
  @ApiOkResponse({ type: KeypairDto })
  @ApiErrors(ACCESS_KEY_ERRORS, BODY_ERRORS)
  update(@CurrentPrincipal() p: Principal, @Param('accessKey') accessKey: string, @Body() dto: UpdateKeypairDto, @Origin() origin: RequestOrigin): Promise<KeypairDto> {
    return this.keypairs.update(p, accessKey, dto, origin);
  }

  /** Issues a new keypair for the same owner and team; the old one keeps working for `graceSeconds`. */
  @Post(':accessKey/rotate')
  @Authenticated({ scope: 'management' })
  @AccessKeyParam()
  @ApiCreatedResponse({ type: NewKeypairDto, description: 'The new keypair, with its secret (shown this once)' })
  @ApiErrors(ACCESS_KEY_ERRORS, BODY_ERRORS, 'forbidden')
  rotate(@CurrentPrincipal() p: Principal, @Param('accessKey') accessKey: string, @Body() dto: RotateKeypairDto, @Origin() origin: RequestOrigin): Promise<NewKeypairDto> {
    return this.keypairs.rotate(p, accessKey, dto, origin);
  }

  @Delete(':accessKey')
  @HttpCode(204)
  @Authenticated({ scope: 'management' })
  @AccessKeyParam()
  @ApiNoContentResponse({ description: 'Deleted; the key stops working within a second' })
  @ApiErrors(ACCESS_KEY_ERRORS)
  delete(@CurrentPrincipal() p: Principal, @Param('accessKey') accessKey: string, @Origin() origin: RequestOrigin): Promise<void> {
    return this.keypairs.delete(p, accessKey, origin);
  }
}
