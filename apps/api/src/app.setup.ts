import { ValidationPipe } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ProblemFilter } from './common/problem.filter';
import { mountSwagger } from './openapi';

/** Everything main.ts applies to the HTTP app, shared with the in-process tests. */
export function configureApp(app: NestExpressApplication): void {
  app.useBodyParser('json', { limit: '4mb' });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.useGlobalFilters(new ProblemFilter());
  app.disable('x-powered-by');
  app.enableShutdownHooks();
  mountSwagger(app);
}
