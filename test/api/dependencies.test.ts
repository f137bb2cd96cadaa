/** GET /api/v1/jobs/:id/dependencies: both directions from the mirror, bounded, with the other jobs' statuses. */
import { expect } from 'chai';
import { WAITED_ON_BY_LIMIT, type DependencyJson, type JobDependenciesJson } from '../../src/api/contract';
import { upsertJobs } from '../../src/store/jobs/upsert';
import { getJson, job, startTestApi, type TestApi } from './helpers';

describe('API: job dependencies', () => {
  let t: TestApi;
  const get = async (id: string) => getJson(`${t.url}/api/v1/jobs/${encodeURIComponent(id)}/dependencies`);

  before(async () => {
    t = await startTestApi();
  });
  after(async () => t.close());

  it('answers what a job waits on and what waits on it, each with name, status and display status', async () => {
    const upstream = job({ job_id: 'api-dep-up', job_name: 'extract', status: 'FAILED', exitcode: 143 });
    const middle = job({ job_id: 'api-dep-mid', job_name: 'transform', status: 'PENDING' });
    const downstream = job({ job_id: 'api-dep-down', job_name: 'load', status: 'PENDING' });
    await upsertJobs(t.db, [upstream, middle, downstream], {
      dependencies: new Map([
        ['api-dep-up', []],
        ['api-dep-mid', [{ depends_on_job_id: 'api-dep-up', type: null }, { depends_on_job_id: 'api-dep-unknown', type: 'N_TO_N' }]],
        ['api-dep-down', [{ depends_on_job_id: 'api-dep-mid', type: 'SEQUENTIAL' }]],
      ]),
    });
    const res = await get('api-dep-mid');
    expect(res.status).to.equal(200);
    const body = res.body as JobDependenciesJson;
    expect(body).to.deep.equal({
      depends_on: [
        { job_id: 'api-dep-unknown', type: 'N_TO_N', name: null, status: null, display_status: null },
        { job_id: 'api-dep-up', type: null, name: 'extract', status: 'FAILED', display_status: 'TERMINATED' },
      ],
      waited_on_by: [{ job_id: 'api-dep-down', type: 'SEQUENTIAL', name: 'load', status: 'PENDING', display_status: 'PENDING' }],
      waited_on_by_total: 1,
    });
    expect((await get('api-dep-up')).body.waited_on_by.map((d: DependencyJson) => d.job_id)).to.deep.equal(['api-dep-mid']);
    expect((await get('api-dep-down')).body).to.deep.include({ waited_on_by: [], waited_on_by_total: 0 });
  });

  it(`lists the first ${WAITED_ON_BY_LIMIT} dependents and counts them all`, async () => {
    const root = job({ job_id: 'api-fan-root' });
    const fan = Array.from({ length: WAITED_ON_BY_LIMIT + 5 }, (_, i) => job({ job_id: `api-fan-${String(i).padStart(3, '0')}` }));
    await upsertJobs(t.db, [root, ...fan], { dependencies: new Map(fan.map((f) => [f.job_id, [{ depends_on_job_id: root.job_id, type: null }]])) });
    const body = (await get(root.job_id)).body as JobDependenciesJson;
    expect(body.waited_on_by_total).to.equal(WAITED_ON_BY_LIMIT + 5);
    expect(body.waited_on_by.map((d) => d.job_id)).to.deep.equal(fan.slice(0, WAITED_ON_BY_LIMIT).map((f) => f.job_id));
  });

  it('404 for a job not mirrored, 400 for something that is no job id', async () => {
    const missing = await get('a0000000-0000-4000-8000-0000000000ff');
    expect(missing.status).to.equal(404);
    expect(missing.body.error).to.be.a('string');
    const bad = await getJson(`${t.url}/api/v1/jobs/${'x'.repeat(65)}/dependencies`);
    expect(bad.status).to.equal(400);
    expect(bad.body.parameter).to.equal('id');
  });
});
