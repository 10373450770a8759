import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { NodeTimingConfig } from '@gridline/common';

/** Every variable the api reads. Property initialisers are the local defaults. */
export class ApiConfig extends NodeTimingConfig {
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 8080;

  @IsString()
  HOST = '0.0.0.0';

  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  /** 32 bytes as hex or base64; generated into the data directory outside production. */
  @IsOptional()
  @IsString()
  GRIDLINE_MASTER_KEY?: string = undefined;

  @IsString()
  GRIDLINE_DATA_DIR = '.gridline';

  @IsOptional()
  @Matches(/^AKIA[A-Z2-7]{16}$/, { message: 'must be AKIA followed by 16 base32 characters' })
  GRIDLINE_BOOTSTRAP_ACCESS_KEY?: string = undefined;

  @IsOptional()
  @Matches(/^[A-Za-z0-9_\-/+=]{20,128}$/, { message: 'must be 20 to 128 URL-safe or base64 characters' })
  GRIDLINE_BOOTSTRAP_SECRET_KEY?: string = undefined;

  /** Apply pending migrations (and create the database) at start. */
  @IsBoolean()
  GRIDLINE_MIGRATE = true;

  /** Run the endpoints' active health checks (and catalog refreshes) in this api process. */
  @IsBoolean()
  GRIDLINE_ENDPOINT_CHECKS = true;

  /** How long a synchronous completion may take before the client gets 504. */
  @IsInt()
  @Min(1)
  GRIDLINE_REQUEST_TIMEOUT_SECONDS = 300;

  /** How long an asynchronous job (POST /api/v1/jobs) may take from submission to its end. */
  @IsInt()
  @Min(1)
  GRIDLINE_JOB_TIMEOUT_SECONDS = 3600;

  /**
   * New inference jobs are refused (503 redis_memory_full) while Redis's used memory is at or
   * above this share of its `maxmemory` (no limit set: never).
   */
  @IsInt()
  @Min(1)
  @Max(100)
  GRIDLINE_REDIS_MEMORY_HIGH_PERCENT = 90;

  /**
   * Directories (comma-separated) that `file://` model sources may name; empty: the data
   * directory's `models/`.
   */
  @IsString()
  GRIDLINE_MODEL_ROOTS = '';

  /** The largest model file `PUT /api/v1/models/{name}/file` accepts (default 256 GiB). */
  @IsInt()
  @Min(1)
  GRIDLINE_MODEL_UPLOAD_MAX_BYTES = 256 * 1024 ** 3;

  /**
   * How long an api process reuses a team's quota limits before reading them again: a change
   * made through another api replica applies within this time (one made through this one, at once).
   */
  @IsInt()
  @Min(0)
  GRIDLINE_QUOTA_CACHE_MS = 2000;

  /**
   * The lease of a synchronous request's concurrency slot: renewed every third of it while the
   * request runs; when its api process dies, the slot is free again within this time.
   */
  @IsInt()
  @Min(300)
  GRIDLINE_QUOTA_SLOT_LEASE_MS = 30_000;

  /**
   * When set, `GET /metrics` requires `Authorization: Bearer <token>`. Unset, it is open in
   * development and answers 404 metrics_not_exposed in production (its labels name teams and
   * models) unless GRIDLINE_METRICS_PUBLIC is true. It never takes HMAC signing: Prometheus
   * scrapes it as it is.
   */
  @IsOptional()
  @IsString()
  GRIDLINE_METRICS_TOKEN?: string = undefined;

  /** In production without GRIDLINE_METRICS_TOKEN, `true` serves `GET /metrics` to anyone (behind a proxy that guards it). */
  @IsBoolean()
  GRIDLINE_METRICS_PUBLIC = false;

  /** Testing only, refused in production: `crash-after-insert` kills the api between a job's row and its enqueue. */
  @IsOptional()
  @IsIn(['crash-after-insert'])
  GRIDLINE_FAULT?: 'crash-after-insert' = undefined;

  /** How `GET /metrics` answers: behind the token, open, or not at all (see GRIDLINE_METRICS_TOKEN). */
  get metricsAccess(): 'token' | 'open' | 'hidden' {
    if (this.GRIDLINE_METRICS_TOKEN) return 'token';
    return this.NODE_ENV !== 'production' || this.GRIDLINE_METRICS_PUBLIC ? 'open' : 'hidden';
  }

  get modelRoots(): string[] {
    const roots = this.GRIDLINE_MODEL_ROOTS.split(',').map((r) => r.trim()).filter(Boolean);
    return roots.length > 0 ? roots : [`${this.GRIDLINE_DATA_DIR}/models`];
  }
}
