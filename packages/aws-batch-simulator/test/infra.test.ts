import { DescribeComputeEnvironmentsCommand, DescribeJobsCommand, UpdateComputeEnvironmentCommand } from '@aws-sdk/client-batch';
import { DescribeInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeContainerInstancesCommand, DescribeTasksCommand, ListContainerInstancesCommand, ListTasksCommand } from '@aws-sdk/client-ecs';
import { expect } from 'chai';
import { type TestSim, basicInfra, errorOf, startTestSim } from './helpers';

describe('simulator: ECS (JSON 1.1) and EC2 (query/XML) through the real SDK clients', () => {
  let t: TestSim;
  let queue: string;
  let ce: string;

  beforeEach(async () => {
    t = await startTestSim();
    ({ queue, ce } = basicInfra(t.sim, { instances: 2 }));
  });
  afterEach(async () => t.close());

  async function clusterArn(): Promise<string> {
    const out = await t.aws.batch.send(new DescribeComputeEnvironmentsCommand({ computeEnvironments: [ce] }));
    return out.computeEnvironments?.[0].ecsClusterArn as string;
  }

  it('walks compute environment → cluster → container instances → EC2 instances, and places tasks of running jobs', async () => {
    const ids = [0, 1, 2].map((i) => t.sim.model.submitJob({ jobName: `work-${i}`, jobQueue: queue, vcpus: 2, plan: { runSeconds: 600 } }).jobId);
    t.sim.model.advance(15_000);
    const cluster = await clusterArn();
    const cis = await t.aws.ecs.send(new ListContainerInstancesCommand({ cluster }));
    expect(cis.containerInstanceArns).to.have.length(2);
    const described = await t.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: cis.containerInstanceArns }));
    expect(described.failures).to.deep.equal([]);
    const instanceIds = described.containerInstances?.map((c) => c.ec2InstanceId as string) ?? [];
    expect(instanceIds.every((id) => /^i-[0-9a-f]{17}$/.test(id))).to.equal(true);
    expect(described.containerInstances?.[0].registeredAt).to.be.instanceOf(Date);

    const tasks = await t.aws.ecs.send(new ListTasksCommand({ cluster }));
    expect(tasks.taskArns).to.have.length(3);
    const dt = await t.aws.ecs.send(new DescribeTasksCommand({ cluster, tasks: tasks.taskArns }));
    const jobs = (await t.aws.batch.send(new DescribeJobsCommand({ jobs: ids }))).jobs ?? [];
    for (const job of jobs) {
      expect(job.status).to.equal('RUNNING');
      const task = dt.tasks?.find((x) => x.taskArn === job.container?.taskArn);
      expect(task, `task of ${job.jobId}`).to.not.equal(undefined);
      expect(task?.containerInstanceArn).to.equal(job.container?.containerInstanceArn);
      expect(task?.lastStatus).to.equal('RUNNING');
      expect(task?.startedAt).to.be.instanceOf(Date);
    }
    const onOne = await t.aws.ecs.send(new ListTasksCommand({ cluster, containerInstance: dt.tasks?.[0].containerInstanceArn }));
    expect(onOne.taskArns).to.include(dt.tasks?.[0].taskArn);

    const ec2 = await t.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: instanceIds }));
    const instances = ec2.Reservations?.flatMap((r) => r.Instances ?? []) ?? [];
    expect(instances.map((i) => i.InstanceId).sort()).to.deep.equal([...instanceIds].sort());
    for (const i of instances) {
      expect(i.State?.Name).to.equal('running');
      expect(i.PrivateIpAddress).to.match(/^10\./);
      expect(i.PublicIpAddress).to.match(/^\d+\.\d+\.\d+\.\d+$/);
      expect(i.InstanceType).to.match(/^m5\./);
      expect(i.Placement?.AvailabilityZone).to.match(/^us-east-1[abc]$/);
      expect(i.LaunchTime).to.be.instanceOf(Date);
      expect(i.ImageId).to.match(/^ami-/);
    }
  });

  it('limits DescribeTasks and DescribeContainerInstances to 100 and reports missing ones as failures', async () => {
    const cluster = await clusterArn();
    const many = Array.from({ length: 101 }, (_, i) => `arn:aws:ecs:us-east-1:123456789012:task/x/${i}`);
    expect((await errorOf(t.aws.ecs.send(new DescribeTasksCommand({ cluster, tasks: many })))).name).to.equal('InvalidParameterException');
    expect((await errorOf(t.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: many })))).name).to.equal(
      'InvalidParameterException',
    );
    const missing = await t.aws.ecs.send(new DescribeTasksCommand({ cluster, tasks: ['0123456789abcdef0123456789abcdef'] }));
    expect(missing.tasks).to.deep.equal([]);
    expect(missing.failures?.[0].reason).to.equal('MISSING');
    expect((await errorOf(t.aws.ecs.send(new ListTasksCommand({ cluster: 'no-such-cluster' })))).name).to.equal('ClusterNotFoundException');
  });

  it('pages ListTasks and ListContainerInstances', async () => {
    for (let i = 0; i < 12; i++) t.sim.model.submitJob({ jobName: `p-${i}`, jobQueue: queue, vcpus: 1, plan: { runSeconds: 900 } });
    t.sim.model.advance(15_000);
    const cluster = await clusterArn();
    const arns: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const out = await t.aws.ecs.send(new ListTasksCommand({ cluster, maxResults: 5, nextToken }));
      arns.push(...(out.taskArns ?? []));
      nextToken = out.nextToken;
      pages++;
    } while (nextToken);
    expect(arns).to.have.length(12);
    expect(new Set(arns).size).to.equal(12);
    expect(pages).to.equal(3);
    const first = await t.aws.ecs.send(new ListContainerInstancesCommand({ cluster, maxResults: 1 }));
    expect(first.containerInstanceArns).to.have.length(1);
    expect(first.nextToken).to.be.a('string');
  });

  it('TerminateInstances shuts the instance down and fails (or retries) the jobs it ran', async () => {
    const killed = t.sim.model.submitJob({ jobName: 'victim', jobQueue: queue, vcpus: 8, plan: { runSeconds: 600 } }).jobId;
    t.sim.model.advance(15_000);
    const d = t.sim.model.getJob(killed);
    expect(d?.status).to.equal('RUNNING');
    const cluster = await clusterArn();
    const ci = (await t.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: [d?.container?.containerInstanceArn as string] })))
      .containerInstances?.[0];
    const instanceId = ci?.ec2InstanceId as string;
    const out = await t.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    expect(out.TerminatingInstances?.[0]).to.deep.include({ InstanceId: instanceId });
    expect(out.TerminatingInstances?.[0].CurrentState?.Name).to.equal('shutting-down');
    expect(out.TerminatingInstances?.[0].PreviousState?.Name).to.equal('running');
    const after = (await t.aws.batch.send(new DescribeJobsCommand({ jobs: [killed] }))).jobs?.[0];
    expect(after?.status).to.equal('FAILED');
    expect(after?.container?.reason).to.equal(`Host EC2 (instance ${instanceId}) terminated.`);
    const remaining = await t.aws.ecs.send(new ListContainerInstancesCommand({ cluster }));
    expect(remaining.containerInstanceArns).to.not.include(d?.container?.containerInstanceArn);
    t.sim.model.advance(10_000);
    const ec2 = await t.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    expect(ec2.Reservations?.[0].Instances?.[0].State?.Name).to.equal('terminated');
    const notFound = await errorOf(t.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })));
    expect(notFound.name).to.equal('InvalidInstanceID.NotFound');
  });

  it('can keep a job stuck in STARTING (plan.startingSeconds) until its host is terminated', async () => {
    const { jobId } = t.sim.model.submitJob({ jobName: 'stuck', jobQueue: queue, plan: { startingSeconds: 3600, runSeconds: 10 } });
    t.sim.model.advance(15 * 60_000);
    const d = t.sim.model.getJob(jobId);
    expect(d?.status).to.equal('STARTING');
    const cluster = t.sim.model.computeEnvironment(ce)?.ecsClusterArn as string;
    const ci = (await t.aws.ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: [d?.container?.containerInstanceArn as string] }))).containerInstances?.[0];
    await t.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [ci?.ec2InstanceId as string] }));
    const after = t.sim.model.getJob(jobId);
    expect(after?.status).to.equal('FAILED');
    expect(after?.statusReason).to.match(/^Host EC2 \(instance i-[0-9a-f]+\) terminated\.$/);
  });

  it('scales a managed compute environment with demand and with UpdateComputeEnvironment', async () => {
    await t.close();
    t = await startTestSim();
    t.sim.model.createComputeEnvironment({ name: 'elastic', minvCpus: 0, maxvCpus: 64, instanceVcpus: 4 });
    t.sim.model.createJobQueue({ name: 'eq', computeEnvironments: ['elastic'] });
    const all = async () => (await t.aws.ec2.send(new DescribeInstancesCommand({}))).Reservations?.flatMap((r) => r.Instances ?? []) ?? [];
    expect(await all()).to.have.length(0);
    for (let i = 0; i < 4; i++) t.sim.model.submitJob({ jobName: `w-${i}`, jobQueue: 'eq', vcpus: 4, plan: { runSeconds: 60 } });
    t.sim.model.advance(40_000);
    const up = await all();
    expect(up.filter((i) => i.State?.Name === 'running')).to.have.length(4);
    t.sim.model.advance(400_000);
    expect((await all()).filter((i) => i.State?.Name === 'running')).to.have.length(0);
    await t.aws.batch.send(new UpdateComputeEnvironmentCommand({ computeEnvironment: 'elastic', computeResources: { minvCpus: 8 } }));
    t.sim.model.advance(30_000);
    expect((await all()).filter((i) => i.State?.Name === 'running')).to.have.length(2);
    const ceOut = (await t.aws.batch.send(new DescribeComputeEnvironmentsCommand({ computeEnvironments: ['elastic'] }))).computeEnvironments?.[0];
    expect(ceOut?.computeResources?.desiredvCpus).to.equal(8);
  });

  it('filters and pages DescribeInstances, and rejects bad input in the EC2 error shape', async () => {
    const page1 = await t.aws.ec2.send(new DescribeInstancesCommand({ MaxResults: 5, Filters: [{ Name: 'instance-state-name', Values: ['running'] }] }));
    expect(page1.Reservations?.flatMap((r) => r.Instances ?? [])).to.have.length(2);
    expect(page1.NextToken).to.equal(undefined);
    const none = await t.aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['stopped'] }] }));
    expect(none.Reservations).to.deep.equal([]);
    expect((await errorOf(t.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-00000000000000000'] })))).name).to.equal('InvalidInstanceID.NotFound');
    expect((await errorOf(t.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: ['bogus'] })))).name).to.equal('InvalidInstanceID.Malformed');
    expect((await errorOf(t.aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'bogus', Values: ['x'] }] })))).name).to.equal('InvalidParameterValue');
  });
});
