import type { Knex } from 'knex';

/**
 * The (job_name, job_id) sort index also INCLUDEs `image`, so it holds every
 * column a search token is tested against (job_id, job_name, job_queue,
 * image): a search sorted by name tests its tokens on the walked index
 * entries without reading the table (3,000 entries: ~44 -> ~5 ms on
 * 1,000,000 jobs). bench/README.md, Store section, has the figures.
 */
const NAME = 'jobs_job_name_job_id';
const WITH_IMAGE = 'ON jobs (job_name, job_id) INCLUDE (last_updated, status, job_queue, image)';
const WITHOUT_IMAGE = 'ON jobs (job_name, job_id) INCLUDE (last_updated, status, job_queue)';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS ??', [NAME]);
  await knex.raw(`CREATE INDEX ?? ${WITH_IMAGE}`, [NAME]);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS ??', [NAME]);
  await knex.raw(`CREATE INDEX ?? ${WITHOUT_IMAGE}`, [NAME]);
}
