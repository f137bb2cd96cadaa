/**
 * Array jobs on the Jobs page in a real browser: the parent shows its
 * children's progress ("2/3 succeeded, 1 failed") and expands to the children.
 */
import { expect } from 'chai';
import { newPage } from './browser';
import { startUiStack, type UiStack } from './stack';

describe('UI: array jobs on the Jobs page', function () {
  this.timeout(180_000);
  let s: UiStack;
  before(async () => {
    s = await startUiStack({
      activate: ['ui-arrq'],
      setup: (sim) => {
        sim.model.createComputeEnvironment({ name: 'ui-arr-ce', instances: 1, instanceVcpus: 2 });
        sim.model.createJobQueue({ name: 'ui-arrq', computeEnvironments: ['ui-arr-ce'] });
      },
    });
  });
  after(async () => s?.close());

  it("shows an array parent's progress and expands it to its children", async () => {
    const sim = s.stack.sim.model;
    const { jobId } = sim.submitJob({ jobName: 'array-progress', jobQueue: 'ui-arrq', arraySize: 3, vcpus: 1, plan: { outcome: 'SUCCEEDED', runSeconds: 60, failChildren: [1] } });
    sim.advance(15_000);
    sim.advance(80_000); // every child done: 0 and 2 succeeded, 1 failed
    await s.waitForJob(`${jobId}:0`, { status: 'SUCCEEDED' });
    await s.waitForJob(`${jobId}:1`, { status: 'FAILED' });
    await s.waitForJob(`${jobId}:2`, { status: 'SUCCEEDED' });
    const { page, errors } = await newPage(s.browser);
    await page.goto(`${s.url}/?selectedQueue=ui-arrq`);
    const progress = `[data-testid=jobs-table] tr:has(button[aria-label="Show the children of ${jobId}"]) [data-testid=array-progress]`;
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === '2/3 succeeded, 1 failed', progress, { timeout: 60_000 });
    await page.click(`button[aria-label="Show the children of ${jobId}"]`);
    // The children's rows, not the "Loading children" row that comes first (it is a row-child too).
    await page.waitForSelector('[data-testid=jobs-table] tr.row-child a.mono');
    const children = await page.$$eval('[data-testid=jobs-table] tr.row-child a.mono', (as) => as.map((a) => a.getAttribute('title')));
    expect(children).to.deep.equal([`${jobId}:0`, `${jobId}:1`, `${jobId}:2`]);
    await page.click(`button[aria-label="Hide the children of ${jobId}"]`);
    await page.waitForSelector('[data-testid=jobs-table] tr.row-child', { state: 'detached' });
    expect(errors).to.deep.equal([]);
    await page.close();
  });
});
