/**
 * Job page in a real browser against the demo stack: the log (followed while
 * the job runs), the status changing live over the WebSocket without a reload,
 * HTML in a log line shown as text, TERMINATED for exit 137, array children,
 * terminating from the page, following and downloading the log, and paging
 * through an array job's children.
 */
import { expect } from 'chai';
import { cutOff, horizontalOverflow, newPage, screenshot } from './browser';
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

  it('draws a 1,000,000-line log virtually: search highlights every match, Prev/Next, filter, link to a line', async () => {
    const sim = s.stack.sim.model;
    const N = 1_000_000;
    // Every 100,000th line says "checkpoint" twice, so a search has 10 matching lines of 2 matches each.
    const lines = Array.from({ length: N }, (_, i) => (i % 100_000 === 99_999 ? `line ${i + 1} CHECKPOINT ${i + 1} checkpoint` : `line ${i + 1} of a chatty job`));
    const { jobId } = sim.submitJob({ jobName: 'chatty-job', jobQueue: 'ui-jobq', plan: { outcome: 'SUCCEEDED', runSeconds: 5, logLines: lines } });
    sim.advance(30_000);
    await s.waitForJob(jobId, { status: 'SUCCEEDED' });
    const { page, errors } = await newPage(s.browser);
    await page.goto(`${s.url}/job/${jobId}`);
    await page.waitForSelector('[data-testid=log-count]:has-text("1,000,000 lines")', { timeout: 90_000 });
    expect(await page.textContent('[data-testid=log-count]')).to.equal('1,000,000 lines'); // whole log read, no ellipsis
    const rows = await page.$$eval('[data-testid=job-log] .log-line', (els) => els.length);
    expect(rows, 'only the lines on screen (and a margin) are in the DOM').to.be.within(10, 200);

    // The last line is reachable by scrolling.
    await page.$eval('[data-testid=job-log]', (el) => (el.scrollTop = el.scrollHeight));
    await page.waitForSelector('[data-testid=job-log] .log-line[data-line="1000000"]');
    expect(await page.textContent('[data-testid=job-log] .log-line[data-line="1000000"] .lt')).to.equal('line 1000000 CHECKPOINT 1000000 checkpoint');

    // Search: every match on a matching line highlighted; Next and Prev walk the 10 lines, wrapping.
    await page.fill('input[aria-label="Search the log"]', 'checkpoint');
    await page.waitForSelector('[data-testid=search-count]:has-text("1 of 10")');
    await page.waitForSelector('.log-line.current[data-line="100000"]');
    expect(await page.$$eval('.log-line.current mark', (ms) => ms.map((m) => m.textContent))).to.deep.equal(['CHECKPOINT', 'checkpoint']);
    await page.click('[data-testid=search-next]');
    await page.waitForSelector('[data-testid=search-count]:has-text("2 of 10")');
    await page.waitForSelector('.log-line.current[data-line="200000"]');
    await page.press('input[aria-label="Search the log"]', 'Shift+Enter');
    await page.press('input[aria-label="Search the log"]', 'Shift+Enter');
    await page.waitForSelector('[data-testid=search-count]:has-text("10 of 10")');
    await page.waitForSelector('.log-line.current[data-line="1000000"]');
    expect(await page.$$eval('.log-line:not(.current) mark', (ms) => ms.length), 'no other line on screen matches').to.equal(0);
    await screenshot(page, 'job-log-search');

    // The filter narrows the lines; search then walks within them.
    await page.fill('input[aria-label="Filter log lines"]', 'line 12345');
    await page.waitForSelector('[data-testid=log-matches]:has-text("11 matching")'); // line 12345 and lines 123450…123459
    await page.fill('input[aria-label="Filter log lines"]', '');
    await page.fill('input[aria-label="Search the log"]', '');
    await page.waitForSelector('[data-testid=search-count]', { state: 'detached' });
    await page.waitForSelector('[data-testid=log-matches]', { state: 'detached' });

    // A link to a line: the line-number link sets #L…, and opening that URL shows the line marked.
    await page.goto(`${s.url}/job/${jobId}#L654321`);
    await page.waitForSelector('.log-line.target[data-line="654321"]', { timeout: 90_000 });
    expect(await page.textContent('.log-line.target .lt')).to.equal('line 654321 of a chatty job');
    await page.click('.log-line[data-line="654330"] a.ln');
    await page.waitForSelector('.log-line.target[data-line="654330"]');
    expect(new URL(page.url()).hash).to.equal('#L654330');
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it('follows a running log by fetching only new events, and shows CloudWatch times on demand', async () => {
    const sim = s.stack.sim.model;
    const lines = Array.from({ length: 100 }, (_, i) => `follow line ${i + 1}`);
    const { jobId } = sim.submitJob({ jobName: 'followed', jobQueue: 'ui-jobq', plan: { outcome: 'SUCCEEDED', runSeconds: 101, logLines: lines } });
    sim.advance(10_000 + 20_000); // RUNNABLE→RUNNING, then ~20 lines
    await s.waitForJob(jobId, { status: 'RUNNING' });
    const { page, errors } = await newPage(s.browser);
    const reads: { after: string | null; body: string; next: string | null }[] = [];
    page.on('response', (res) => {
      const url = new URL(res.url());
      if (!url.pathname.endsWith('/logs')) return;
      void res.text().then((body) => reads.push({ after: url.searchParams.get('after'), body, next: res.headers()['x-next-forward-token'] ?? null }));
    });
    await page.goto(`${s.url}/job/${jobId}`);
    await page.waitForSelector('.log-line[data-line="1"]');
    const countText = async () => Number(((await page.textContent('[data-testid=log-count]')) ?? '').replace(/[^0-9]/g, ''));
    const firstCount = await countText();
    expect(firstCount).to.be.above(0);
    expect(reads[0].after, 'the first read starts at the head').to.equal('');

    sim.advance(30_000); // ~30 more lines
    const target = firstCount + 20;
    await page.waitForSelector(`.log-line[data-line="${target}"]`, { timeout: 30_000 });
    // Each later read asked for the events after the token the previous one returned, and got only those.
    const later = reads.slice(1);
    expect(later.length).to.be.above(0);
    for (let i = 0; i < later.length; i++) {
      expect(later[i].after, `read ${i + 1} continues from the last token`).to.equal(reads[i].next);
      for (const line of later[i].body.split('\n').filter(Boolean)) {
        const n = Number(/follow line (\d+)/.exec(line)?.[1]);
        expect(n, 'only lines not read before').to.be.above(firstCount);
      }
    }
    const shown = await page.$$eval('.log-line .lt', (els) => els.map((e) => e.textContent));
    expect(new Set(shown).size, 'no line twice').to.equal(shown.length);

    // Times on demand: each line gets its CloudWatch timestamp.
    await page.check('[data-testid=log-timestamps]');
    await page.waitForSelector('.log-line .ts');
    expect(await page.textContent('.log-line .ts')).to.match(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(errors).to.deep.equal([]);
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
    const { jobId } = sim.submitJob({ jobName: 'array-job', jobQueue: 'ui-jobq', arraySize: 3, plan: { outcome: 'SUCCEEDED', runSeconds: 600, failChildren: [1] } });
    sim.advance(15_000);
    await s.waitForJob(`${jobId}:2`);
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/job/${jobId}`);
    await page.waitForSelector('[data-testid=array-children] tbody tr');
    const children = await page.$$eval('[data-testid=array-children] tbody tr td:nth-child(2)', (tds) => tds.map((t) => t.textContent));
    expect(children).to.deep.equal([`${jobId}:0`, `${jobId}:1`, `${jobId}:2`]);
    await screenshot(page, 'job-array');

    // Filter the children by status: the failed one alone.
    sim.advance(700_000);
    await s.waitForJob(`${jobId}:1`, { status: 'FAILED' });
    await s.waitForJob(`${jobId}:2`, { status: 'SUCCEEDED' });
    await page.reload();
    await page.waitForSelector('[data-testid=children-filter] button[data-status=FAILED]', { timeout: 30_000 });
    await page.click('[data-testid=children-filter] button[data-status=FAILED]');
    expect(await page.$$eval('[data-testid=array-children] tbody tr td:nth-child(2)', (tds) => tds.map((t) => t.textContent))).to.deep.equal([`${jobId}:1`]);
    await page.click('[data-testid=children-filter] button:has-text("All")');

    // A child links back to its parent.
    await page.click(`text=${jobId}:1`);
    await page.waitForSelector(`a[href="/job/${encodeURIComponent(jobId)}"]`);
    await page.close();
  });

  it('links to the job in the AWS Batch console and its log in CloudWatch, region-aware, and explains the exit code', async () => {
    const sim = s.stack.sim.model;
    const { jobId } = sim.submitJob({ jobName: 'oom-explained', jobQueue: 'ui-jobq', plan: { outcome: 'FAILED', exitCode: 137, runSeconds: 2 } });
    sim.advance(20_000);
    await s.waitForJob(jobId, { status: 'FAILED' });
    const { page, errors } = await newPage(s.browser);
    await page.goto(`${s.url}/job/${jobId}`);
    await page.waitForSelector('[data-testid=console-logs]');
    const row = await s.tdb.db('jobs').where({ job_id: jobId }).first('log_stream_name', 'task_arn');
    expect(row.task_arn).to.match(/^arn:aws:ecs:us-east-1:/);
    expect(await page.getAttribute('[data-testid=console-batch]', 'href')).to.equal(
      `https://us-east-1.console.aws.amazon.com/batch/home?region=us-east-1#jobs/detail/${jobId}`,
    );
    const stream = encodeURIComponent(row.log_stream_name).replace(/%/g, '$25');
    expect(await page.getAttribute('[data-testid=console-logs]', 'href')).to.equal(
      `https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/$252Faws$252Fbatch$252Fjob/log-events/${stream}`,
    );
    expect(await page.getAttribute('[data-testid=console-batch]', 'target')).to.equal('_blank');
    expect(await page.textContent('[data-testid=exit-explained]')).to.contain('SIGKILL').and.contain('memory');
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it('shows each attempt, dependencies both ways (linked, with statuses), and a multi-node job with each node and its log', async () => {
    const sim = s.stack.sim.model;
    const first = sim.submitJob({ jobName: 'upstream', jobQueue: 'ui-jobq', plan: { outcome: 'SUCCEEDED', runSeconds: 3600 } }).jobId;
    const waiting = sim.submitJob({ jobName: 'downstream', jobQueue: 'ui-jobq', dependsOn: [first], plan: { outcome: 'SUCCEEDED', runSeconds: 10 } }).jobId;
    const retried = sim.submitJob({ jobName: 'flaky', jobQueue: 'ui-jobq', retryAttempts: 3, plan: { outcome: 'SUCCEEDED', runSeconds: 5, failAttempts: 1 } }).jobId;
    const mnp = sim.submitJob({ jobName: 'mnp-train', jobQueue: 'ui-jobq', multiNode: true, numNodes: 3, plan: { outcome: 'SUCCEEDED', runSeconds: 3600 } }).jobId;
    sim.advance(20_000);
    sim.advance(20_000);
    sim.advance(20_000);
    await s.waitForJob(waiting);
    await s.waitForJob(retried, { status: 'SUCCEEDED' });
    await s.waitForJob(mnp, { status: 'RUNNING' });
    const { page, errors } = await newPage(s.browser);

    // Follow the chain down and back up: each direction linked, each job with its status.
    await page.goto(`${s.url}/job/${waiting}`);
    await page.waitForSelector(`[data-testid=waits-on] li[data-job-id="${first}"] [data-status=RUNNING]`);
    expect(await page.textContent(`[data-testid=waits-on] li[data-job-id="${first}"]`)).to.contain('upstream');
    await page.waitForSelector('[data-testid=waited-on-by-empty]');
    await screenshot(page, 'job-dependencies');
    await page.click(`[data-testid=waits-on] a:has-text("${first}")`);
    await page.waitForSelector('[data-testid=job-name]:has-text("upstream")');
    // "Waited on by" is the mirror's alone (AWS cannot say it): the sync stored the dependency.
    await page.waitForSelector(`[data-testid=waited-on-by] li[data-job-id="${waiting}"] [data-status=PENDING]`);
    expect(await page.textContent(`[data-testid=waited-on-by] li[data-job-id="${waiting}"]`)).to.contain('downstream');
    await page.waitForSelector('[data-testid=waits-on-empty]');
    await page.click(`[data-testid=waited-on-by] a:has-text("${waiting}")`);
    await page.waitForSelector('[data-testid=job-name]:has-text("downstream")');

    // On a 390 px phone the Dependencies panel (long job ids, statuses) scrolls nothing sideways, both directions.
    const { page: phone } = await newPage(s.browser, 390, 844);
    for (const [id, list] of [[waiting, 'waits-on'], [first, 'waited-on-by']] as const) {
      await phone.goto(`${s.url}/job/${id}`);
      await phone.waitForSelector(`[data-testid=${list}] li [data-status]`);
      await screenshot(phone, `phone-job-${list}`);
      expect(await horizontalOverflow(phone), `${list}: sideways scroll`).to.equal(0);
      // The fields break at spaces: "x ago" beside a time is never split mid-word onto two lines.
      expect(await phone.$eval('[data-testid=created-ago]', (el) => el.getClientRects().length), `${list}: "ago" on one line`).to.equal(1);
      expect(await cutOff(phone, `[data-testid=${list}] a, [data-testid=${list}] [data-status]`), `${list}: cut off`).to.deep.equal([]);
    }
    await phone.close();

    await page.goto(`${s.url}/job/${retried}`);
    await page.waitForSelector('[data-testid=attempts] tbody tr');
    const attempts = await page.$$eval('[data-testid=attempts] tbody tr', (trs) => trs.map((tr) => tr.querySelectorAll('td')[3].textContent));
    expect(attempts, 'a failed attempt, then the one that succeeded').to.have.length(2);
    expect(attempts[1]).to.equal('0');
    expect(attempts[0]).to.not.equal('0');

    await page.goto(`${s.url}/job/${mnp}`);
    await page.waitForSelector('[data-testid=nodes] tbody tr');
    const nodes = await page.$$eval('[data-testid=nodes] tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
    expect(nodes).to.deep.equal(['#0 (main)', '#1', '#2']);
    // Each node of a running multi-node job has its own log stream (test/ui/nodeLogs.test.ts reads them).
    expect(await page.$$eval('[data-testid=nodes] tbody tr', (trs) => trs.map((tr) => Boolean(tr.querySelector('[data-testid=node-log]'))))).to.deep.equal([true, true, true]);
    expect(errors).to.deep.equal([]);
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
    expect(await page.textContent('[data-testid=kill-results]')).to.contain('Termination requested for 1 job');
    expect((await s.tdb.db('jobs').where({ job_id: jobId }).first('termination_requested')).termination_requested).to.equal(true);
    // The simulator stops a RUNNING job at once, and the pipeline may mirror FAILED before the page
    // re-reads the job: the notice shows only while the page still has it running.
    await page.waitForSelector(
      '.notice:has-text("Termination was requested"), [data-testid=job-status] [data-status=FAILED], [data-testid=job-status] [data-status=TERMINATED]',
    );
    expect(sim.getJob(jobId)?.status).to.be.oneOf(['RUNNING', 'FAILED']);
    sim.advance(5_000);
    await s.waitForJob(jobId, { status: 'FAILED' });
    await page.waitForSelector('[data-testid=job-status] [data-status=FAILED], [data-testid=job-status] [data-status=TERMINATED]', { timeout: 30_000 });
    await page.close();
  });

  it('keeps a followed log at its bottom, lets Follow off hold the view, and downloads the whole log', async () => {
    const sim = s.stack.sim.model;
    const lines = Array.from({ length: 200 }, (_, i) => `download line ${i + 1}`);
    const { jobId } = sim.submitJob({ jobName: 'downloaded', jobQueue: 'ui-jobq', plan: { outcome: 'SUCCEEDED', runSeconds: 201, logLines: lines } });
    sim.advance(10_000 + 60_000); // running, ~60 lines written: more than the box shows
    await s.waitForJob(jobId, { status: 'RUNNING' });
    const { page, errors } = await newPage(s.browser);
    await page.goto(`${s.url}/job/${jobId}`);
    await page.waitForSelector('.log-line');
    const atBottom = () =>
      page.evaluate(() => {
        const el = document.querySelector('[data-testid=job-log]') as HTMLElement;
        return el.scrollHeight > el.clientHeight && el.scrollTop + el.clientHeight >= el.scrollHeight - 2 * 18;
      });
    const countText = async () => Number(((await page.textContent('[data-testid=log-count]')) ?? '').replace(/[^0-9]/g, ''));

    // Follow (the default): new lines arrive and the view stays at the bottom.
    const before = await countText();
    sim.advance(30_000);
    await page.waitForFunction((n) => Number((document.querySelector('[data-testid=log-count]')?.textContent ?? '').replace(/[^0-9]/g, '')) > n, before, { timeout: 30_000 });
    await page.waitForFunction(() => {
      const el = document.querySelector('[data-testid=job-log]') as HTMLElement;
      return el.scrollTop + el.clientHeight >= el.scrollHeight - 2 * 18;
    }, null, { timeout: 30_000 });
    expect(await atBottom()).to.equal(true);

    // Follow off: the reader's position is theirs; on again: back to the bottom.
    await page.uncheck('[data-testid=log-follow]');
    await page.evaluate(() => ((document.querySelector('[data-testid=job-log]') as HTMLElement).scrollTop = 0));
    await page.waitForFunction(() => (document.querySelector('[data-testid=job-log]') as HTMLElement).scrollTop === 0);
    expect(await atBottom()).to.equal(false);
    await page.check('[data-testid=log-follow]');
    await page.waitForFunction(() => {
      const el = document.querySelector('[data-testid=job-log]') as HTMLElement;
      return el.scrollTop + el.clientHeight >= el.scrollHeight - 2 * 18;
    }, null, { timeout: 30_000 });

    // Finished: Download gives every line, in order, once.
    sim.advance(200_000);
    await s.waitForJob(jobId, { status: 'SUCCEEDED' });
    await page.waitForSelector('[data-testid=job-status] [data-status=SUCCEEDED]', { timeout: 30_000 });
    await page.waitForFunction((n) => Number((document.querySelector('[data-testid=log-count]')?.textContent ?? '').replace(/[^0-9]/g, '')) >= n, lines.length, { timeout: 30_000 });
    expect(await countText()).to.equal(lines.length);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button:has-text("Download")')]);
    expect(download.suggestedFilename()).to.equal(`${jobId}.log`);
    const text = await new Promise<string>((resolve, reject) => {
      void download.createReadStream().then((stream) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        stream.on('error', reject);
      }, reject);
    });
    expect(text.split('\n').filter(Boolean)).to.deep.equal(lines);
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it("pages through an array job's children, 100 a page", async () => {
    const sim = s.stack.sim.model;
    const { jobId } = sim.submitJob({ jobName: 'wide-array', jobQueue: 'ui-jobq', arraySize: 150, plan: { outcome: 'SUCCEEDED', runSeconds: 600 } });
    sim.advance(15_000);
    await s.waitForJob(`${jobId}:149`);
    const { page, errors } = await newPage(s.browser);
    await page.goto(`${s.url}/job/${jobId}`);
    const ids = () => page.$$eval('[data-testid=array-children] tbody tr td:nth-child(2)', (tds) => tds.map((t) => t.textContent));
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=array-children] tbody tr').length === 100, null, { timeout: 30_000 });
    expect(await ids()).to.deep.equal(Array.from({ length: 100 }, (_, i) => `${jobId}:${i}`));
    expect(await page.textContent('[data-testid=array-children] .pager')).to.contain('Page 1 of 2').and.contain('150 children');
    await page.click('[data-testid=array-children] .pager button:has-text("Next")');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=array-children] tbody tr').length === 50);
    expect(await ids()).to.deep.equal(Array.from({ length: 50 }, (_, i) => `${jobId}:${100 + i}`));
    expect(await page.isDisabled('[data-testid=array-children] .pager button:has-text("Next")')).to.equal(true);
    await page.click('[data-testid=array-children] .pager button:has-text("Previous")');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=array-children] tbody tr').length === 100);
    expect(errors).to.deep.equal([]);
    await page.close();
  });
});
