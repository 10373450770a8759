import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { TokensController } from './tokens.controller';
import { TokensService } from './tokens.service';

/** Bearer tokens under /api/v1/tokens. */
@Module({
  imports: [AuthModule, AuditModule],
  controllers: [TokensController],
  providers: [TokensService],
})
export class TokensModule {}
