import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';

/** Where `npm run build` writes the console: dist/apps/console beside dist/apps/api. */
export function defaultConsoleDir(): string {
  const fromDist = join(__dirname, '..', '..', '..', 'console');
  return __dirname.includes(`${sep}dist${sep}`) ? fromDist : join(__dirname, '..', '..', '..', '..', 'dist', 'apps', 'console');
}

/**
 * The console's own policy: scripts and connections to this origin only (the console calls
 * this api, nothing else); inline styles are the component library's. No framing.
 */
const CONSOLE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * Serves the built console at /console: its hashed assets cached for good, and index.html
 * (never cached) for every other path under /console, so a deep link or reload of a page
 * reaches the client-side router. Without a built console, /console says how to build it.
 */
export function mountConsole(app: NestExpressApplication, dir: string = defaultConsoleDir()): void {
  const index = join(dir, 'index.html');
  const built = existsSync(index);
  app.use('/console', (_req: Request, res: Response, next: NextFunction) => {
    for (const [name, value] of Object.entries(CONSOLE_HEADERS)) res.setHeader(name, value);
    if (!built) {
      res.status(404).type('application/problem+json').send(
        JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404, code: 'console_not_built', detail: 'the console is not built: run `npm run build`' }),
      );
      return;
    }
    next();
  });
  if (!built) return;
  app.useStaticAssets(join(dir, 'assets'), { prefix: '/console/assets', immutable: true, maxAge: '365d', index: false });
  app.use('/console', (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path.startsWith('/assets/')) {
      res.status(404).type('application/problem+json').send(JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404, code: 'not_found', detail: 'no such console asset' }));
      return;
    }
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(index);
  });
}
