import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { MembersController } from './members.controller';
import { MembershipsService } from './memberships.service';
import { TeamsController } from './teams.controller';
import { TeamsService } from './teams.service';

/** Teams and their memberships under /api/v1/teams. */
@Module({
  imports: [AuditModule],
  controllers: [TeamsController, MembersController],
  providers: [TeamsService, MembershipsService],
})
export class TeamsModule {}
