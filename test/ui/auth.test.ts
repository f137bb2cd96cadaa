/**
 * The UI under `auth_mode = "tokens"`: a 401 asks for a token, the token is
 * kept and sent (API and status WebSocket), and a viewer who tries to
 * terminate is told it takes an operator.
 */
import { expect } from 'chai';
import { newPage } from './browser';
import { startUiStack, type UiStack } from './stack';

describe('UI: token authentication', function () {
  this.timeout(120_000);
  let s: UiStack;
  let jobId = '';

  before(async () => {
    s = await startUiStack({
      activate: ['ui-auth'],
      config: {
        auth_mode: 'tokens',
        auth_tokens: [
          { token: 'viewer-secret-token', role: 'viewer', name: 'vera' },
          { token: 'operator-secret-token', role: 'operator', name: 'otto' },
        ],
      },
      setup: (sim) => {
        sim.model.createComputeEnvironment({ name: 'ui-ce', instances: 2, instanceVcpus: 16 });
        sim.model.createJobQueue({ name: 'ui-auth', computeEnvironments: ['ui-ce'] });
      },
    });
    jobId = s.stack.sim.model.submitJob({ jobName: 'guarded-job', jobQueue: 'ui-auth', plan: { runSeconds: 3600 } }).jobId;
    s.stack.sim.model.advance(15_000);
    await s.waitForJob(jobId, { status: 'RUNNING' });
  });
  after(async () => s?.close());

  it('asks for a token on 401, then shows the jobs and follows a job live with it', async () => {
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/`);
    await page.waitForSelector('.state-error:has-text("Sign-in needed")');
    await page.fill('input[aria-label="API token"]', 'viewer-secret-token');
    await page.click('button:has-text("Use token")');
    await page.waitForSelector(`tr[data-job-id="${jobId}"]`);

    // Kept in this browser: the job page (API and WebSocket) works without asking again.
    await page.goto(`${s.url}/job/${jobId}`);
    await page.waitForSelector('[data-testid=live-indicator].live-live');
    expect(await page.textContent('[data-testid=job-name]')).to.equal('guarded-job');
    await page.close();
  });

  it('tells a viewer that terminating needs an operator, and lets an operator do it', async () => {
    const { page } = await newPage(s.browser);
    await page.goto(`${s.url}/`);
    await page.evaluate(() => localStorage.setItem('batchiepatchie.token', 'viewer-secret-token'));
    await page.goto(`${s.url}/job/${jobId}`);
    await page.click('[data-testid=terminate-job]');
    await page.click('[data-testid=confirm-button]');
    await page.waitForSelector('dialog.confirm .state-error:has-text("Not allowed")');
    expect(await page.textContent('dialog.confirm .state-error')).to.contain('operator');
    expect((await s.tdb.db('jobs').where({ job_id: jobId }).first('termination_requested')).termination_requested).to.equal(false);

    await page.evaluate(() => localStorage.setItem('batchiepatchie.token', 'operator-secret-token'));
    await page.reload();
    await page.click('[data-testid=terminate-job]');
    await page.click('[data-testid=confirm-button]');
    await page.waitForSelector('[data-testid=kill-results]');
    expect((await s.tdb.db('jobs').where({ job_id: jobId }).first('termination_requested')).termination_requested).to.equal(true);
    await page.close();
  });
});
