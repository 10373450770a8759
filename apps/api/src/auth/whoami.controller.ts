import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from './auth.decorators';
import { Principal } from './principal';

export class WhoamiDto {
  @ApiProperty()
  userId!: string;
  @ApiProperty()
  teamId!: string;
  @ApiProperty({ enum: ['superadmin', 'team_admin', 'member'] })
  role!: string;
  @ApiProperty({ enum: ['keypair', 'token'] })
  credential!: string;
  @ApiProperty({ description: 'Access key or token prefix' })
  label!: string;
}

@ApiTags('auth')
@Controller('api/v1/whoami')
export class WhoamiController {
  /** The caller as authenticated: a cheap way to check credentials (no database access). */
  @Get()
  @Authenticated({ scope: 'inference' })
  @ApiOkResponse({ type: WhoamiDto })
  whoami(@CurrentPrincipal() p: Principal): WhoamiDto {
    return { userId: p.userId, teamId: p.teamId, role: p.role, credential: p.credential.kind, label: p.credential.label };
  }
}
