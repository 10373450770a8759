import type { NestApplicationOptions } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request, Response } from 'express';
import { LogContext } from '@gridline/common';
import { inputGuard } from './common/input-guard';
import { mountConsole } from './console/console-static';
import { requestIdOf } from './common/request-id';
import { ProblemFilter } from './common/problem.filter';
import { startTimeline } from './common/request-timeline';
import { globalValidationPipe } from './common/validation';
import { ApiMetrics } from './metrics/api-metrics';
import { mountSwagger } from './openapi';
import { QueueBoard } from './queue-board/queue-board.service';
import { QUEUE_BOARD_PATH } from './queue-board/queue-board-sessions';

/** Nest's body parsers are off: the input guard reads and bounds every body. */
export const API_APP_OPTIONS: NestApplicationOptions = { bodyParser: false };

/** Everything main.ts applies to the HTTP app, shared with the in-process tests. */
export function configureApp(app: NestExpressApplication): void {
  const metrics = app.get(ApiMetrics);
  app.use((req: Request, res: Response, next: () => void) => {
    startTimeline(req);
    metrics.track(req, res);
    next();
  });
  app.use(inputGuard);
  // Every line logged while the request runs carries its id (and, once it submits one, its job's).
  // After the input guard: it reads the body, and a stream's events would not run in the context.
  app.use((req: Request, res: Response, next: () => void) => LogContext.run({ requestId: requestIdOf(req, res) }, next));
  // bull-board for superadmins, behind its own gate (a browser brings a session cookie, curl a credential).
  app.use(QUEUE_BOARD_PATH, app.get(QueueBoard).handler());
  app.useGlobalPipes(globalValidationPipe());
  app.useGlobalFilters(new ProblemFilter());
  app.disable('x-powered-by');
  app.enableShutdownHooks();
  mountSwagger(app);
  mountConsole(app);
}
