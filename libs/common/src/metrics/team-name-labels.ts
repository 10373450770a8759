export interface TeamNameLabelsOptions {
  /** Every team's name by id (one small query). */
  load: () => Promise<Map<string, string>>;
  /** An unknown id reloads the names, at most this often (default 5 s). */
  minReloadMs?: number;
  /** Names older than this are reloaded in the background, so a renamed team's label follows (default 60 s). */
  refreshMs?: number;
  now?: () => number;
  /** Waits before a reload the rate limit holds back (tests pass their own). */
  wait?: (ms: number) => Promise<void>;
}

/** What a team id is labelled when it names no team (a team deleted since). */
export const UNKNOWN_TEAM = 'unknown';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Team names for metric labels, looked up off the request path: one load for all teams, shared by
 * concurrent callers. An id not in the last load waits for the next one (at most one every
 * `minReloadMs`), so a new team's first jobs are counted under its name, not `unknown`; names are
 * reloaded every `refreshMs` so a renamed team's label follows. A failed load keeps the old names.
 */
export class TeamNameLabels {
  private names = new Map<string, string>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | null = null;
  private readonly minReloadMs: number;
  private readonly refreshMs: number;
  private readonly now: () => number;
  private readonly wait: (ms: number) => Promise<void>;

  constructor(private readonly options: TeamNameLabelsOptions) {
    this.minReloadMs = options.minReloadMs ?? 5000;
    this.refreshMs = options.refreshMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.wait = options.wait ?? sleep;
  }

  /** The team's name, or UNKNOWN_TEAM when no team has this id. */
  async of(teamId: string): Promise<string> {
    const known = this.names.get(teamId);
    if (known !== undefined) {
      if (this.now() - this.loadedAt >= this.refreshMs) void this.reload();
      return known;
    }
    await this.reload();
    return this.names.get(teamId) ?? UNKNOWN_TEAM;
  }

  /** One load at a time, no sooner than `minReloadMs` after the last one began. */
  private reload(): Promise<void> {
    this.loading ??= (async () => {
      const due = this.loadedAt + this.minReloadMs - this.now();
      if (due > 0) await this.wait(due);
      this.loadedAt = this.now();
      this.names = await this.options.load().catch(() => this.names);
    })().finally(() => (this.loading = null));
    return this.loading;
  }
}
