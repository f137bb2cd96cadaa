/**
 * Jobs page in a real browser against the demo stack: search, filters, sorting,
 * URL state and the back button, the `/` shortcut, selecting and terminating,
 * and HTML in a job name shown as text.
 */
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { upsertJobs } from '../../src/store/jobs/upsert';
import type { MirroredJob } from '../../src/types';
import { cutOff, horizontalOverflow, newPage, screenshot } from './browser';
import { startUiStack, type UiStack } from './stack';

const XSS_NAME = '<img src=x onerror="window.__xss=1">pwned<script>window.__xss=2</script>';

async function rowNames(page: Page): Promise<string[]> {
  return page.$$eval('[data-testid=jobs-table] tbody tr td.col-name', (tds) => tds.map((td) => td.textContent ?? ''));
}

async function waitRows(page: Page, predicate: (names: string[]) => boolean, what: string): Promise<string[]> {
  const until = Date.now() + 60_000; // generous: the suite shares a busy machine
  let names: string[] = [];
  while (Date.now() < until) {
    names = await rowNames(page);
    if (predicate(names)) return names;
    await page.waitForTimeout(100);
  }
  throw new Error(`${what}: rows were ${JSON.stringify(names)}`);
}

describe('UI: Jobs page', function () {
  this.timeout(300_000);
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
    const submit = (name: string, queue: string, plan: object, memory = 1024, command?: string[]) =>
      (ids[name] = sim.submitJob({ jobName: name, jobQueue: queue, memory, vcpus: 1, plan, ...(command ? { command } : {}) }).jobId);
    submit('nightly-report-1', 'ui-alpha', { outcome: 'SUCCEEDED', runSeconds: 5 }, 2048);
    submit('nightly-report-2', 'ui-alpha', { outcome: 'SUCCEEDED', runSeconds: 5 }, 512);
    submit('nightly-report-3', 'ui-alpha', { outcome: 'SUCCEEDED', runSeconds: 5 }, 4096);
    submit('etl-load-1', 'ui-alpha', { outcome: 'SUCCEEDED', runSeconds: 3600 }, 1024);
    submit('etl-load-2', 'ui-alpha', { outcome: 'SUCCEEDED', runSeconds: 3600 }, 3072);
    submit('training-run-1', 'ui-beta', { outcome: 'FAILED', exitCode: 1, runSeconds: 5, reason: 'OutOfMemoryError: Container killed due to memory usage' }, 8192,
      ['python', 'train.py', '--epochs', '3']);
    sim.advance(30_000); // reports done, etl jobs running, training failed
    for (const [name, id] of Object.entries(ids)) {
      await s.waitForJob(id, { status: name.startsWith('etl') ? 'RUNNING' : name.startsWith('training') ? 'FAILED' : 'SUCCEEDED' });
    }
    // AWS job names cannot hold markup; a name that does (an adopted database, a future API) must still be shown as text.
    const [template] = await s.tdb.db('jobs').where({ job_id: ids['nightly-report-1'] }).select('*');
    ids.xss = 'xss-job-0001';
    await upsertJobs(s.tdb.db, [{ ...(template as MirroredJob), job_id: ids.xss, job_name: XSS_NAME, job_queue: 'ui-beta' }]);
    const bulk = Array.from({ length: 150 }, (_, i) => ({
      ...(template as MirroredJob),
      job_id: `bulk-${String(i).padStart(3, '0')}`,
      job_name: `bulk-job-${i}`,
      job_queue: 'ui-bulk', // not activated: nothing else touches these rows
      status: (i % 3 === 0 ? 'SUCCEEDED' : 'RUNNING') as MirroredJob['status'],
    }));
    await upsertJobs(s.tdb.db, bulk);
    // Two days old: outside the default 1-day range, so the other tests see only the seven above.
    await s.tdb.db('jobs').where({ job_queue: 'ui-bulk' }).update({ last_updated: s.tdb.db.raw("now() - interval '2 days'") });
  });
  after(async () => s?.close());

  it('lists the mirrored jobs, and search narrows the list (URL and back button follow)', async () => {
    const { page, errors } = await newPage(s.browser);
    await page.goto(`${s.url}/`);
    await waitRows(page, (n) => n.length === 7, 'all 7 jobs listed');
    await screenshot(page, 'jobs-all');

    await page.fill('input[aria-label="Search jobs"]', 'nightly');
    await page.press('input[aria-label="Search jobs"]', 'Enter'); // settles this search: the next is a new history entry
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

  it('offers the search syntax beside the box: reason: finds a failure by its reason, cmd: by its command line', async () => {
    const { page, errors } = await newPage(s.browser);
    await page.goto(`${s.url}/`);
    await waitRows(page, (n) => n.length === 7, 'all 7 jobs listed');
    const box = 'input[aria-label="Search jobs"]';
    expect(await page.getAttribute(box, 'placeholder')).to.contain('reason:').and.to.contain('cmd:');
    await page.click('button[aria-label="Search syntax"]');
    const help = await page.textContent('[data-testid=search-help]');
    expect(help).to.contain('reason:OutOfMemory').and.to.contain('cmd:--shard').and.to.contain('status reason');
    await screenshot(page, 'jobs-search-help');
    await page.click('[data-testid=search-help] button:has-text("reason:OutOfMemory")');
    await waitRows(page, (n) => n.length === 1 && n[0] === 'training-run-1', 'the out-of-memory failure');
    expect(new URL(page.url()).searchParams.get('q')).to.equal('reason:OutOfMemory');

    // A prefix still waiting for its word does not search; with the word it does.
    await page.fill(box, 'cmd:');
    await page.waitForTimeout(800);
    expect(new URL(page.url()).searchParams.get('q')).to.equal('reason:OutOfMemory');
    expect(await page.$('.state-error')).to.equal(null);
    await page.type(box, 'train.py');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('q') === 'cmd:train.py');
    await waitRows(page, (n) => n.length === 1 && n[0] === 'training-run-1', 'the job by its command line');

    // Sent as it is (Enter), the API's 400 says how to write it.
    await page.fill(box, 'reason:');
    await page.press(box, 'Enter');
    await page.waitForSelector('.state-error');
    expect(await page.textContent('.state-error')).to.contain('needs a word right after it');

    // A plain word does not search reasons: the empty list says how to.
    await page.fill(box, 'OutOfMemory');
    await page.press(box, 'Enter');
    await page.waitForSelector('.state-empty');
    expect(await page.textContent('.state-empty')).to.contain('reason:word');
    expect(errors.filter((e) => !/400/.test(e))).to.deep.equal([]);
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
    expect(new URL(page.url()).searchParams.get('selectedStatus')).to.equal('RUNNING'); // the original UI's name
    const filterButton = '[data-testid=status-filter] button';
    await page.keyboard.press('Escape');
    expect(await page.getAttribute(filterButton, 'aria-expanded'), 'Escape closes the dropdown').to.equal('false');
    await page.click(filterButton);
    expect(await page.getAttribute(filterButton, 'aria-expanded')).to.equal('true');
    await page.mouse.click(5, 400); // outside the dropdown
    expect(await page.getAttribute(filterButton, 'aria-expanded'), 'a click outside closes it').to.equal('false');

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
    expect(new URL(page.url()).searchParams.get('sortColumn')).to.equal('name');
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
    await page.click('button[data-col=job_queue]'); // ui-beta's two jobs first
    await waitRows(page, (n) => n.slice(0, 2).sort().join() === `${XSS_NAME},training-run-1`, 'queue descending');
    expect(await page.textContent('[data-testid=client-sort-note]')).to.contain('Queue');
    expect(new URL(page.url()).searchParams.get('sortColumn')).to.equal('job_queue');
    await page.click('button[data-col=job_queue]');
    await waitRows(page, (n) => n.slice(-2).sort().join() === `${XSS_NAME},training-run-1`, 'queue ascending');
    expect(new URL(page.url()).searchParams.get('sortDirection')).to.equal('ASC');
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
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/?queue=ui-bulk&sort=id&dir=asc&dateRange=7d`); // this UI's earlier parameter names still work
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

  it('is live by default: new jobs appear and running durations tick without a reload (bug 4)', async () => {
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/?queue=ui-alpha`);
    await waitRows(page, (n) => n.length >= 5, 'the alpha jobs');
    expect(await page.isChecked('input[aria-label=Live]')).to.equal(true);
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));

    // A running job's runtime counts up on its own, between two refreshes of the list.
    const runtime = `tr[data-job-id="${ids['etl-load-1']}"] td.col-runtime`;
    const first = await page.textContent(runtime);
    await page.waitForFunction(([sel, was]) => document.querySelector(sel)?.textContent !== was, [runtime, first] as const);

    const sim = s.stack.sim.model;
    const { jobId } = sim.submitJob({ jobName: 'late-arrival', jobQueue: 'ui-alpha', plan: { runSeconds: 3600 } });
    sim.advance(5_000);
    await s.waitForJob(jobId);
    await waitRows(page, (n) => n.includes('late-arrival'), 'the new job listed without a reload');
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).to.equal(true);

    // Pausing is one click, kept in the URL.
    await page.uncheck('input[aria-label=Live]');
    expect(new URL(page.url()).searchParams.get('live')).to.equal('0');
    await page.close();
  });

  it('selects jobs and terminates them after confirmation; they are marked', async () => {
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/?status=RUNNING&q=etl-load`);
    await waitRows(page, (n) => n.length === 2, 'two running');
    for (const name of ['etl-load-1', 'etl-load-2']) await page.check(`input[aria-label="Select job ${ids[name]}"]`); // checks at once
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

  it('offers the last page instead of "no jobs" for a page past the end (bug 2)', async () => {
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/?selectedQueue=ui-bulk&dateRange=7d&page=5`);
    await page.waitForSelector('[data-testid=past-the-end] button:has-text("Go to page 2")');
    expect(await page.textContent('.state-empty')).to.contain('Page 6 is past the end').and.not.contain('No job was updated');
    await page.click('[data-testid=past-the-end] button');
    await waitRows(page, (n) => n.length === 50, 'the last page: jobs 101-150');
    expect(new URL(page.url()).searchParams.get('page')).to.equal('1');
    await page.close();
  });

  it('falls back to the default order for an unknown sort column in the URL (bug 3)', async () => {
    const { page } = await newPage(s.browser);
    for (const bad of ['sortColumn=bogus', 'sort=bogus&dir=asc']) {
      await page.goto(`${s.url}/?${bad}`);
      await waitRows(page, (n) => n.length >= 7, 'all jobs');
      expect(await page.$('[data-testid=client-sort-note]'), bad).to.equal(null);
      expect(await page.getAttribute('th.col-last_updated', 'aria-sort'), bad).to.equal('descending');
    }
    await page.close();
  });

  it('offers to terminate only active jobs; the confirmation names them with statuses and takes a reason (bug 5)', async () => {
    const sim = s.stack.sim.model;
    const kill = ['kill-me-1', 'kill-me-2'].map((name) => sim.submitJob({ jobName: name, jobQueue: 'ui-beta', plan: { runSeconds: 3600 } }).jobId);
    const done = sim.submitJob({ jobName: 'kill-me-done', jobQueue: 'ui-beta', plan: { runSeconds: 20 } }).jobId;
    sim.advance(15_000);
    for (const id of [...kill, done]) await s.waitForJob(id, { status: 'RUNNING' });
    sim.advance(30_000);
    await s.waitForJob(done, { status: 'SUCCEEDED' });
    // A finished job once asked to terminate has no red edge: there is nothing left to stop.
    await s.tdb.db('jobs').where({ job_id: done }).update({ termination_requested: true });

    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/?q=kill-me`);
    await waitRows(page, (n) => n.length === 3, 'the three kill-me jobs');
    expect(await page.isDisabled(`input[aria-label="Select job ${done}"]`)).to.equal(true);
    expect(await page.$(`tr.row-kill[data-job-id="${done}"]`)).to.equal(null);

    await page.check('input[aria-label="Select all active jobs on this page"]');
    expect((new URL(page.url()).searchParams.get('selectedIds') ?? '').split(',').sort()).to.deep.equal([...kill].sort());

    await page.click('[data-testid=terminate-selected]');
    await page.waitForSelector('[data-testid=kill-list]');
    const listed = await page.$$eval('[data-testid=kill-list] li', (lis) => lis.map((li) => li.textContent ?? ''));
    expect(listed).to.have.length(2);
    expect(listed.find((t) => t.includes(kill[0]))).to.contain('kill-me-1').and.contain('RUNNING');
    await page.fill('input[aria-label="Reason for terminating"]', 'wrong input file');
    s.stack.sim.counters.reset();
    await page.click('[data-testid=confirm-button]');
    await page.waitForSelector('[data-testid=kill-results]');
    expect(s.stack.sim.counters.get()['Batch.TerminateJob']).to.equal(2);
    sim.advance(1_000);
    expect(sim.getJob(kill[0])?.statusReason).to.contain('wrong input file');
    expect(new URL(page.url()).searchParams.get('selectedIds')).to.equal(null); // the terminated jobs left the selection
    await page.close();
  });

  it('makes one history entry per search (bug 6)', async () => {
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/?selectedQueue=ui-alpha,ui-beta`);
    await waitRows(page, (n) => n.length >= 7, 'all jobs');
    const before = await page.evaluate(() => history.length);
    const box = 'input[aria-label="Search jobs"]';
    await page.click(box);
    await page.keyboard.type('nigh');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('q') === 'nigh');
    await page.keyboard.type('tly');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('q') === 'nightly');
    await page.keyboard.press('Enter');
    await waitRows(page, (n) => n.length === 3, 'the reports');
    expect(await page.evaluate(() => history.length)).to.equal(before + 1);
    await page.goBack();
    await waitRows(page, (n) => n.length >= 7, 'one step back: before the search');
    expect(new URL(page.url()).searchParams.get('q')).to.equal(null);
    await page.close();
  });

  it('keeps every page within a 390 px phone screen, nothing cut off (bug 7)', async () => {
    const { page } = await newPage(s.browser, 390, 844);
    const pages: [string, string][] = [
      ['jobs', '/?selectedQueue=ui-alpha,ui-beta'],
      ['job', `/job/${ids['etl-load-2']}`],
      ['queues', '/job_queues'],
      ['stats', '/stats?range=7d'],
    ];
    for (const [name, path] of pages) {
      await page.goto(`${s.url}${path}`);
      await page.waitForSelector('[data-testid=jobs-table] tbody tr, [data-testid=job-name], [data-testid=queues-table], [data-testid=stats-totals], .state-empty');
      await page.waitForLoadState('networkidle');
      await screenshot(page, `phone-${name}`);
      expect(await horizontalOverflow(page), `${name}: sideways scroll`).to.equal(0);
      const cut = await cutOff(page, '.topbar a, .topbar select, button:not([disabled]), input, select, h1, .crumbs, [data-testid=job-status]');
      expect(cut, `${name}: cut off`).to.deep.equal([]);
    }
    await page.close();
  });

  it('selecting rows moves nothing, and a long status filter leaves the search placeholder readable (bug 8)', async () => {
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/?selectedQueue=ui-bulk&dateRange=7d&sortColumn=id&sortDirection=ASC`);
    await waitRows(page, (n) => n.length === 100, 'a page of bulk jobs');
    const layout = () =>
      page.evaluate(() => ({
        table: Math.round(document.querySelector('[data-testid=jobs-table]')!.getBoundingClientRect().top),
        toolbar: Math.round(document.querySelector('.jobs-toolbar')!.getBoundingClientRect().height),
      }));
    const before = await layout();
    await page.check('input[aria-label="Select job bulk-001"]');
    await page.check('input[aria-label="Select job bulk-002"]');
    expect(await page.textContent('[data-testid=terminate-selected]')).to.contain('(2)');
    expect(await layout()).to.deep.equal(before);

    await page.goto(`${s.url}/?selectedStatus=SUBMITTED,RUNNABLE,STARTING,SUCCEEDED&dateRange=7d`);
    await page.waitForSelector('[data-testid=status-filter]');
    const fits = await page.$eval('input[aria-label="Search jobs"]', (el) => {
      const input = el as HTMLInputElement;
      const style = getComputedStyle(input);
      const ctx = document.createElement('canvas').getContext('2d')!;
      ctx.font = `${style.fontSize} ${style.fontFamily}`;
      const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      return { room, needed: ctx.measureText(input.placeholder).width };
    });
    expect(fits.room).to.be.at.least(fits.needed);
    await page.close();
  });

  it('keeps the filters behind the job page\'s "Jobs" link (bug 9)', async () => {
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/?q=nightly&selectedStatus=SUCCEEDED`);
    await waitRows(page, (n) => n.length === 3, 'the reports');
    await page.click(`a[href="/job/${ids['nightly-report-2']}"].job-name`);
    await page.waitForSelector('[data-testid=crumb-jobs]');
    await page.click('[data-testid=crumb-jobs]');
    await waitRows(page, (n) => n.length === 3, 'the same three reports');
    const back = new URL(page.url()).searchParams;
    expect([back.get('q'), back.get('selectedStatus')]).to.deep.equal(['nightly', 'SUCCEEDED']);
    await page.close();
  });

  it('starts the next page at its top, explains a bad job id, opens the dashboard in a tab of its own (bug 9)', async () => {
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/?selectedQueue=ui-bulk&dateRange=7d&sortColumn=id&sortDirection=ASC`);
    await waitRows(page, (n) => n.length === 100, 'page 1');
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    expect(await page.evaluate(() => window.scrollY)).to.be.greaterThan(0);
    await page.click('button:has-text("Older")');
    await waitRows(page, (n) => n[0] === 'bulk-job-100', 'page 2');
    expect(await page.evaluate(() => window.scrollY)).to.equal(0);

    await page.goto(`${s.url}/job/${encodeURIComponent('not a job id!')}`);
    await page.waitForSelector('.state-empty:has-text("Not a job id")');
    expect(await page.$('button:has-text("Try again")')).to.equal(null);

    expect(await page.getAttribute('[data-testid=dashboard-link]', 'target')).to.equal('_blank');
    await page.close();
  });

  it('shows every time with its zone, local or UTC as the user picks (bug 10)', async () => {
    const { page } = await newPage(s.browser, 1280, 800, { timezoneId: 'Asia/Kolkata' }); // UTC+05:30, no daylight saving
    await page.goto(`${s.url}/job/${ids['nightly-report-1']}`);
    await page.waitForSelector('[data-testid=job-name]');
    const created = await s.tdb.db('jobs').where({ job_id: ids['nightly-report-1'] }).first('created_at');
    const utc = new Date(created.created_at as Date);
    const ist = new Date(utc.getTime() + 5.5 * 3600_000);
    const fmt = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');
    const field = () => page.$eval('dt:text-is("Created") + dd', (dd) => dd.textContent ?? '');
    expect(await field()).to.contain(`${fmt(ist)} GMT+5:30`);
    await page.selectOption('select[aria-label="Time zone"]', 'utc');
    await page.waitForFunction((text) => [...document.querySelectorAll('dd')].some((dd) => dd.textContent?.includes(text)), `${fmt(utc)} UTC`);
    expect(await field()).to.contain(`${fmt(utc)} UTC`);
    // Remembered: the jobs list names the zone in its time columns.
    await page.goto(`${s.url}/?selectedQueue=ui-alpha`);
    await page.waitForSelector('th.col-last_updated');
    expect(await page.textContent('th.col-last_updated')).to.contain('(UTC)');
    await page.selectOption('select[aria-label="Time zone"]', 'local');
    await page.close();
  });

  it("opens the original UI's bookmarks as the same view", async () => {
    const { page } = await newPage(s.browser);
    // The Go UI wrote these names; sortColumn used its column keys, statuses and queues as comma lists.
    await page.goto(`${s.url}/?q=report&selectedStatus=SUCCEEDED&selectedQueue=ui-alpha,ui-beta&sortColumn=name&sortDirection=ASC&dateRange=1d&selectedIds=${ids['etl-load-2']}`);
    await waitRows(page, (n) => n.join() === 'nightly-report-1,nightly-report-2,nightly-report-3', 'the three reports by name');
    expect(await page.textContent('[data-testid=status-filter]')).to.contain('SUCCEEDED');
    expect(await page.textContent('[data-testid=queue-filter]')).to.contain('ui-alpha');
    expect(await page.getAttribute('th.col-name', 'aria-sort')).to.equal('ascending');
    expect(await page.textContent('[data-testid=selection-count]')).to.contain('1 selected');
    await page.goto(`${s.url}/?selectedQueue=all&selectedStatus=all&sortColumn=job_queue&sortDirection=DESC`);
    await waitRows(page, (n) => n.length >= 7, 'all: no filter');
    expect(await page.textContent('[data-testid=client-sort-note]')).to.contain('Queue');
    await page.close();
  });

  it('selects a range with shift-click, across pages, and keeps the selection in the URL', async () => {
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/?selectedQueue=ui-bulk&dateRange=7d&sortColumn=id&sortDirection=ASC`);
    await waitRows(page, (n) => n.length === 100, 'page 1');
    await page.click('input[aria-label="Select job bulk-095"]');
    await page.click('button:has-text("Older")');
    await waitRows(page, (n) => n[0] === 'bulk-job-100', 'page 2');
    await page.click('input[aria-label="Select job bulk-104"]', { modifiers: ['Shift'] });
    // 95..104 are selected except the finished ones (every third job succeeded: 96, 99, 102).
    const expected = [95, 97, 98, 100, 101, 103, 104].map((i) => `bulk-${String(i).padStart(3, '0')}`);
    await page.waitForFunction((n) => (new URL(location.href).searchParams.get('selectedIds') ?? '').split(',').length === n, expected.length);
    expect(new URL(page.url()).searchParams.get('selectedIds')!.split(',').sort()).to.deep.equal(expected);
    expect(await page.textContent('[data-testid=selection-count]')).to.contain('7 selected').and.contain('3 on other pages');

    // A reload keeps it; the confirmation lists the jobs of both pages.
    await page.reload();
    await waitRows(page, (n) => n[0] === 'bulk-job-100', 'page 2 again');
    await page.click('[data-testid=terminate-selected]');
    await page.waitForSelector('[data-testid=kill-list]');
    expect(await page.$$eval('[data-testid=kill-list] li', (lis) => lis.map((li) => li.getAttribute('data-job-id')).sort())).to.deep.equal(expected);
    await page.click('dialog.confirm button:has-text("Cancel")');
    await page.close();
  });

  // Last: it adds jobs (in queues of their own, two days old) that the tests above do not expect.
  it('says how many jobs match, without holding up the rows; exact, refreshed with the list, "about" past 10,000', async () => {
    const [template] = await s.tdb.db('jobs').where({ job_id: ids['nightly-report-1'] }).select('*');
    const add = async (queue: string, from: number, n: number) => {
      const jobs = Array.from({ length: n }, (_, i) => ({ ...(template as MirroredJob), job_id: `${queue}-${from + i}`, job_name: `${queue}-job-${from + i}`, job_queue: queue }));
      // A thousand a statement: one UPDATE of 10,000 rows just inserted took 34 s here with the status
      // trigger on (1 s with it off, 0.8 s once the table was analysed).
      for (let i = 0; i < jobs.length; i += 1000) {
        const chunk = jobs.slice(i, i + 1000);
        await upsertJobs(s.tdb.db, chunk);
        await s.tdb.db('jobs').whereIn('job_id', chunk.map((j) => j.job_id)).update({ last_updated: s.tdb.db.raw("now() - interval '2 days'") });
      }
    };
    await add('ui-count', 0, 3);
    const { page, errors } = await newPage(s.browser);

    // The count is its own request: rows show while it is held back.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/v1/jobs/count?*', async (route) => {
      await held;
      await route.continue();
    });
    await page.goto(`${s.url}/?selectedQueue=ui-count&dateRange=7d&live=0`);
    await waitRows(page, (n) => n.length === 3, 'the rows, before the count');
    expect(await page.$('[data-testid=match-count]'), 'no count yet').to.equal(null);
    release();
    await page.waitForSelector('[data-testid=match-count][data-exact=true]:has-text("3 matching jobs")');
    await page.unroute('**/api/v1/jobs/count?*');

    // Refresh brings the list and the count up to date together.
    await add('ui-count', 3, 1);
    await page.click('[data-testid=refresh]');
    await waitRows(page, (n) => n.length === 4, 'the new job listed');
    await page.waitForSelector('[data-testid=match-count]:has-text("4 matching jobs")');
    await page.fill('input[aria-label="Search jobs"]', 'ui-count-job-3');
    await page.waitForSelector('[data-testid=match-count]:has-text("1 matching job")');

    // More than the exact bound: Postgres's estimate, rounded, said to be one.
    await add('ui-count-many', 0, 10_001);
    await page.goto(`${s.url}/?selectedQueue=ui-count-many&dateRange=7d&live=0`);
    await waitRows(page, (n) => n.length === 100, 'the first page of the many');
    await page.waitForSelector('[data-testid=match-count][data-exact=false]');
    const text = (await page.textContent('[data-testid=match-count]')) ?? '';
    expect(text).to.match(/^about [\d,]+ matching jobs$/);
    expect(Number(text.replace(/\D/g, ''))).to.be.at.least(10_000);
    await screenshot(page, 'jobs-count-estimate');
    expect(errors).to.deep.equal([]);
    await page.close();
  });
});
