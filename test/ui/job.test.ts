/**
 * Job page in a real browser against the demo stack: the log (followed while
 * the job runs), the status changing live over the WebSocket without a reload,
 * HTML in a log line shown as text, TERMINATED for exit 137, array children,
 * and terminating from the page.
 */
import { expect } from 'chai';
import { newPage, screenshot } from './browser';
import { startUiStack, type UiStack } from './stack';

const HTML_LINE = 'step <b>two</b> <script>window.__xss = 3</script><img src=x onerror="window.__xss=4">';

describe('UI: Job page', function () {
  this.timeout(120_000);
  let s: UiStack;

  before(async () => {
    s = await startUiStack({
      activate: ['ui-jobq'],
      setup: (sim) => {
        sim.model.createComputeEnvironment({ name: 'ui-ce', instances: 4, instanceVcpus: 16 });
        sim.model.createJobQueue({ name: 'ui-jobq', computeEnvironments: ['ui-ce'] });
      },
    });
  });
  after(async () => s?.close());

  it('shows the log, follows it, and changes status live without a reload', async () => {
    const sim = s.stack.sim.model;
    const { jobId } = sim.submitJob({
      jobName: 'live-job',
      jobQueue: 'ui-jobq',
      plan: { outcome: 'SUCCEEDED', runSeconds: 20, logLines: ['step one', HTML_LINE, 'step three', 'step four'] },
    });
    sim.advance(15_000); // running, some lines written
    await s.waitForJob(jobId, { status: 'RUNNING' });

    const { page, errors } = await newPage(s.browser);
    await page.goto(`${s.url}/job/${jobId}`);
    await page.waitForSelector('[data-testid=job-status] [data-status=RUNNING]');
    await page.waitForSelector('[data-testid=live-indicator].live-live');
    await page.waitForFunction(() => document.querySelector('[data-testid=job-log]')?.textContent?.includes('step one'));
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));

    sim.advance(30_000); // finishes: every line written, SUCCEEDED
    await s.waitForJob(jobId, { status: 'SUCCEEDED' });
    await page.waitForSelector('[data-testid=job-status] [data-status=SUCCEEDED]', { timeout: 30_000 });
    // Same document: the change came over the socket, not from a reload.
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).to.equal(true);
    await page.waitForFunction(() => document.querySelector('[data-testid=job-log]')?.textContent?.includes('step four'), null, { timeout: 30_000 });

    const log = (await page.textContent('[data-testid=job-log]')) ?? '';
    expect(log).to.contain(HTML_LINE); // the markup is text
    expect(await page.$$('[data-testid=job-log] b, [data-testid=job-log] img, [data-testid=job-log] script')).to.have.length(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).to.equal(undefined);
    expect(errors).to.deep.equal([]);
    await screenshot(page, 'job-succeeded');
    await page.close();
  });

  it('shows the tail of a very long log and says so', async () => {
    const sim = s.stack.sim.model;
    const lines = Array.from({ length: 25_000 }, (_, i) => `line ${i} of a chatty job`);
    const { jobId } = sim.submitJob({ jobName: 'chatty-job', jobQueue: 'ui-jobq', plan: { outcome: 'SUCCEEDED', runSeconds: 5, logLines: lines } });
    sim.advance(30_000);
    await s.waitForJob(jobId, { status: 'SUCCEEDED' });
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/job/${jobId}`);
    await page.waitForSelector('[data-testid=log-truncated]');
    expect(await page.textContent('[data-testid=log-truncated]')).to.contain('last 20,000 of 25,000 lines');
    const shown = (await page.textContent('[data-testid=job-log]')) ?? '';
    expect(shown).to.contain('line 24999 of a chatty job').and.contain('line 5000 of a chatty job');
    expect(shown).to.not.contain('line 4999 of a chatty job');

    // Filtering finds lines the tail does not show.
    await page.fill('input[aria-label="Filter log lines"]', 'line 123 ');
    await page.waitForSelector('[data-testid=log-matches]:has-text("1 matching")');
    expect(await page.textContent('[data-testid=job-log]')).to.equal('line 123 of a chatty job\n');
    expect(await page.isVisible('[data-testid=log-truncated]')).to.equal(false);
    await page.close();
  });

  it('shows a job killed by SIGKILL (exit 137) as TERMINATED', async () => {
    const sim = s.stack.sim.model;
    const { jobId } = sim.submitJob({ jobName: 'oom-job', jobQueue: 'ui-jobq', plan: { outcome: 'FAILED', exitCode: 137, runSeconds: 2 } });
    sim.advance(20_000);
    await s.waitForJob(jobId, { status: 'FAILED' });
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/job/${jobId}`);
    await page.waitForSelector('[data-testid=job-status] [data-status=TERMINATED]');
    await page.close();
  });

  it('shows an array parent with its children', async () => {
    const sim = s.stack.sim.model;
    const { jobId } = sim.submitJob({ jobName: 'array-job', jobQueue: 'ui-jobq', arraySize: 3, plan: { outcome: 'SUCCEEDED', runSeconds: 600 } });
    sim.advance(15_000);
    await s.waitForJob(`${jobId}:2`);
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/job/${jobId}`);
    await page.waitForSelector('[data-testid=array-children] tbody tr');
    const children = await page.$$eval('[data-testid=array-children] tbody tr td:nth-child(2)', (tds) => tds.map((t) => t.textContent));
    expect(children).to.deep.equal([`${jobId}:0`, `${jobId}:1`, `${jobId}:2`]);
    await screenshot(page, 'job-array');

    // A child links back to its parent.
    await page.click(`text=${jobId}:1`);
    await page.waitForSelector(`a[href="/job/${encodeURIComponent(jobId)}"]`);
    await page.close();
  });

  it('terminates the job from its page after confirmation', async () => {
    const sim = s.stack.sim.model;
    const { jobId } = sim.submitJob({ jobName: 'to-kill', jobQueue: 'ui-jobq', plan: { outcome: 'SUCCEEDED', runSeconds: 3600 } });
    sim.advance(15_000);
    await s.waitForJob(jobId, { status: 'RUNNING' });
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/job/${jobId}`);
    await page.click('[data-testid=terminate-job]');
    await page.click('[data-testid=confirm-button]');
    await page.waitForSelector('[data-testid=kill-results]');
    await page.waitForSelector('text=Termination was requested');
    expect(sim.getJob(jobId)?.status).to.be.oneOf(['RUNNING', 'FAILED']);
    sim.advance(5_000);
    await s.waitForJob(jobId, { status: 'FAILED' });
    await page.waitForSelector('[data-testid=job-status] [data-status=FAILED], [data-testid=job-status] [data-status=TERMINATED]', { timeout: 30_000 });
    await page.close();
  });
});
