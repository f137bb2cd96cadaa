import { expect } from 'chai';
import { mapJobDetail } from '../../src/pipeline/mapping';
import type { MirroredJob } from '../../src/types';
import type { Harness } from './harness';

/** Every job the simulator knows in these queues is in the mirror, equal field for field; no extra rows. */
export async function expectConverged(h: Harness, queues: string[]): Promise<number> {
  const want = new Map<string, MirroredJob>();
  for (const id of h.sim.model.jobs.keys()) {
    const d = h.sim.model.getJob(id);
    if (!d) continue;
    const job = mapJobDetail(d);
    if (queues.includes(job.job_queue)) want.set(id, job);
  }
  const rows: MirroredJob[] = await h.db('jobs').whereIn('job_queue', queues);
  const got = new Map(rows.map((r) => [r.job_id, r]));
  const missing = [...want.keys()].filter((id) => !got.has(id));
  expect(missing, 'jobs missing from the mirror').to.deep.equal([]);
  expect([...got.keys()].filter((id) => !want.has(id)), 'rows AWS does not know').to.deep.equal([]);
  for (const [id, job] of want) {
    const row = got.get(id)!;
    for (const f of Object.keys(job) as (keyof MirroredJob)[]) {
      const a = row[f] instanceof Date ? (row[f] as Date).getTime() : row[f];
      const b = job[f] instanceof Date ? (job[f] as Date).getTime() : job[f];
      expect(a, `${id}.${f}`).to.deep.equal(b);
    }
  }
  return want.size;
}
