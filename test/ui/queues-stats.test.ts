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
  this.timeout(300_000);
  let s: UiStack;
  let startedAt = 0;

  before(async () => {
    s = await startUiStack({
      activate: ['ui-on', 'ui-count'],
      setup: (sim) => {
        sim.model.createComputeEnvironment({ name: 'ui-ce', instances: 4, instanceVcpus: 16 });
        sim.model.createJobQueue({ name: 'ui-on', computeEnvironments: ['ui-ce'] });
        sim.model.createJobQueue({ name: 'ui-count', computeEnvironments: ['ui-ce'] });
        sim.model.createJobQueue({ name: 'ui-disabled', computeEnvironments: ['ui-ce'], state: 'DISABLED' });
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

  it("shows each queue's jobs by status, failures of the last day, and whether AWS has it enabled (feature 15)", async () => {
    const sim = s.stack.sim.model;
    const running = [1, 2].map((i) => sim.submitJob({ jobName: `count-run-${i}`, jobQueue: 'ui-count', plan: { runSeconds: 3600 } }).jobId);
    const failed = sim.submitJob({ jobName: 'count-fail', jobQueue: 'ui-count', plan: { outcome: 'FAILED', exitCode: 1, runSeconds: 20 } }).jobId;
    sim.advance(15_000);
    for (const id of [...running, failed]) await s.waitForJob(id, { status: 'RUNNING' });
    sim.advance(30_000);
    await s.waitForJob(failed, { status: 'FAILED' });

    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/job_queues`);
    const row = 'tr[data-queue=ui-count]';
    await page.waitForSelector(`${row} [data-testid=count-running] a:text-is("2")`);
    expect(await page.textContent(`${row} [data-testid=count-failed]`)).to.equal('1');
    expect(await page.textContent(`${row} [data-testid=count-runnable]`)).to.equal('0');
    expect(await page.textContent(`${row} [data-testid=aws-state]`)).to.equal('enabled');
    expect(await page.textContent('tr[data-queue=ui-disabled] [data-testid=aws-state]')).to.equal('disabled');
    // A count opens the jobs it counts.
    await page.click(`${row} [data-testid=count-running] a`);
    await page.waitForSelector(`tr[data-job-id="${running[0]}"]`);
    const p = new URL(page.url()).searchParams;
    expect([p.get('selectedQueue'), p.get('selectedStatus')]).to.deep.equal(['ui-count', 'RUNNING']);
    await page.close();
  });

  it('says so when the queue filter matches nothing (bug 9)', async () => {
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/job_queues`);
    await page.waitForSelector('[data-testid=queues-table]');
    await page.fill('input[aria-label="Filter queues"]', 'no-such-queue');
    await page.waitForSelector('.state-empty:has-text("No queue matches")');
    expect(await page.$('[data-testid=queues-table]')).to.equal(null);
    await page.click('button:has-text("Show all")');
    await page.waitForSelector('tr[data-queue=ui-on]');
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
    // The original's names: a fixed window, its default metric (avg vCPUs running) drawn as stacked areas.
    await page.goto(`${s.url}/stats?startDate=${from}&endDate=${to}&selectedQueue=ui-on`);
    await page.waitForSelector('[data-testid=stats-chart][data-metric=avg_vcpu] .recharts-area-area');
    expect(await page.inputValue('select[aria-label=Metric]')).to.equal('avg_vcpu');

    // The table against the API's own rows for the same window: Total row, averages, job rate.
    const api = (await (await fetch(`${s.url}/api/v1/jobs/stats?start=${from}&end=${to}&queue=ui-on`)).json()) as { vcpu_seconds: number; job_count: number; status: string }[];
    const sum = (k: 'vcpu_seconds' | 'job_count') => api.reduce((n, r) => n + Number(r[k]), 0);
    const hours = (to - from) / 3600;
    const totalCell = (col: string) => page.textContent(`[data-testid=stats-total-row] td[data-col=${col}]`);
    expect(sum('job_count')).to.equal(4);
    expect(await totalCell('jobs')).to.equal('4');
    expect(await totalCell('avgVcpusRunning')).to.equal((sum('vcpu_seconds') / (to - from)).toFixed(2));
    expect(await totalCell('jobsPerHour')).to.equal((4 / hours).toFixed(1));
    const table = (await page.textContent('[data-testid=stats-totals]')) ?? '';
    expect(table).to.contain('ui-on').and.contain('SUCCEEDED').and.contain('FAILED').and.contain('Total');
    await screenshot(page, 'stats');

    // CSV of the table.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=stats-csv]')]);
    const csv = await new Promise<string>((resolve, reject) => {
      void download.createReadStream().then((stream) => {
        let text = '';
        stream.on('data', (d: Buffer) => (text += d.toString()));
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
      }, reject);
    });
    expect(csv.split('\r\n')[0]).to.match(/^queue,status,Jobs,/);
    expect(csv).to.match(/\r\nTotal,,4,/);

    // Another metric, as bars, by status: the legend names the statuses.
    await page.selectOption('select[aria-label=Metric]', 'job_count');
    await page.selectOption('select[aria-label=Graph]', 'bar');
    await page.click('button:has-text("by status")');
    await page.waitForSelector('[data-testid=stats-chart][data-metric=job_count] .recharts-bar-rectangle');
    await page.waitForSelector('[data-testid=stats-chart] .recharts-legend-item-text:has-text("SUCCEEDED")');
    const url = new URL(page.url()).searchParams;
    expect([url.get('statsMetric'), url.get('graphType'), url.get('group')]).to.deep.equal(['job_count', 'bar', 'status']);
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it('draws a real time axis with empty buckets, 24-hour times with their zone (bug 10)', async () => {
    const { page } = await newPage(s.browser, 1280, 800, { timezoneId: 'America/New_York' });
    // 90 days ending at the simulator's now (its clock runs ahead of the wall clock in these tests).
    const end = Math.floor(s.stack.sim.model.now() / 1000) + 3600;
    await page.goto(`${s.url}/stats?startDate=${end - 90 * 86400}&endDate=${end}&selectedQueue=ui-on`);
    await page.waitForSelector('[data-testid=stats-chart] .recharts-area-area');
    // 90 days of 1-day buckets, though jobs ran on one day only.
    expect(Number(await page.getAttribute('[data-testid=stats-chart]', 'data-buckets'))).to.be.within(90, 91);
    const text = (await page.textContent('main')) ?? '';
    expect(text).to.not.match(/\b(AM|PM)\b/);
    expect(await page.textContent('[data-testid=stats-window]')).to.match(/\d{4}-\d\d-\d\d \d\d:\d\d (EST|EDT)/);
    // The start and end are typed in the zone shown, 24-hour.
    await page.selectOption('select[aria-label="Time zone"]', 'utc');
    await page.fill('input[aria-label=Start]', '2026-01-01 00:00');
    await page.fill('input[aria-label=End]', '2026-01-03 13:30');
    await page.click('button:has-text("Apply")');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('endDate') !== null);
    const p = new URL(page.url()).searchParams;
    expect([p.get('startDate'), p.get('endDate')]).to.deep.equal([String(Date.parse('2026-01-01T00:00:00Z') / 1000), String(Date.parse('2026-01-03T13:30:00Z') / 1000)]);
    await page.selectOption('select[aria-label="Time zone"]', 'local');
    await page.close();
  });
});
