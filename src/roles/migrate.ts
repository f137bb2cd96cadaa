import { createDb, migrateLatest } from '../store/db';
import type { Config } from '../config/schema';

export async function runMigrate(config: Config): Promise<void> {
  const db = createDb(config, { min: 0, max: 1 });
  try {
    const applied = await migrateLatest(db);
    console.log(applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}` : 'database is up to date');
  } finally {
    await db.destroy();
  }
}
