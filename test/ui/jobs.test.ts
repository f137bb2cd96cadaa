/**
 * Jobs page in a real browser against the demo stack: search, filters, sorting,
 * URL state and the back button, the `/` shortcut, selecting and terminating,
 * and HTML in a job name shown as text.
 */
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { upsertJobs } from '../../src/store/jobs/upsert';
import type { MirroredJob } from '../../src/types';
import { newPage, screenshot } from './browser';
import { startUiStack, type UiStack } from './stack';

const XSS_NAME = '<img src=x onerror="window.__xss=1">pwned<script>window.__xss=2</script>';

async function rowNames(page: Page): Promise<string[]> {
  return page.$$eval('[data-testid=jobs-table] tbody tr td.col-name', (tds) => tds.map((td) => td.textContent ?? ''));
}

async function waitRows(page: Page, predicate: (names: string[]) => boolean, what: string): Promise<string[]> {
  const until = Date.now() + 30_000;
  let names: string[] = [];
  while (Date.now() < until) {
    names = await rowNames(page);
    if (predicate(names)) return names;
    await page.waitForTimeout(100);
  }
  throw new Error(`${what}: rows were ${JSON.stringify(names)}`);
}

describe('UI: Jobs page', function () {
  this.timeout(120_000);
  let s: UiStack;
  const ids: Record<string, string> = {};

  before(async () => {
    s = await startUiStack({
      activate: ['ui-alpha', 'ui-beta'],
      setup: (sim) => {
        sim.model.createComputeEnvironment({ name: 'ui-ce', instances: 4, instanceVcpus: 16 });
        sim.model.createJobQueue({ name: 'ui-alpha', computeEnvironments: ['ui-ce'] });
        sim.model.createJobQueue({ name: 'ui-beta', computeEnvironments: ['ui-ce'] });
      },
    });
    const sim = s.stack.sim.model;
    const submit = (name: string, queue: string, plan: object, memory = 1024) =>
      (ids[name] = sim.submitJob({ jobName: name, jobQueue: queue, memory, vcpus: 1, plan }).jobId);
    submit('nightly-report-1', 'ui-alpha', { outcome: 'SUCCEEDED', runSeconds: 5 }, 2048);
    submit('nightly-report-2', 'ui-alpha', { outcome: 'SUCCEEDED', runSeconds: 5 }, 512);
    submit('nightly-report-3', 'ui-alpha', { outcome: 'SUCCEEDED', runSeconds: 5 }, 4096);
    submit('etl-load-1', 'ui-alpha', { outcome: 'SUCCEEDED', runSeconds: 3600 }, 1024);
    submit('etl-load-2', 'ui-alpha', { outcome: 'SUCCEEDED', runSeconds: 3600 }, 3072);
    submit('training-run-1', 'ui-beta', { outcome: 'FAILED', exitCode: 1, runSeconds: 5 }, 8192);
    sim.advance(30_000); // reports done, etl jobs running, training failed
    for (const [name, id] of Object.entries(ids)) {
      await s.waitForJob(id, { status: name.startsWith('etl') ? 'RUNNING' : name.startsWith('training') ? 'FAILED' : 'SUCCEEDED' });
    }
    // AWS job names cannot hold markup; a name that does (an adopted database, a future API) must still be shown as text.
    const [template] = await s.tdb.db('jobs').where({ job_id: ids['nightly-report-1'] }).select('*');
    ids.xss = 'xss-job-0001';
    await upsertJobs(s.tdb.db, [{ ...(template as MirroredJob), job_id: ids.xss, job_name: XSS_NAME, job_queue: 'ui-beta' }]);
  });
  after(async () => s?.close());

  it('lists the mirrored jobs, and search narrows the list (URL and back button follow)', async () => {
    const { page, errors } = await newPage(s.browser);
    await page.goto(`${s.url}/`);
    await waitRows(page, (n) => n.length === 7, 'all 7 jobs listed');
    await screenshot(page, 'jobs-all');

    await page.fill('input[aria-label="Search jobs"]', 'nightly');
    const names = await waitRows(page, (n) => n.length === 3, 'search narrowed to 3');
    expect(names.every((n) => n.includes('nightly-report'))).to.equal(true);
    expect(new URL(page.url()).searchParams.get('q')).to.equal('nightly');

    await page.fill('input[aria-label="Search jobs"]', 'nightly report-2');
    await waitRows(page, (n) => n.length === 1 && n[0] === 'nightly-report-2', 'two words narrow to one');
    await screenshot(page, 'jobs-search');

    await page.goBack();
    await waitRows(page, (n) => n.length === 3, 'back restores the previous search');
    expect(await page.inputValue('input[aria-label="Search jobs"]')).to.equal('nightly');

    // A shared link opens the same view.
    const { page: other } = await newPage(s.browser);
    await other.goto(page.url());
    await waitRows(other, (n) => n.length === 3, 'a shared link shows the same jobs');
    await other.close();
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it('fits the job grid in 1280 px and in a 1366x768 laptop screen without horizontal scrolling', async () => {
    for (const [w, h] of [
      [1280, 800],
      [1366, 768],
    ]) {
      const { page } = await newPage(s.browser, w, h);
      await page.goto(`${s.url}/`);
      await waitRows(page, (n) => n.length === 7, 'all jobs');
      const overflow = await page.evaluate(() => {
        const wrap = document.querySelector('.table-wrap') as HTMLElement;
        return { table: wrap.scrollWidth - wrap.clientWidth, page: document.documentElement.scrollWidth - window.innerWidth };
      });
      expect(overflow, `${w}x${h}`).to.deep.equal({ table: 0, page: 0 });
      await screenshot(page, `jobs-${w}x${h}`);
      await page.close();
    }
  });

  it('explains an empty result, a refused query and an unknown job instead of showing a blank page', async () => {
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/?q=no-such-job-anywhere`);
    await page.waitForSelector('.state-empty:has-text("No jobs match")');

    await page.goto(`${s.url}/?status=BOGUS`); // the API answers 400; the page shows why
    await page.waitForSelector('.state-error', { timeout: 10_000 });
    expect(await page.textContent('.state-error')).to.match(/status/i);

    await page.goto(`${s.url}/job/no-such-job-id`);
    await page.waitForSelector('.state-empty:has-text("No such job")');
    await page.close();
  });

  it('"/" focuses the search box', async () => {
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/`);
    await waitRows(page, (n) => n.length > 0, 'rows');
    await page.click('h1, .pager');
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).to.equal('Search jobs');
    await page.close();
  });

  it('status and queue filters change the list', async () => {
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/`);
    await waitRows(page, (n) => n.length === 7, 'all jobs');

    await page.click('[data-testid=status-filter] button');
    await page.click('[data-testid=status-filter] input[value=RUNNING]');
    const running = await waitRows(page, (n) => n.length === 2, 'RUNNING only');
    expect(running.sort()).to.deep.equal(['etl-load-1', 'etl-load-2']);
    expect(new URL(page.url()).searchParams.get('status')).to.equal('RUNNING');
    await page.keyboard.press('Escape');

    await page.goto(`${s.url}/?queue=ui-beta`);
    const beta = await waitRows(page, (n) => n.length === 2, 'queue ui-beta only');
    expect(beta).to.include('training-run-1');
    await page.close();
  });

  it('sorts by a server column across all jobs and by a page column in the browser, saying so', async () => {
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/?q=nightly`);
    await waitRows(page, (n) => n.length === 3, 'three reports');

    await page.click('button[data-col=name]'); // first click: descending
    await waitRows(page, (n) => n.join() === 'nightly-report-3,nightly-report-2,nightly-report-1', 'name descending');
    expect(new URL(page.url()).searchParams.get('sort')).to.equal('name');
    await page.click('button[data-col=name]');
    await waitRows(page, (n) => n.join() === 'nightly-report-1,nightly-report-2,nightly-report-3', 'name ascending');
    expect(await page.isVisible('[data-testid=client-sort-note]')).to.equal(false);

    await page.click('button[data-col=memory]'); // descending: 4096, 2048, 512
    await waitRows(page, (n) => n.join() === 'nightly-report-3,nightly-report-1,nightly-report-2', 'memory descending');
    expect(await page.textContent('[data-testid=client-sort-note]')).to.contain('within this page only');
    await page.close();
  });

  it('re-sorts when one page-sorted column follows another, and flips on a second click (bug 1)', async () => {
    const { page, errors } = await newPage(s.browser);
    await page.goto(`${s.url}/?queue=ui-alpha,ui-beta`);
    await waitRows(page, (n) => n.length === 7, 'the seven jobs');
    await page.click('button[data-col=memory]'); // 8192, 4096, 3072, ...
    await waitRows(page, (n) => n.slice(0, 3).join() === 'training-run-1,nightly-report-3,etl-load-2', 'memory descending');
    expect(await page.textContent('[data-testid=client-sort-note]')).to.contain('Memory');
    await page.click('button[data-col=queue]'); // ui-beta's two jobs first
    await waitRows(page, (n) => n.slice(0, 2).sort().join() === `${XSS_NAME},training-run-1`, 'queue descending');
    expect(await page.textContent('[data-testid=client-sort-note]')).to.contain('Queue');
    expect(new URL(page.url()).searchParams.get('sort')).to.equal('queue');
    await page.click('button[data-col=queue]');
    await waitRows(page, (n) => n.slice(-2).sort().join() === `${XSS_NAME},training-run-1`, 'queue ascending');
    expect(new URL(page.url()).searchParams.get('dir')).to.equal('asc');
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it('shows a job name containing HTML as text, running no script', async () => {
    const { page, errors } = await newPage(s.browser);
    await page.goto(`${s.url}/?queue=ui-beta`);
    await waitRows(page, (n) => n.includes(XSS_NAME), 'the HTML name listed verbatim');
    expect(await page.$$('[data-testid=jobs-table] img')).to.have.length(0);
    await page.goto(`${s.url}/job/${ids.xss}`);
    await page.waitForSelector('[data-testid=job-name]');
    expect(await page.textContent('[data-testid=job-name]')).to.equal(XSS_NAME);
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).to.equal(undefined);
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it('pages through 100 jobs at a time, with the page in the URL', async () => {
    const [template] = await s.tdb.db('jobs').where({ job_id: ids['nightly-report-1'] }).select('*');
    const bulk = Array.from({ length: 150 }, (_, i) => ({
      ...(template as MirroredJob),
      job_id: `bulk-${String(i).padStart(3, '0')}`,
      job_name: `bulk-job-${i}`,
      job_queue: 'ui-bulk', // not activated: nothing else touches these rows
    }));
    await upsertJobs(s.tdb.db, bulk);
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/?queue=ui-bulk&sort=id&dir=asc`);
    await waitRows(page, (n) => n.length === 100 && n[0] === 'bulk-job-0', 'first page of 100');
    expect(await page.textContent('[data-testid=page-info]')).to.contain('1–100');
    await page.click('button:has-text("Older")');
    await waitRows(page, (n) => n.length === 50 && n[0] === 'bulk-job-100', 'second page of 50');
    expect(new URL(page.url()).searchParams.get('page')).to.equal('1');
    expect(await page.textContent('[data-testid=page-info]')).to.contain('101–150');
    expect(await page.isDisabled('button:has-text("Older")')).to.equal(true);
    await page.goBack();
    await waitRows(page, (n) => n.length === 100, 'back to the first page');
    await page.close();
  });

  it('auto-refresh shows new jobs without a reload', async () => {
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/?queue=ui-alpha`);
    await waitRows(page, (n) => n.length === 5, 'the alpha jobs');
    // The box is controlled by the URL: it shows checked once the router has applied the click,
    // so wait for that rather than for the click itself to flip it (page.check would race it).
    const toggle = 'label.toggle:has-text("Auto-refresh") input';
    await page.click(toggle);
    await page.waitForFunction(() => new URL(location.href).searchParams.get('refresh') === '1', undefined, { timeout: 5000 });
    await page.waitForSelector(`${toggle}:checked`, { timeout: 5000 });
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));

    const sim = s.stack.sim.model;
    const { jobId } = sim.submitJob({ jobName: 'late-arrival', jobQueue: 'ui-alpha', plan: { runSeconds: 3600 } });
    sim.advance(5_000);
    await s.waitForJob(jobId);
    await waitRows(page, (n) => n.includes('late-arrival'), 'the new job listed by auto-refresh');
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).to.equal(true);
    await page.close();
  });

  it('selects jobs and terminates them after confirmation; they are marked', async () => {
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/?status=RUNNING&q=etl-load`);
    await waitRows(page, (n) => n.length === 2, 'two running');
    for (const name of ['etl-load-1', 'etl-load-2']) await page.check(`input[aria-label="Select job ${ids[name]}"]`);
    expect(await page.textContent('[data-testid=terminate-selected]')).to.contain('(2)');

    s.stack.sim.counters.reset();
    await page.click('[data-testid=terminate-selected]');
    await page.waitForSelector('dialog.confirm[open]');
    expect(await page.textContent('dialog.confirm')).to.contain(ids['etl-load-1']);
    await page.click('[data-testid=confirm-button]');
    await page.waitForSelector('[data-testid=kill-results]');
    expect(await page.textContent('[data-testid=kill-results]')).to.contain('Termination requested for 2 jobs');
    expect(s.stack.sim.counters.get()['Batch.TerminateJob']).to.equal(2);

    // The rows are marked (the mirror records termination_requested) until AWS stops the jobs.
    await page.waitForSelector(`tr.row-kill[data-job-id="${ids['etl-load-1']}"]`);
    await page.waitForSelector(`tr.row-kill[data-job-id="${ids['etl-load-2']}"]`);
    await screenshot(page, 'jobs-terminated');
    const rows = await s.tdb.db('jobs').whereIn('job_id', [ids['etl-load-1'], ids['etl-load-2']]).select('termination_requested');
    expect(rows.map((r) => r.termination_requested)).to.deep.equal([true, true]);
    await page.close();
  });
});
