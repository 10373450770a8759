import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';
import { safeError } from '@gridline/common';

/** Longest piece of SQL text a log line carries. */
const SQL_MAX = 500;

function sql(query: string): string {
  const oneLine = query.replace(/\s+/g, ' ').trim();
  return oneLine.length > SQL_MAX ? `${oneLine.slice(0, SQL_MAX)}…` : oneLine;
}

/**
 * TypeORM's logger, minus what must never be logged: query parameters (prompts, e-mails,
 * token hashes travel as parameters) and database error messages and details (they quote the
 * values that failed). It logs failed and slow queries by their SQL text, class and code.
 */
export class ParameterFreeLogger implements TypeOrmLogger {
  private readonly logger = new NestLogger('Database');

  logQuery(): void {
    // Every query at debug level would be noise; failures and slow ones are logged below.
  }

  logQueryError(error: string | Error, query: string): void {
    this.logger.warn({ err: safeError(error), sql: sql(query) }, 'query failed');
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ ms: time, sql: sql(query) }, 'slow query');
  }

  logSchemaBuild(message: string): void {
    this.logger.debug(message);
  }

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    // TypeORM's own notices (connection, driver warnings); never query data.
    const text = typeof message === 'string' ? message.slice(0, SQL_MAX) : 'typeorm notice';
    if (level === 'warn') this.logger.warn(text);
    else this.logger.debug(text);
  }
}
