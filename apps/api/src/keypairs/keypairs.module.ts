import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { KeypairsController } from './keypairs.controller';
import { KeypairsService } from './keypairs.service';

/** HMAC keypairs under /api/v1/keypairs. */
@Module({
  imports: [AuthModule, AuditModule],
  controllers: [KeypairsController],
  providers: [KeypairsService],
})
export class KeypairsModule {}
