import { DescribeJobsCommand } from '@aws-sdk/client-batch';
import { DescribeLogStreamsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateBucketCommand, GetBucketLocationCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListBucketsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { type TestSim, basicInfra, errorOf, startTestSim } from './helpers';

const GROUP = '/aws/batch/job';

describe('simulator: CloudWatch Logs (JSON 1.1) and S3 (REST-XML) through the real SDK clients', () => {
  let t: TestSim;
  let queue: string;

  beforeEach(async () => {
    t = await startTestSim();
    ({ queue } = basicInfra(t.sim));
  });
  afterEach(async () => t.close());

  it('writes log events while a job runs, into <definition>/default/<taskId> of /aws/batch/job', async () => {
    const lines = Array.from({ length: 9 }, (_, i) => `line ${i}`);
    const { jobId } = t.sim.model.submitJob({ jobName: 'talky', jobQueue: queue, jobDefinition: 'talker:2', plan: { runSeconds: 100, logLines: lines } });
    t.sim.model.advance(12_000 + 35_000); // running for a while: some lines written, not all
    const stream = t.sim.model.getJob(jobId)?.container?.logStreamName as string;
    expect(stream).to.match(/^talker\/default\/[0-9a-f]{32}$/);
    const partial = await t.aws.logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: stream, startFromHead: true }));
    const n = partial.events?.length ?? 0;
    expect(n).to.be.greaterThan(0);
    expect(n).to.be.lessThan(lines.length);
    t.sim.model.advance(120_000);
    const all = await t.aws.logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: stream, startFromHead: true }));
    expect(all.events?.map((e) => e.message)).to.deep.equal(lines);
    const ts = all.events?.map((e) => e.timestamp as number) ?? [];
    expect(ts).to.deep.equal([...ts].sort((a, b) => a - b));
  });

  it('stops writing the log of a killed job', async () => {
    const lines = Array.from({ length: 9 }, (_, i) => `line ${i}`);
    const { jobId } = t.sim.model.submitJob({ jobName: 'killed', jobQueue: queue, plan: { runSeconds: 100, logLines: lines } });
    t.sim.model.advance(12_000 + 35_000);
    const stream = t.sim.model.getJob(jobId)?.container?.logStreamName as string;
    t.sim.model.terminateJob(jobId, 'stop it');
    const written = (await t.aws.logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: stream, startFromHead: true }))).events?.length ?? 0;
    t.sim.model.advance(120_000);
    const after = await t.aws.logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: stream, startFromHead: true }));
    expect(written).to.be.within(1, lines.length - 1);
    expect(after.events).to.have.length(written);
  });

  it('writes a multi-node job\'s log per node: each node <id>#<n> names its own stream', async () => {
    const { jobId } = t.sim.model.submitJob({
      jobName: 'mpi',
      jobQueue: queue,
      jobDefinition: 'mpi-def:1',
      multiNode: true,
      numNodes: 3,
      plan: { runSeconds: 60, logLines: ['main says hi'], nodeLogLines: [['main node line'], ['node one a', 'node one b']] },
    });
    const describe = async (id: string) => (await t.aws.batch.send(new DescribeJobsCommand({ jobs: [id] }))).jobs?.[0];
    expect((await describe(`${jobId}#1`))?.container?.logStreamName).to.equal(undefined); // not started yet
    t.sim.model.advance(120_000);
    const parent = await describe(jobId);
    expect(parent?.status).to.equal('SUCCEEDED');
    expect(parent?.container).to.equal(undefined);
    const nodes = await Promise.all([0, 1, 2].map((n) => describe(`${jobId}#${n}`)));
    const streams = nodes.map((d) => d?.container?.logStreamName as string);
    for (const s of streams) expect(s).to.match(/^mpi-def\/default\/[0-9a-f]{32}$/);
    expect(new Set(streams).size).to.equal(3);
    expect(nodes.map((d) => d?.attempts?.[0]?.container?.logStreamName)).to.deep.equal(streams);
    const read = async (stream: string) =>
      ((await t.aws.logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: stream, startFromHead: true }))).events ?? []).map((e) => e.message);
    // Node 2 has no nodeLogLines entry: default lines naming it.
    expect(await read(streams[0])).to.deep.equal(['main node line']);
    expect(await read(streams[1])).to.deep.equal(['node one a', 'node one b']);
    expect((await read(streams[2])).join('\n')).to.include('[mpi node 2] done');
  });

  it('pages GetLogEvents forward with the token repeating at the end, and reads the tail by default', async () => {
    const lines = Array.from({ length: 25 }, (_, i) => `event ${i}`);
    const { jobId } = t.sim.model.submitJob({ jobName: 'paged', jobQueue: queue, plan: { runSeconds: 50, logLines: lines } });
    t.sim.model.advance(120_000);
    const stream = t.sim.model.getJob(jobId)?.container?.logStreamName as string;
    const read: string[] = [];
    let token: string | undefined;
    let calls = 0;
    for (;;) {
      const out = await t.aws.logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: stream, startFromHead: true, limit: 10, nextToken: token }));
      calls++;
      read.push(...(out.events ?? []).map((e) => e.message as string));
      if (out.nextForwardToken === token) break; // AWS's end-of-stream signal
      token = out.nextForwardToken;
      expect(calls).to.be.lessThan(10);
    }
    expect(read).to.deep.equal(lines);
    expect(calls).to.equal(4); // 10 + 10 + 5 + an empty page returning the same token
    const tail = await t.aws.logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: stream, limit: 5 }));
    expect(tail.events?.map((e) => e.message)).to.deep.equal(lines.slice(20));
    const back = await t.aws.logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: stream, limit: 5, nextToken: tail.nextBackwardToken }));
    expect(back.events?.map((e) => e.message)).to.deep.equal(lines.slice(15, 20));
  });

  it('finds streams by prefix with DescribeLogStreams, paged, and answers unknown groups/streams with ResourceNotFoundException', async () => {
    for (let i = 0; i < 3; i++) t.sim.model.submitJob({ jobName: `a-${i}`, jobQueue: queue, jobDefinition: 'alpha:1', plan: { runSeconds: 5 } });
    t.sim.model.submitJob({ jobName: 'b', jobQueue: queue, jobDefinition: 'beta:1', plan: { runSeconds: 5 } });
    t.sim.model.advance(60_000);
    const alpha = await t.aws.logs.send(new DescribeLogStreamsCommand({ logGroupName: GROUP, logStreamNamePrefix: 'alpha/default/' }));
    expect(alpha.logStreams).to.have.length(3);
    expect(alpha.logStreams?.every((s) => s.logStreamName?.startsWith('alpha/default/') && typeof s.creationTime === 'number')).to.equal(true);
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await t.aws.logs.send(new DescribeLogStreamsCommand({ logGroupName: GROUP, limit: 2, nextToken }));
      names.push(...(out.logStreams ?? []).map((s) => s.logStreamName as string));
      nextToken = out.nextToken;
    } while (nextToken);
    expect(names).to.have.length(4);
    expect(names).to.deep.equal([...names].sort());
    expect((await errorOf(t.aws.logs.send(new DescribeLogStreamsCommand({ logGroupName: '/nope' })))).name).to.equal('ResourceNotFoundException');
    expect((await errorOf(t.aws.logs.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: 'nope' })))).name).to.equal('ResourceNotFoundException');
  });

  it('serves seeded objects with GetObject/HeadObject, and HeadBucket/GetBucketLocation', async () => {
    t.sim.model.putObject('config-bucket', 'prod/batchiepatchie.toml', 'port = 5454\n');
    t.sim.model.putObject('config-bucket', 'ui/index.html', '<!doctype html><title>bp</title>');
    const obj = await t.aws.s3.send(new GetObjectCommand({ Bucket: 'config-bucket', Key: 'prod/batchiepatchie.toml' }));
    expect(await obj.Body?.transformToString()).to.equal('port = 5454\n');
    const html = await t.aws.s3.send(new GetObjectCommand({ Bucket: 'config-bucket', Key: 'ui/index.html' }));
    expect(html.ContentType).to.equal('text/html');
    expect(await html.Body?.transformToString()).to.contain('<title>bp</title>');
    const head = await t.aws.s3.send(new HeadObjectCommand({ Bucket: 'config-bucket', Key: 'ui/index.html' }));
    expect(head.ContentLength).to.equal(32);
    expect(head.ETag).to.match(/^"[0-9a-f]{32}"$/);
    await t.aws.s3.send(new HeadBucketCommand({ Bucket: 'config-bucket' }));
    const loc = await t.aws.s3.send(new GetBucketLocationCommand({ Bucket: 'config-bucket' }));
    expect(loc.LocationConstraint ?? '').to.equal('');
    expect((await errorOf(t.aws.s3.send(new GetObjectCommand({ Bucket: 'config-bucket', Key: 'missing' })))).name).to.equal('NoSuchKey');
    expect((await errorOf(t.aws.s3.send(new GetObjectCommand({ Bucket: 'nope', Key: 'x' })))).name).to.equal('NoSuchBucket');
    expect((await errorOf(t.aws.s3.send(new HeadBucketCommand({ Bucket: 'nope' })))).status).to.equal(404);
    await t.aws.s3.send(new PutObjectCommand({ Bucket: 'config-bucket', Key: 'pw', Body: 'database_password = "x"\n' }));
    const pw = await t.aws.s3.send(new GetObjectCommand({ Bucket: 'config-bucket', Key: 'pw' }));
    expect(await pw.Body?.transformToString()).to.equal('database_password = "x"\n');
    await t.aws.s3.send(new CreateBucketCommand({ Bucket: 'fresh' }));
    const buckets = await t.aws.s3.send(new ListBucketsCommand({}));
    expect(buckets.Buckets?.map((b) => b.Name).sort()).to.deep.equal(['config-bucket', 'fresh']);
  });
});
