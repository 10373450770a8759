import { Logger, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { SecretBox, resolveMasterKey } from '@gridline/auth';
import { ApiConfig } from '../api.config';
import { CredentialOwner } from './credential-owner';
import { CredentialStrategy } from './credential.strategy';
import { GridlineAuthGuard } from './gridline-auth.guard';
import { ReplayGuard } from './replay-guard';
import { WhoamiController } from './whoami.controller';

@Module({
  imports: [PassportModule],
  controllers: [WhoamiController],
  providers: [
    {
      provide: SecretBox,
      inject: [ApiConfig],
      useFactory: (c: ApiConfig) => {
        const resolved = resolveMasterKey({ value: c.GRIDLINE_MASTER_KEY, dataDir: c.GRIDLINE_DATA_DIR, production: c.NODE_ENV === 'production' });
        if (resolved.origin !== 'environment') {
          new Logger('MasterKey').warn(
            `GRIDLINE_MASTER_KEY is not set: using a development key ${resolved.origin === 'generated' ? 'generated into' : 'from'} ${resolved.path}. Set GRIDLINE_MASTER_KEY in production.`,
          );
        }
        return new SecretBox(resolved.key);
      },
    },
    ReplayGuard,
    CredentialStrategy,
    CredentialOwner,
    { provide: APP_GUARD, useClass: GridlineAuthGuard },
  ],
  exports: [SecretBox, CredentialOwner, ReplayGuard, CredentialStrategy],
})
export class AuthModule {}
