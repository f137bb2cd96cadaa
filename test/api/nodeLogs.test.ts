/**
 * GET /api/v1/jobs/:id/logs?node=N: a node of a multi-node parallel job read
 * in the log viewer's API, its stream named by DescribeJobs of `<id>#<N>`,
 * against the simulator through the real SDK clients.
 */
import { expect } from 'chai';
import { DescribeJobsCommand } from '@aws-sdk/client-batch';
import { startSimulator, type SimulatorHandle } from 'aws-batch-simulator';
import { createAwsClients, type AwsClients } from '../../src/aws/clients';
import { mapJobDetail } from '../../src/pipeline/mapping';
import { getJson, insertJobs, job, startTestApi, type TestApi } from './helpers';

const LOG_GROUP = '/aws/batch/job';
const NODE_LINES = [['main: rank 0 ready', 'main: all reduced'], ['node 1: rank 1 ready', 'node 1: shard done'], ['node 2: rank 2 ready']];

describe('API: a multi-node job\'s node logs (simulator)', function () {
  this.timeout(60_000);
  let sim: SimulatorHandle;
  let t: TestApi;
  let aws: AwsClients;

  async function mirror(ids: string[]): Promise<void> {
    const out = await aws.batch.send(new DescribeJobsCommand({ jobs: ids }));
    await insertJobs(t.db, (out.jobs ?? []).map(mapJobDetail));
  }

  const logUrl = (id: string, query: string) => `${t.url}/api/v1/jobs/${id}/logs?format=text&${query}`;
  async function text(id: string, query: string): Promise<string> {
    const res = await fetch(logUrl(id, query));
    expect(res.status, await res.clone().text()).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
    return res.text();
  }

  /** A 3-node job that ran to the end, mirrored as the pipeline does (the parent only). */
  async function finishedMnp(name: string): Promise<string> {
    const { jobId } = sim.model.submitJob({
      jobName: name,
      jobQueue: 'q-nodes',
      multiNode: true,
      numNodes: 3,
      plan: { runSeconds: 30, nodeLogLines: NODE_LINES },
    });
    sim.model.advance(120_000);
    await mirror([jobId]);
    return jobId;
  }

  before(async () => {
    sim = await startSimulator({ port: 0, clock: 'manual', scenario: 'empty' });
    sim.model.createComputeEnvironment({ name: 'ce-nodes', instances: 2 });
    sim.model.createJobQueue({ name: 'q-nodes', computeEnvironments: ['ce-nodes'] });
    t = await startTestApi({ config: { aws_endpoint: sim.endpoint } });
    aws = createAwsClients({ region: 'us-east-1', aws_endpoint: sim.endpoint, maxAttempts: 1 });
  });
  after(async () => {
    aws.destroy();
    await t.close();
    await sim.stop();
  });

  it("reads each node's own stream, whole or in chunks, and not the main node's", async () => {
    const id = await finishedMnp('mnp-read');
    expect(await text(id, 'node=1')).to.equal('node 1: rank 1 ready\nnode 1: shard done\n');
    expect(await text(id, 'node=2')).to.equal('node 2: rank 2 ready\n');
    expect(await text(id, 'node=0')).to.equal('main: rank 0 ready\nmain: all reduced\n');
    const res = await fetch(logUrl(id, 'node=1&after='));
    expect(res.status).to.equal(200);
    expect(await res.text()).to.equal('node 1: rank 1 ready\nnode 1: shard done\n');
    expect(res.headers.get('x-next-forward-token')).to.be.a('string');
  });

  it('takes the stream from DescribeJobs, never from the mirror row', async () => {
    const id = await finishedMnp('mnp-truth');
    // A row that names some other stream (as a stale or forged row could) must not be read for a node.
    const decoy = 'decoy/default/0000';
    sim.model.logs.append(LOG_GROUP, decoy, sim.model.now(), 'decoy line', sim.model.now());
    await t.db('jobs').where({ job_id: id }).update({ log_stream_name: decoy });
    expect(await text(id, 'node=1')).to.equal('node 1: rank 1 ready\nnode 1: shard done\n');
    expect(await text(id, '')).to.equal('decoy line\n'); // without node: the job's own stream, as before
  });

  it('follows a running node from its forward token: only the lines written since', async () => {
    const lines = Array.from({ length: 10 }, (_, i) => `node 1 step ${i}`);
    const { jobId } = sim.model.submitJob({ jobName: 'mnp-follow', jobQueue: 'q-nodes', multiNode: true, numNodes: 2, plan: { runSeconds: 100, nodeLogLines: [['main'], lines] } });
    // Not started yet: the node has no stream, so no text and no token.
    await mirror([jobId]);
    const before = await fetch(logUrl(jobId, 'node=1&after='));
    expect(before.status).to.equal(200);
    expect(await before.text()).to.equal('');
    expect(before.headers.get('x-next-forward-token')).to.equal(null);

    sim.model.advance(12_000 + 40_000); // running for a while: some lines written
    const first = await fetch(logUrl(jobId, 'node=1&after='));
    const firstLines = (await first.text()).split('\n').filter(Boolean);
    expect(firstLines.length).to.be.within(1, lines.length - 1);
    expect(firstLines).to.deep.equal(lines.slice(0, firstLines.length));
    const token = first.headers.get('x-next-forward-token') as string;
    sim.model.advance(120_000);
    const next = await fetch(logUrl(jobId, `node=1&after=${encodeURIComponent(token)}`));
    expect((await next.text()).split('\n').filter(Boolean)).to.deep.equal(lines.slice(firstLines.length));
  });

  it('answers 400 for a malformed node index, with a JSON message naming the parameter', async () => {
    const id = await finishedMnp('mnp-bad');
    for (const bad of ['abc', '-1', '1.5', '01', '1000', '', 'node=1&node=2']) {
      const res = await getJson(logUrl(id, bad.startsWith('node=') ? bad : `node=${encodeURIComponent(bad)}`));
      expect(res.status, bad).to.equal(400);
      expect(res.body.error, bad).to.match(/node/);
    }
  });

  it('answers 404 for a node the job does not have, a job that is not multi-node, or one AWS forgot', async () => {
    const id = await finishedMnp('mnp-unknown');
    const past = await getJson(logUrl(id, 'node=3'));
    expect(past.status).to.equal(404);
    expect(past.body).to.deep.include({ id, node: 3, num_nodes: 3 });
    expect(past.body.error).to.match(/3 nodes \(0 to 2\): no node 3/);

    const { jobId: single } = sim.model.submitJob({ jobName: 'single', jobQueue: 'q-nodes', plan: { runSeconds: 5 } });
    sim.model.advance(60_000);
    await mirror([single]);
    const notMnp = await getJson(logUrl(single, 'node=0'));
    expect(notMnp.status).to.equal(404);
    expect(notMnp.body.error).to.match(/not a multi-node parallel job/);

    const forgotten = 'a0000000-0000-4000-8000-00000000d100';
    await insertJobs(t.db, [job({ job_id: forgotten, job_type: 'multinode' })]);
    const gone = await getJson(logUrl(forgotten, 'node=0'));
    expect(gone.status).to.equal(404);
    expect(gone.body.error).to.match(/no longer knows/);

    expect((await getJson(logUrl('a0000000-0000-4000-8000-00000000d199', 'node=0'))).status).to.equal(404);
  });

  it('answers 502 when DescribeJobs fails', async () => {
    const id = await finishedMnp('mnp-502');
    sim.faults.set({ errorRate: 1, operations: ['Batch.DescribeJobs'] });
    try {
      const res = await getJson(logUrl(id, 'node=1'));
      expect(res.status).to.equal(502);
      expect(res.body.error).to.match(/^AWS Batch DescribeJobs failed/);
    } finally {
      sim.faults.clear();
    }
  });
});
