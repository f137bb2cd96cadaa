/**
 * Job queues and Stats pages in a real browser against the demo stack:
 * activating a queue makes its jobs appear on the Jobs page; the stats page
 * draws its charts from the mirrored jobs.
 */
import { expect } from 'chai';
import { newPage, screenshot } from './browser';
import { startUiStack, type UiStack } from './stack';

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('UI: Job queues and Stats pages', function () {
  this.timeout(120_000);
  let s: UiStack;
  let startedAt = 0;

  before(async () => {
    s = await startUiStack({
      activate: ['ui-on'],
      setup: (sim) => {
        sim.model.createComputeEnvironment({ name: 'ui-ce', instances: 4, instanceVcpus: 16 });
        sim.model.createJobQueue({ name: 'ui-on', computeEnvironments: ['ui-ce'] });
        sim.model.createJobQueue({ name: 'ui-off', computeEnvironments: ['ui-ce'] });
        sim.model.createJobQueue({ name: 'ui-never', computeEnvironments: ['ui-ce'] });
      },
    });
    startedAt = Math.floor(s.stack.sim.model.now() / 1000);
  });
  after(async () => s?.close());

  it('activating a queue makes its jobs appear', async () => {
    const sim = s.stack.sim.model;
    const { jobId } = sim.submitJob({ jobName: 'hidden-until-activated', jobQueue: 'ui-off', plan: { runSeconds: 3600 } });
    sim.advance(10_000);

    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/job_queues`);
    await page.waitForSelector('[data-testid=queues-table] tr[data-queue=ui-off]');
    expect(await page.textContent('tr[data-queue=ui-off]')).to.contain('inactive');
    expect(await s.tdb.db('jobs').where({ job_id: jobId }).first()).to.equal(undefined);

    await page.click('tr[data-queue=ui-off] button:has-text("Activate")');
    await page.waitForSelector('tr[data-queue=ui-off] .badge:text-is("active")');
    expect(await page.textContent('tr[data-queue=ui-off]')).to.not.contain('inactive');
    await screenshot(page, 'queues');

    await page.goto(`${s.url}/?queue=ui-off&refresh=1`);
    await page.waitForSelector(`tr[data-job-id="${jobId}"]`, { timeout: 30_000 });

    // Forced scaling, per activated queue.
    await page.goto(`${s.url}/job_queues`);
    await page.click('input[aria-label="Forced scaling for ui-off"]');
    await page.waitForSelector('tr[data-queue=ui-off] label:has-text("on")');
    expect(await s.tdb.db('activated_job_queues').where({ job_queue: 'ui-off' }).first('forced_scaling')).to.deep.equal({ forced_scaling: true });
    expect(await page.isDisabled('input[aria-label="Forced scaling for ui-never"]')).to.equal(true); // not activated

    // And deactivating it takes it out of the mirrored set again.
    await page.click('tr[data-queue=ui-off] button:has-text("Deactivate")');
    await page.waitForSelector('tr[data-queue=ui-off] .badge:text-is("inactive")');
    await page.close();
  });

  it('the stats page draws charts from the mirrored jobs', async () => {
    const sim = s.stack.sim.model;
    const ids = [0, 1, 2].map((i) => sim.submitJob({ jobName: `stat-${i}`, jobQueue: 'ui-on', vcpus: 2, memory: 2048, plan: { runSeconds: 60 } }).jobId);
    ids.push(sim.submitJob({ jobName: 'stat-fail', jobQueue: 'ui-on', vcpus: 4, memory: 1024, plan: { outcome: 'FAILED', exitCode: 1, runSeconds: 30 } }).jobId);
    sim.advance(15_000); // all running: the ECS reconciliation records which instance each runs on
    // (instance-seconds count only jobs whose EC2 placement was recorded)
    await waitFor(async () => {
      const placed = await s.tdb.db('jobs')
        .join('task_arns_to_instance_info as t', 't.task_arn', 'jobs.task_arn')
        .whereIn('jobs.job_id', ids)
        .count<{ n: string }[]>({ n: '*' });
      return Number(placed[0].n) === ids.length;
    }, "the jobs' instances recorded");
    sim.advance(90_000);
    for (const id of ids) await s.waitForJob(id, { status: id === ids[3] ? 'FAILED' : 'SUCCEEDED' });

    const from = startedAt - 3600;
    const to = Math.floor(sim.now() / 1000) + 3600;
    const { page, errors } = await newPage(s.browser);
    await page.goto(`${s.url}/stats?from=${from}&to=${to}`);
    await page.waitForSelector('[data-testid=chart-vcpu_seconds] .recharts-bar-rectangle');
    for (const metric of ['vcpu_seconds', 'memory_seconds', 'instance_seconds', 'job_count']) {
      const bars = await page.$$(`[data-testid=chart-${metric}] .recharts-bar-rectangle`);
      expect(bars.length, metric).to.be.greaterThan(0);
    }
    const totals = (await page.textContent('[data-testid=stats-totals]')) ?? '';
    expect(totals).to.contain('ui-on').and.contain('SUCCEEDED').and.contain('FAILED');
    await screenshot(page, 'stats');

    // By status: the legend names the statuses.
    await page.click('button:has-text("by status")');
    await page.waitForSelector('[data-testid=chart-job_count] .recharts-legend-item-text:has-text("SUCCEEDED")');
    expect(errors).to.deep.equal([]);
    await page.close();
  });
});
