import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { type TestSim, basicInfra, startTestSim } from './helpers';

const run = promisify(execFile);

/** Whichever `aws` is first on PATH (Debian's awscli, a pyenv one, ...); a missing one fails the run. */
function requireAwsCli(): void {
  try {
    execFileSync('aws', ['--version'], { stdio: 'ignore', timeout: 20_000 });
  } catch (err) {
    throw new Error(`the AWS CLI ('aws' on PATH) is required by this test; install it (Debian: apt-get install awscli): ${String(err)}`);
  }
}

/** A second, independent client stack (Python botocore) parses the simulator's answers too. */
describe('simulator through the AWS CLI', function () {
  this.timeout(120_000);
  let t: TestSim;

  before(requireAwsCli);
  beforeEach(async () => {
    t = await startTestSim();
  });
  afterEach(async () => t?.close());

  async function aws(...args: string[]): Promise<unknown> {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
    const { stdout } = await run('aws', ['--endpoint-url', t.sim.endpoint, '--output', 'json', ...args], { env });
    return stdout.trim() ? JSON.parse(stdout) : null;
  }

  it('lists, submits, describes and terminates Batch jobs; reads logs, ECS, EC2 and S3', async () => {
    const { queue, ce } = basicInfra(t.sim);
    const submitted = (await aws('batch', 'submit-job', '--job-name', 'cli-job', '--job-queue', queue, '--job-definition', 'cli:1')) as { jobId: string };
    // Two lines over an hour: the first is due 20 minutes into the run, the second never comes (killed first).
    const long = t.sim.model.submitJob({ jobName: 'cli-long', jobQueue: queue, plan: { runSeconds: 3600, logLines: ['hello from the job', 'never written'] } });
    t.sim.model.advance(60_000);
    const described = (await aws('batch', 'describe-jobs', '--jobs', submitted.jobId)) as { jobs: { status: string; container: { exitCode: number } }[] };
    expect(described.jobs[0].status).to.equal('SUCCEEDED');
    expect(described.jobs[0].container.exitCode).to.equal(0);
    const listed = (await aws('batch', 'list-jobs', '--job-queue', queue, '--filters', 'name=JOB_NAME,values=cli-*')) as { jobSummaryList: { jobName: string }[] };
    expect(listed.jobSummaryList.map((j) => j.jobName).sort()).to.deep.equal(['cli-job', 'cli-long']);
    const cluster = t.sim.model.computeEnvironment(ce)?.ecsClusterArn as string;
    const cis = (await aws('ecs', 'list-container-instances', '--cluster', cluster)) as { containerInstanceArns: string[] };
    expect(cis.containerInstanceArns).to.have.length(2);
    const ec2 = (await aws('ec2', 'describe-instances')) as { Reservations: { Instances: { State: { Name: string } }[] }[] };
    expect(ec2.Reservations.flatMap((r) => r.Instances).every((i) => i.State.Name === 'running')).to.equal(true);
    t.sim.model.advance(1_300_000);
    expect(t.sim.model.getJob(long.jobId)?.status).to.equal('RUNNING');
    await aws('batch', 'terminate-job', '--job-id', long.jobId, '--reason', 'from the CLI');
    expect(t.sim.model.getJob(long.jobId)?.container?.exitCode).to.equal(137);
    const stream = t.sim.model.getJob(long.jobId)?.container?.logStreamName as string;
    const events = (await aws('logs', 'get-log-events', '--log-group-name', '/aws/batch/job', '--log-stream-name', stream, '--start-from-head')) as {
      events: { message: string; timestamp: number }[];
    };
    expect(events.events.map((e) => e.message)).to.deep.equal(['hello from the job']);
    const startedAt = t.sim.model.getJob(long.jobId)?.startedAt as number;
    expect(events.events[0].timestamp).to.be.greaterThan(startedAt);
    t.sim.model.putObject('cfg', 'bp.toml', 'port = 1\n');
    const { stdout } = await run('aws', ['--endpoint-url', t.sim.endpoint, 's3', 'cp', 's3://cfg/bp.toml', '-'], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1' },
    });
    expect(stdout).to.equal('port = 1\n');
  });
});
