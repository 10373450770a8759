import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { AgentController } from './agent.controller';
import { NodeAuthGuard } from './node-auth.guard';
import { NodeCredentials } from './node-credentials';
import { JoinTokensController, NodesController } from './nodes.controller';
import { NodesService } from './nodes.service';

/** GPU hosts: join tokens, the agents' protocol, and what admins do to nodes and their replicas. */
@Module({
  imports: [AuditModule, AuthModule],
  controllers: [AgentController, JoinTokensController, NodesController],
  providers: [NodesService, NodeCredentials, NodeAuthGuard],
})
export class NodesModule {}
