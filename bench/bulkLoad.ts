import type { Knex } from 'knex';

/**
 * Drops the secondary indexes of `tables` (every index but a primary key)
 * before a bulk load; returns their definitions, to build each after the
 * load exactly as the migrations defined it: one sort per index instead of
 * an entry per row.
 */
export async function dropSecondaryIndexes(db: Knex, tables: readonly string[]): Promise<string[]> {
  const indexes = (
    await db.raw<{ rows: { indexname: string; indexdef: string }[] }>(
      `SELECT i.indexname, i.indexdef FROM pg_indexes i
       JOIN pg_index x ON x.indexrelid = format('%I.%I', i.schemaname, i.indexname)::regclass
       WHERE i.schemaname = 'public' AND i.tablename = ANY(?::text[]) AND NOT x.indisprimary`,
      [[...tables]],
    )
  ).rows;
  for (const ix of indexes) await db.raw('DROP INDEX ??', [ix.indexname]);
  return indexes.map((ix) => ix.indexdef);
}
