import { Module } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { AuthModule } from '../auth/auth.module';
import { AuditController } from './audit.controller';
import { CredentialOwner } from './credential-owner';
import { KeypairsController } from './keypairs.controller';
import { TeamsController } from './teams.controller';
import { TokensController } from './tokens.controller';
import { UsersController } from './users.controller';

/** Admin REST under /api/v1: teams, users, memberships, keypairs, tokens, audit log. */
@Module({
  imports: [AuthModule],
  controllers: [TeamsController, UsersController, KeypairsController, TokensController, AuditController],
  providers: [AuditService, CredentialOwner],
})
export class AdminModule {}
