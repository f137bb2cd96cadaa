import { createDb } from '../src/store/db';
import { queryMix } from './store';
import { searchJobs } from '../src/store/jobs';
const PG = { database_host: '127.0.0.1', database_port: 5432, database_username: 'postgres', database_password: undefined };
async function main() {
  const db = createDb({ ...PG, database_name: process.env.DB ?? 'bp_exp_s' } as never, { min: 1, max: 2 });
  const rare = ((await db.raw('SELECT md5(?::text)::uuid::text AS id', [String(Math.floor(1_000_000 / 3))])).rows[0].id).slice(0, 8);
  const only = process.argv.slice(2);
  if (process.env.LOGSQL) db.on('query', (q: { sql: string; bindings: unknown }) => console.log(q.sql.replace(/\s+/g, ' ').slice(0, 400), JSON.stringify(q.bindings)));
  for (const [name, q] of queryMix(rare)) {
    if (only.length && !only.some((o) => name.includes(o))) continue;
    await searchJobs(db, q);
    const times: number[] = [];
    for (let i = 0; i < Number(process.env.RUNS ?? 10); i++) { const t = performance.now(); await searchJobs(db, q); times.push(performance.now() - t); }
    times.sort((a, b) => a - b);
    console.log(name.padEnd(36), 'p50', times[Math.floor(times.length / 2)].toFixed(1), 'max', times[times.length - 1].toFixed(1));
  }
  await db.destroy();
}
main();
