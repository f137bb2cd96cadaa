import { newPage } from '../test/ui/browser';
import { startUiStack } from '../test/ui/stack';
describe('dbg', function () {
  this.timeout(200_000);
  it('x', async () => {
    const s = await startUiStack({ activate: ['ui-jobq'], setup: (sim) => { sim.model.createComputeEnvironment({ name: 'ui-ce', instances: 4, instanceVcpus: 16 }); sim.model.createJobQueue({ name: 'ui-jobq', computeEnvironments: ['ui-ce'] }); } });
    try {
      const sim = s.stack.sim.model;
      const lines = Array.from({ length: 1_000_000 }, (_, i) => `line ${i + 1} of a chatty job`);
      const { jobId } = sim.submitJob({ jobName: 'chatty-job', jobQueue: 'ui-jobq', plan: { outcome: 'SUCCEEDED', runSeconds: 5, logLines: lines } });
      sim.advance(30_000);
      await s.waitForJob(jobId, { status: 'SUCCEEDED' });
      const { page, errors } = await newPage(s.browser);
      page.on('console', (m) => console.log('console', m.text()));
      await page.goto(`${s.url}/job/${jobId}`);
      await page.waitForSelector('[data-testid=log-count]:has-text("1,000,000 lines")', { timeout: 90_000 });
      await page.goto(`${s.url}/job/${jobId}#L654321`);
      for (let i = 0; i < 10; i++) {
        console.log(await page.evaluate(() => [location.href, document.querySelector('[data-testid=job-log]')?.scrollTop, document.querySelector('.log-line.target')?.outerHTML]));
        await new Promise((r) => setTimeout(r, 500));
      }
      console.log(errors);
    } finally { await s.close(); }
  });
});
