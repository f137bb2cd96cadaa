/**
 * A multi-node job's node logs in the job page's own log viewer, in a real
 * browser against the demo stack: the main node's log first, a node row's
 * link opens that node's log (and only its lines), the URL keeps the node so
 * the view can be shared, and a node the job does not have is an error.
 */
import { expect } from 'chai';
import { newPage, screenshot } from './browser';
import { startUiStack, type UiStack } from './stack';

const MAIN_LINES = ['main: waiting for 3 ranks', 'main: allreduce finished'];
const NODE2_LINES = ['rank 2: loaded shard 2', 'rank 2: <b>gradient</b> sent'];

describe('UI: a multi-node job\'s node logs', function () {
  this.timeout(120_000);
  let s: UiStack;
  let id: string;

  before(async () => {
    s = await startUiStack({
      activate: ['ui-mnpq'],
      setup: (sim) => {
        sim.model.createComputeEnvironment({ name: 'ui-mnp-ce', instances: 2, instanceVcpus: 16 });
        sim.model.createJobQueue({ name: 'ui-mnpq', computeEnvironments: ['ui-mnp-ce'] });
      },
    });
    const sim = s.stack.sim.model;
    id = sim.submitJob({
      jobName: 'mnp-logs',
      jobQueue: 'ui-mnpq',
      multiNode: true,
      numNodes: 3,
      plan: { outcome: 'SUCCEEDED', runSeconds: 20, nodeLogLines: [MAIN_LINES, ['rank 1: loaded shard 1'], NODE2_LINES] },
    }).jobId;
    for (let i = 0; i < 4; i++) sim.advance(20_000);
    await s.waitForJob(id, { status: 'SUCCEEDED' });
  });
  after(async () => s?.close());

  const logText = (page: import('playwright-core').Page) => page.textContent('[data-testid=job-log]').then((t) => t ?? '');

  it("shows the main node's log, then a node's own log from its row, with the node in the URL and the header", async () => {
    const { page, errors } = await newPage(s.browser);
    await page.goto(`${s.url}/job/${id}`);
    await page.waitForSelector('[data-testid=log-node]:has-text("node #0 (main)")');
    await page.waitForFunction((line) => document.querySelector('[data-testid=job-log]')?.textContent?.includes(line), MAIN_LINES[1]);
    expect(await page.evaluate(() => window.scrollY), 'no node chosen: the page opens at its top').to.equal(0);

    await page.click('[data-testid=nodes] tbody tr:nth-child(3) [data-testid=node-log-view]');
    await page.waitForSelector('[data-testid=log-node]:has-text("node #2")');
    await page.waitForFunction((line) => document.querySelector('[data-testid=job-log]')?.textContent?.includes(line), NODE2_LINES[0]);
    expect(new URL(page.url()).searchParams.get('node')).to.equal('2');
    expect(await page.textContent('[data-testid=log-node]')).to.not.contain('main');
    const log = await logText(page);
    expect(log).to.contain(NODE2_LINES[1]); // markup in a line is text
    for (const line of MAIN_LINES) expect(log).to.not.contain(line);
    expect(await page.$$('[data-testid=job-log] b')).to.have.length(0);
    expect(await page.getAttribute('[data-testid=nodes] tbody tr:nth-child(3) [data-testid=node-log-view]', 'aria-current')).to.equal('true');
    await screenshot(page, 'job-node-log');

    await page.goBack(); // the main node's log again
    await page.waitForSelector('[data-testid=log-node]:has-text("node #0 (main)")');
    await page.waitForFunction((line) => document.querySelector('[data-testid=job-log]')?.textContent?.includes(line), MAIN_LINES[0]);
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it("opens a shared node URL on that node's log, and says so for a node the job does not have", async () => {
    const { page, errors } = await newPage(s.browser, 1280, 600); // the log starts below the fold
    await page.goto(`${s.url}/job/${id}?node=1`);
    await page.waitForSelector('[data-testid=log-node]:has-text("node #1")');
    await page.waitForFunction(() => document.querySelector('[data-testid=job-log]')?.textContent?.includes('rank 1: loaded shard 1'));
    // A chosen node's log is brought into sight (it sits below the job's fields and the Nodes table).
    const headTop = await page.$eval('[data-testid=log-node]', (el) => el.getBoundingClientRect().top);
    expect(headTop).to.be.within(0, await page.evaluate(() => window.innerHeight));
    expect(await page.evaluate(() => window.scrollY)).to.be.greaterThan(0);
    const log = await logText(page);
    for (const line of [...MAIN_LINES, ...NODE2_LINES]) expect(log).to.not.contain(line);

    await page.goto(`${s.url}/job/${id}?node=7`);
    await page.waitForSelector('.log-panel [role=alert]');
    expect(await page.textContent('.log-panel [role=alert]')).to.contain('no node 7');
    expect(errors).to.deep.equal([]);
    await page.close();
  });
});
