import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { GRIDLINE_VERSION, MESH_PROTOCOL } from '@gridline/mesh';
import { Authenticated, CurrentPrincipal } from './auth.decorators';
import { Principal } from './principal';

/** The server that answered: a peer's handshake checks it speaks the same mesh protocol. */
export class ServerInfoDto {
  @ApiProperty({ enum: ['gridline'] })
  product!: 'gridline';
  @ApiProperty({ example: GRIDLINE_VERSION })
  version!: string;
  @ApiProperty({ example: MESH_PROTOCOL, description: 'What peers rely on from each other; a peer speaking another is refused at registration' })
  meshProtocol!: number;
}

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
  @ApiProperty({ type: ServerInfoDto })
  server!: ServerInfoDto;
}

@ApiTags('auth')
@Controller('api/v1/whoami')
export class WhoamiController {
  /** The caller as authenticated: a cheap way to check credentials (no database access). */
  @Get()
  @Authenticated({ scope: 'inference' })
  @ApiOkResponse({ type: WhoamiDto })
  whoami(@CurrentPrincipal() p: Principal): WhoamiDto {
    return { userId: p.userId, teamId: p.teamId, role: p.role, credential: p.credential.kind, label: p.credential.label, server: { product: 'gridline', version: GRIDLINE_VERSION, meshProtocol: MESH_PROTOCOL } };
  }
}
