import type { Client } from 'pg';

/** Rows per table of the schema (migrations bookkeeping aside): what "nothing was written" means. */
export async function rowCounts(pg: Client): Promise<Record<string, number>> {
  const { rows } = await pg.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'typeorm_migrations' ORDER BY table_name",
  );
  const counts: Record<string, number> = {};
  for (const { table_name: table } of rows) {
    counts[table] = (await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}"`)).rows[0].n;
  }
  return counts;
}
