import { ListJobsCommand } from '@aws-sdk/client-batch';
import { DescribeClustersCommand, ListClustersCommand, ListTasksCommand } from '@aws-sdk/client-ecs';
import { expect } from 'chai';
import { type TestSim, basicInfra, startTestSim } from './helpers';

describe('simulator: real clock, stopped tasks, clusters, and bad input never crashing', () => {
  let t: TestSim;
  let queue: string;
  afterEach(async () => t.close());

  it('moves jobs on the real clock at the configured speed, without anyone advancing it', async () => {
    t = await startTestSim({ clock: 'real', speed: 200 });
    ({ queue } = basicInfra(t.sim));
    const { jobId } = t.sim.model.submitJob({ jobName: 'by-itself', jobQueue: queue, plan: { runSeconds: 20 } });
    const started = Date.now();
    let status = t.sim.model.getJob(jobId)?.status;
    while (status !== 'SUCCEEDED' && Date.now() - started < 5000) {
      await new Promise((r) => setTimeout(r, 50));
      status = t.sim.model.getJob(jobId)?.status;
    }
    expect(status).to.equal('SUCCEEDED'); // ~35 simulated seconds = ~0.2 real seconds at 200x
    const listed = await t.aws.batch.send(new ListJobsCommand({ jobQueue: queue, jobStatus: 'SUCCEEDED' }));
    expect(listed.jobSummaryList?.map((j) => j.jobId)).to.deep.equal([jobId]);
  });

  it('lists stopped tasks (desiredStatus STOPPED) for an hour, and lists/describes clusters', async () => {
    t = await startTestSim();
    const infra = basicInfra(t.sim);
    queue = infra.queue;
    const ce = infra.ce;
    t.sim.model.submitJob({ jobName: 'brief', jobQueue: queue, plan: { runSeconds: 5 } });
    t.sim.model.advance(60_000);
    const cluster = t.sim.model.computeEnvironment(ce)?.ecsClusterArn as string;
    expect((await t.aws.ecs.send(new ListTasksCommand({ cluster }))).taskArns).to.deep.equal([]);
    expect((await t.aws.ecs.send(new ListTasksCommand({ cluster, desiredStatus: 'STOPPED' }))).taskArns).to.have.length(1);
    const clusters = await t.aws.ecs.send(new ListClustersCommand({}));
    expect(clusters.clusterArns).to.deep.equal([cluster]);
    const described = await t.aws.ecs.send(new DescribeClustersCommand({ clusters: [cluster, 'nope'] }));
    expect(described.clusters?.[0].registeredContainerInstancesCount).to.equal(2);
    expect(described.failures?.[0]).to.deep.include({ arn: 'nope', reason: 'MISSING' });
    t.sim.model.advance(3_700_000);
    expect((await t.aws.ecs.send(new ListTasksCommand({ cluster, desiredStatus: 'STOPPED' }))).taskArns).to.deep.equal([]);
  });

  it('serves many concurrent calls of every protocol, each answered and counted', async () => {
    t = await startTestSim();
    ({ queue } = basicInfra(t.sim));
    t.sim.model.bulkLoad({ queue, finished: 5000, active: 100 });
    const cluster = t.sim.model.computeEnvironment('ce-main')?.ecsClusterArn as string;
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      calls.push(t.aws.batch.send(new ListJobsCommand({ jobQueue: queue, jobStatus: 'SUCCEEDED' })));
      calls.push(t.aws.ecs.send(new ListTasksCommand({ cluster })));
      calls.push(fetch(`${t.sim.endpoint}/_sim/state`).then((r) => r.json()));
    }
    const results = await Promise.all(calls);
    expect(results).to.have.length(180);
    expect(t.sim.counters.get()).to.deep.equal({ 'Batch.ListJobs': 60, 'ECS.ListTasks': 60 });
  });

  it('answers malformed requests of every protocol with a 4xx in that protocol’s shape', async () => {
    t = await startTestSim();
    ({ queue } = basicInfra(t.sim));
    const e = t.sim.endpoint;
    const json11 = (target: string, body: string) =>
      fetch(`${e}/`, { method: 'POST', body, headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.1' } });
    const form = (body: string) => fetch(`${e}/`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const rest = (path: string, body: string) => fetch(`${e}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const cases: [string, Promise<Response>][] = [
      ['batch: wrong type', rest('/v1/listjobs', JSON.stringify({ jobQueue: 5 }))],
      ['batch: array body', rest('/v1/listjobs', '[]')],
      ['batch: bad token', rest('/v1/listjobs', JSON.stringify({ jobQueue: queue, nextToken: 'garbage' }))],
      ['batch: bad status', rest('/v1/listjobs', JSON.stringify({ jobQueue: queue, jobStatus: 'DONE' }))],
      ['batch: two targets', rest('/v1/listjobs', JSON.stringify({ jobQueue: queue, arrayJobId: 'x' }))],
      ['batch: unknown queue', rest('/v1/listjobs', JSON.stringify({ jobQueue: 'nope' }))],
      ['batch: GET', fetch(`${e}/v1/listjobs`)],
      ['batch: submit to unknown queue', rest('/v1/submitjob', JSON.stringify({ jobName: 'x', jobQueue: 'nope', jobDefinition: 'd' }))],
      ['batch: bad job name', rest('/v1/submitjob', JSON.stringify({ jobName: '-x y', jobQueue: queue, jobDefinition: 'd' }))],
      ['batch: terminate unknown', rest('/v1/terminatejob', JSON.stringify({ jobId: 'nope', reason: 'r' }))],
      ['ecs: array body', json11('AmazonEC2ContainerServiceV20141113.ListTasks', '[1]')],
      ['ecs: wrong type', json11('AmazonEC2ContainerServiceV20141113.DescribeTasks', JSON.stringify({ tasks: 'x' }))],
      ['ecs: bad token', json11('AmazonEC2ContainerServiceV20141113.ListClusters', JSON.stringify({ nextToken: '!!' }))],
      ['logs: wrong type', json11('Logs_20140328.GetLogEvents', JSON.stringify({ logGroupName: '/aws/batch/job', logStreamName: 5 }))],
      ['logs: limit too big', json11('Logs_20140328.DescribeLogStreams', JSON.stringify({ logGroupName: '/aws/batch/job', limit: 51 }))],
      ['ec2: bad MaxResults', form('Action=DescribeInstances&MaxResults=abc')],
      ['ec2: no action', form('Version=2016-11-15')],
      ['ec2: terminate without ids', form('Action=TerminateInstances')],
      ['s3: bad encoding', fetch(`${e}/bucket/%E0%A4%A`)],
    ];
    for (const [name, p] of cases) {
      const res = await p;
      const text = await res.text();
      expect(res.status, `${name}: ${text}`).to.be.within(400, 499);
      expect(text.length, name).to.be.greaterThan(0);
    }
    // Still serving.
    expect((await t.aws.batch.send(new ListJobsCommand({ jobQueue: queue }))).jobSummaryList).to.deep.equal([]);
  });
});
