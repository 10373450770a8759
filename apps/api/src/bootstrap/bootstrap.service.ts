import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SecretBox, generateKeypair } from '@gridline/auth';
import { IdentityRepository } from '@gridline/db';
import { ApiConfig } from '../api.config';

export const BOOTSTRAP_TEAM = 'default';
export const BOOTSTRAP_EMAIL = 'admin@gridline.local';

/**
 * First start: the default team, a superadmin and its keypair. With
 * GRIDLINE_BOOTSTRAP_ACCESS_KEY/SECRET_KEY set, that keypair is ensured (for automation);
 * otherwise one is generated and shown once on stdout, never through the logger.
 */
@Injectable()
export class BootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Bootstrap');

  constructor(
    private readonly config: ApiConfig,
    private readonly identity: IdentityRepository,
    private readonly secrets: SecretBox,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { GRIDLINE_BOOTSTRAP_ACCESS_KEY: accessKey, GRIDLINE_BOOTSTRAP_SECRET_KEY: secretKey } = this.config;
    if (Boolean(accessKey) !== Boolean(secretKey)) {
      throw new Error('GRIDLINE_BOOTSTRAP_ACCESS_KEY and GRIDLINE_BOOTSTRAP_SECRET_KEY must be set together');
    }
    if (accessKey && secretKey) {
      const { created } = await this.ensure(accessKey, secretKey);
      if (created) this.logger.log(`bootstrap keypair ${accessKey} created from the environment`);
      return;
    }
    if (await this.identity.hasSuperadmin()) return;
    const generated = generateKeypair();
    const { created } = await this.ensure(generated.accessKey, generated.secretKey);
    if (!created) return;
    process.stdout.write(
      [
        '',
        '==================== Gridline bootstrap keypair (shown once) ====================',
        `  access key: ${generated.accessKey}`,
        `  secret key: ${generated.secretKey}`,
        '  Store the secret now: it is kept encrypted and cannot be shown again.',
        '=================================================================================',
        '',
      ].join('\n'),
    );
  }

  private ensure(accessKey: string, secretKey: string) {
    return this.identity.bootstrapAdmin({
      teamName: BOOTSTRAP_TEAM,
      email: BOOTSTRAP_EMAIL,
      displayName: 'Gridline administrator',
      accessKey,
      secretSealed: this.secrets.seal(secretKey, accessKey),
    });
  }
}
