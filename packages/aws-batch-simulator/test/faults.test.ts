import { ListJobsCommand, DescribeJobQueuesCommand } from '@aws-sdk/client-batch';
import { DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { type TestSim, basicInfra, rawPost, sdkClients, startTestSim } from './helpers';

describe('simulator: faults, counters, admin endpoint, unknown operations', () => {
  let t: TestSim;
  let queue: string;

  beforeEach(async () => {
    t = await startTestSim({}, { maxAttempts: 10 });
    ({ queue } = basicInfra(t.sim));
    t.sim.model.putObject('b', 'k', 'v');
  });
  afterEach(async () => t.close());

  it('throttles with each service’s real throttling shape, and the SDK’s own retry gets through', async function () {
    this.timeout(60_000);
    t.sim.model.submitJob({ jobName: 'x', jobQueue: queue, plan: { runSeconds: 1 } });
    t.sim.model.advance(30_000); // the job ran: the log group exists
    const cluster = t.sim.model.computeEnvironment('ce-main')?.ecsClusterArn as string;
    t.sim.faults.set({ throttleRate: 0.5 });
    t.sim.counters.reset();
    const calls = [
      () => t.aws.batch.send(new ListJobsCommand({ jobQueue: queue })),
      () => t.aws.ecs.send(new ListContainerInstancesCommand({ cluster })),
      () => t.aws.ec2.send(new DescribeInstancesCommand({})),
      () => t.aws.logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/batch/job' })),
      () => t.aws.s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' })),
    ];
    let retries = 0;
    for (let round = 0; round < 2; round++) {
      for (const call of calls) {
        const out = await call();
        expect(out.$metadata.httpStatusCode).to.equal(200);
        retries += (out.$metadata.attempts ?? 1) - 1;
      }
    }
    const counts = t.sim.counters.get();
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const faults = t.sim.counters.faults();
    const throttled = Object.values(faults).reduce((a, f) => a + f.throttle, 0);
    // The fault happened, and every throttled attempt is one SDK retry: 10 successes + the throttled ones.
    expect(throttled, 'calls throttled').to.be.greaterThan(0);
    expect(Object.values(faults).every((f) => f.error === 0)).to.equal(true);
    expect(retries).to.equal(throttled);
    expect(total).to.equal(10 + throttled);
    const log = t.sim.counters.calls();
    expect(log).to.have.length(total);
    expect(log.filter((c) => c.fault === 'throttle')).to.have.length(throttled);
    expect(Object.keys(counts).sort()).to.deep.equal(['Batch.ListJobs', 'EC2.DescribeInstances', 'ECS.ListContainerInstances', 'Logs.DescribeLogStreams', 'S3.GetObject']);
  });

  it('answers throttled calls with 429 TooManyRequestsException (Batch), 400 ThrottlingException (ECS/Logs), 503 RequestLimitExceeded (EC2)', async () => {
    t.sim.faults.set({ throttleRate: 1 });
    const batch = await rawPost(t.sim.endpoint, '/v1/listjobs', JSON.stringify({ jobQueue: queue }));
    expect(batch.status).to.equal(429);
    expect(batch.headers.get('x-amzn-errortype')).to.equal('TooManyRequestsException');
    const ecs = await rawPost(t.sim.endpoint, '/', '{}', { 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.ListTasks', 'content-type': 'application/x-amz-json-1.1' });
    expect(ecs.status).to.equal(400);
    expect(JSON.parse(ecs.text).__type).to.equal('ThrottlingException');
    const logs = await rawPost(t.sim.endpoint, '/', '{}', { 'x-amz-target': 'Logs_20140328.GetLogEvents', 'content-type': 'application/x-amz-json-1.1' });
    expect(JSON.parse(logs.text).__type).to.equal('ThrottlingException');
    const ec2 = await rawPost(t.sim.endpoint, '/', 'Action=DescribeInstances&Version=2016-11-15', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(ec2.status).to.equal(503);
    expect(ec2.text).to.contain('<Code>RequestLimitExceeded</Code>');
  });

  it('surfaces 500 errors after the SDK’s retries, counting every attempt; faults can target one operation', async () => {
    const oneShot = sdkClients(t.sim.endpoint, { region: 'us-east-1', maxAttempts: 2 });
    try {
      t.sim.faults.set({ errorRate: 1, operations: ['Batch.ListJobs'] });
      t.sim.counters.reset();
      let err: { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
      try {
        await oneShot.batch.send(new ListJobsCommand({ jobQueue: queue }));
      } catch (e) {
        err = e as typeof err;
      }
      expect(err?.name).to.equal('ServerException');
      expect(err?.$metadata?.httpStatusCode).to.equal(500);
      expect(t.sim.counters.get()['Batch.ListJobs']).to.equal(2);
      expect(t.sim.counters.faults()).to.deep.equal({ 'Batch.ListJobs': { throttle: 0, error: 2 } });
      // Other operations are untouched.
      const q = await oneShot.batch.send(new DescribeJobQueuesCommand({}));
      expect(q.jobQueues).to.have.length(1);
      expect(t.sim.counters.get()['Batch.DescribeJobQueues']).to.equal(1);
      // A whole service at once.
      t.sim.faults.set({ errorRate: 1, operations: ['EC2.*'] });
      let ec2Err: { name?: string } | undefined;
      try {
        await oneShot.ec2.send(new DescribeInstancesCommand({}));
      } catch (e) {
        ec2Err = e as typeof ec2Err;
      }
      expect(ec2Err?.name).to.equal('InternalError');
      expect((await oneShot.batch.send(new DescribeJobQueuesCommand({}))).jobQueues).to.have.length(1);
    } finally {
      oneShot.destroy();
    }
  });

  it('slows calls down by delayMs, and logs each call with its times', async () => {
    t.sim.faults.set({ delayMs: 150 });
    t.sim.counters.reset();
    const started = performance.timeOrigin + performance.now();
    await t.aws.batch.send(new DescribeJobQueuesCommand({}));
    const [call] = t.sim.counters.calls();
    expect(call.operation).to.equal('Batch.DescribeJobQueues');
    expect(call.fault).to.equal(null);
    expect(call.startedAt).to.be.at.least(started);
    // Timers count whole milliseconds of the event loop's clock: measured
    // with performance.now() a 150 ms timer may end up to 1 ms sooner.
    expect(call.endedAt - call.startedAt).to.be.at.least(149);
  });

  it('sets faults, reads and resets counters, advances the clock and submits jobs over the admin endpoint', async () => {
    const e = t.sim.endpoint;
    const put = await fetch(`${e}/_sim/faults`, { method: 'PUT', body: JSON.stringify({ throttleRate: 0.25, operations: ['Batch.ListJobs'] }) });
    expect(await put.json()).to.deep.equal({ throttleRate: 0.25, errorRate: 0, delayMs: 0, lossRate: 0, duplicateRate: 0, reorderRate: 0, operations: ['Batch.ListJobs'] });
    expect(t.sim.faults.get().throttleRate).to.equal(0.25);
    const bad = await fetch(`${e}/_sim/faults`, { method: 'PUT', body: JSON.stringify({ throttleRate: 2 }) });
    expect(bad.status).to.equal(400);
    t.sim.faults.clear();
    t.sim.counters.reset();
    await t.aws.batch.send(new DescribeJobQueuesCommand({}));
    await t.aws.batch.send(new DescribeJobQueuesCommand({}));
    expect(await (await fetch(`${e}/_sim/counters`)).json()).to.deep.equal({ 'Batch.DescribeJobQueues': 2 });
    const calls = (await (await fetch(`${e}/_sim/calls`)).json()) as { faults: object; calls: { operation: string; fault: null }[] };
    expect(calls.faults).to.deep.equal({});
    expect(calls.calls.map((c) => [c.operation, c.fault])).to.deep.equal([
      ['Batch.DescribeJobQueues', null],
      ['Batch.DescribeJobQueues', null],
    ]);
    await fetch(`${e}/_sim/counters`, { method: 'DELETE' });
    expect(t.sim.counters.get()).to.deep.equal({});
    expect(t.sim.counters.calls()).to.deep.equal([]);
    const job = await (await fetch(`${e}/_sim/jobs`, { method: 'POST', body: JSON.stringify({ jobName: 'via-admin', jobQueue: queue, plan: { runSeconds: 5 } }) })).json();
    const before = t.sim.model.now();
    const adv = await (await fetch(`${e}/_sim/advance`, { method: 'POST', body: JSON.stringify({ ms: 60_000 }) })).json() as { now: number };
    expect(adv.now).to.equal(before + 60_000);
    expect(t.sim.model.getJob((job as { jobId: string }).jobId)?.status).to.equal('SUCCEEDED');
    const badJob = await fetch(`${e}/_sim/jobs`, { method: 'POST', body: JSON.stringify({ jobName: 'x' }) });
    expect(badJob.status).to.equal(400);
    expect(t.sim.counters.get()).to.deep.equal({}); // admin calls are not AWS calls
  });

  it('answers unknown operations in each protocol’s error shape, counted, never crashing', async () => {
    const e = t.sim.endpoint;
    const ecs = await rawPost(e, '/', '{}', { 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.CreateCluster', 'content-type': 'application/x-amz-json-1.1' });
    expect(ecs.status).to.equal(400);
    expect(JSON.parse(ecs.text).__type).to.equal('UnknownOperationException');
    const other = await rawPost(e, '/', '{}', { 'x-amz-target': 'DynamoDB_20120810.ListTables', 'content-type': 'application/x-amz-json-1.0' });
    expect(JSON.parse(other.text).__type).to.equal('UnknownOperationException');
    const ec2 = await rawPost(e, '/', 'Action=RunInstances&Version=2016-11-15', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(ec2.status).to.equal(400);
    expect(ec2.text).to.contain('<Code>InvalidAction</Code>');
    const malformedEcs = await rawPost(e, '/', '{oops', { 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.ListTasks', 'content-type': 'application/x-amz-json-1.1' });
    expect(malformedEcs.status).to.equal(400);
    expect(JSON.parse(malformedEcs.text).__type).to.equal('SerializationException');
    const s3 = await fetch(`${e}/b/k`, { method: 'DELETE' });
    expect(s3.status).to.equal(501);
    expect(await s3.text()).to.contain('<Code>NotImplemented</Code>');
    expect(t.sim.counters.get()['ECS.CreateCluster']).to.equal(1);
    // Still serving.
    expect((await t.aws.batch.send(new DescribeJobQueuesCommand({}))).jobQueues).to.have.length(1);
  });
});
