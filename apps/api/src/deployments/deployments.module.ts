import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { DeploymentsController } from './deployments.controller';
import { DeploymentsService } from './deployments.service';
import { InstanceTypesController } from './instance-types.controller';

/** Deployments (desired state, planned against the fleet) and the instance-type table. */
@Module({
  imports: [AuditModule],
  controllers: [DeploymentsController, InstanceTypesController],
  providers: [DeploymentsService],
})
export class DeploymentsModule {}
