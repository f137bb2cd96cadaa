import { expect } from 'chai';
import type { JobDetail } from '@aws-sdk/client-batch';
import {
  JobMappingError,
  mapJobDetail,
  parseKubernetesCpu,
  parseKubernetesMemoryMiB,
  timeoutOf,
} from '../../src/pipeline/mapping';

const QUEUE_ARN = 'arn:aws:batch:us-east-1:123456789012:job-queue/highpri';
const DEF_ARN = 'arn:aws:batch:us-east-1:123456789012:job-definition/etl-daily:7';

function classicJob(overrides: Partial<JobDetail> = {}): JobDetail {
  return {
    jobArn: 'arn:aws:batch:us-east-1:123456789012:job/0b0e-1',
    jobId: '0b0e0c9a-0000-4000-8000-000000000001',
    jobName: 'etl-daily-2026',
    jobQueue: QUEUE_ARN,
    status: 'SUCCEEDED',
    statusReason: 'Essential container in task exited',
    createdAt: 1_700_000_000_000,
    startedAt: 1_700_000_060_000,
    stoppedAt: 1_700_000_120_500,
    jobDefinition: DEF_ARN,
    platformCapabilities: ['EC2'],
    attempts: [
      {
        container: {
          taskArn: 'arn:aws:ecs:us-east-1:123:task/cluster/aaa',
          exitCode: 1,
          reason: 'OutOfMemoryError',
          logStreamName: 'etl-daily/default/aaa',
        },
        startedAt: 1_700_000_010_000,
        stoppedAt: 1_700_000_050_000,
      },
      {
        container: {
          taskArn: 'arn:aws:ecs:us-east-1:123:task/cluster/bbb',
          exitCode: 0,
          logStreamName: 'etl-daily/default/bbb',
        },
        startedAt: 1_700_000_060_000,
        stoppedAt: 1_700_000_120_500,
      },
    ],
    container: {
      image: 'busybox:1.36',
      vcpus: 2,
      memory: 4096,
      command: ['sh', '-c', 'echo "hi"'],
      environment: [
        { name: 'FOO', value: 'bar' },
        { name: 'PYBATCH_TIMEOUT', value: '3600' },
      ],
      exitCode: 0,
      taskArn: 'arn:aws:ecs:us-east-1:123:task/cluster/bbb',
      logStreamName: 'etl-daily/default/bbb',
      logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/custom/group' } },
    },
    ...overrides,
  };
}

describe('pipeline mapping: mapJobDetail', () => {
  it('maps every field of a classic EC2 container job', () => {
    const job = mapJobDetail(classicJob());
    expect(job).to.deep.equal({
      job_id: '0b0e0c9a-0000-4000-8000-000000000001',
      job_name: 'etl-daily-2026',
      job_definition: DEF_ARN, // the ARN, as the Go original stored it
      job_queue: 'highpri',
      image: 'busybox:1.36',
      status: 'SUCCEEDED',
      created_at: new Date(1_700_000_000_000),
      stopped_at: new Date(1_700_000_120_500),
      vcpus: 2,
      vcpus_exact: 2,
      memory: 4096,
      timeout: 3600,
      command_line: '["sh","-c","echo \\"hi\\""]',
      status_reason: 'Essential container in task exited',
      run_started_at: new Date(1_700_000_060_000),
      exitcode: 0,
      log_stream_name: 'etl-daily/default/bbb',
      log_group_name: '/custom/group',
      task_arn: 'arn:aws:ecs:us-east-1:123:task/cluster/bbb',
      array_properties: null,
      array_parent_id: null,
      array_index: null,
      attempts: 2,
      platform: 'EC2',
      job_type: 'container',
    });
    expect(JSON.parse(job.command_line)).to.deep.equal(['sh', '-c', 'echo "hi"']);
  });

  it("lets the last attempt's container reason win over the job's status reason", () => {
    const d = classicJob({ status: 'FAILED' });
    d.attempts![1].container!.reason = 'Task failed to start';
    expect(mapJobDetail(d).status_reason).to.equal('Task failed to start');
  });

  it('takes log stream and task ARN from the last attempt first, then the container', () => {
    const d = classicJob();
    d.attempts![1].container = { exitCode: 0 };
    const job = mapJobDetail(d);
    expect(job.log_stream_name).to.equal('etl-daily/default/bbb');
    expect(job.task_arn).to.equal('arn:aws:ecs:us-east-1:123:task/cluster/bbb');
    const d2 = classicJob();
    d2.attempts![1].container!.logStreamName = 'other/default/ccc';
    d2.attempts![1].container!.taskArn = 'arn:aws:ecs:us-east-1:123:task/cluster/ccc';
    expect(mapJobDetail(d2).log_stream_name).to.equal('other/default/ccc');
    expect(mapJobDetail(d2).task_arn).to.equal('arn:aws:ecs:us-east-1:123:task/cluster/ccc');
  });

  it('maps a freshly submitted job with nothing optional', () => {
    const job = mapJobDetail({
      jobId: 'j1',
      jobName: 'n',
      jobQueue: 'plainqueue',
      jobDefinition: 'def:1',
      status: 'SUBMITTED',
      createdAt: 5,
      startedAt: undefined,
    });
    expect(job).to.include({
      job_queue: 'plainqueue',
      job_definition: 'def:1',
      image: '',
      vcpus: 0,
      vcpus_exact: null,
      memory: 0,
      timeout: -1,
      command_line: '[]',
      status_reason: null,
      exitcode: null,
      log_stream_name: null,
      log_group_name: null,
      task_arn: null,
      attempts: 0,
      platform: null,
      job_type: 'container',
    });
    expect(job.run_started_at).to.equal(null);
    expect(job.stopped_at).to.equal(null);
  });

  it('reads vCPUs and memory from resourceRequirements; fractional vCPUs round up', () => {
    const job = mapJobDetail(
      classicJob({
        platformCapabilities: ['FARGATE'],
        container: {
          image: 'img',
          resourceRequirements: [
            { type: 'VCPU', value: '0.25' },
            { type: 'MEMORY', value: '512' },
            { type: 'GPU', value: '1' },
          ],
        },
      }),
    );
    expect(job.vcpus).to.equal(1);
    expect(job.vcpus_exact).to.equal(0.25);
    expect(job.memory).to.equal(512);
    expect(job.platform).to.equal('FARGATE');
  });

  it('prefers resourceRequirements over the deprecated vcpus/memory', () => {
    const job = mapJobDetail(
      classicJob({ container: { image: 'i', vcpus: 1, memory: 100, resourceRequirements: [{ type: 'VCPU', value: '4' }] } }),
    );
    expect(job.vcpus).to.equal(4);
    expect(job.memory).to.equal(100);
  });

  it('parses PYBATCH_TIMEOUT strictly (-1 when none or invalid)', () => {
    expect(timeoutOf([{ name: 'PYBATCH_TIMEOUT', value: '60' }])).to.equal(60);
    expect(timeoutOf([{ name: 'PYBATCH_TIMEOUT', value: 'soon' }])).to.equal(-1);
    expect(timeoutOf([{ name: 'PYBATCH_TIMEOUT', value: '-5' }])).to.equal(-1);
    expect(timeoutOf([{ name: 'PYBATCH_TIMEOUT', value: '1.5' }])).to.equal(-1);
    expect(timeoutOf([{ name: 'PYBATCH_TIMEOUT', value: '99999999999' }])).to.equal(-1);
    expect(timeoutOf([{ name: 'OTHER', value: '60' }])).to.equal(-1);
    expect(timeoutOf(undefined)).to.equal(-1);
  });

  it('maps an array parent with its status summary', () => {
    const job = mapJobDetail(
      classicJob({
        status: 'RUNNING',
        stoppedAt: undefined,
        arrayProperties: { size: 10, statusSummary: { RUNNING: 3, SUCCEEDED: 7, BOGUS: 1 } },
      }),
    );
    // The Go original's shape: lower-case keys, every status counted.
    expect(job.array_properties).to.deep.equal({
      size: 10,
      status_summary: { starting: 0, failed: 0, running: 3, succeeded: 7, runnable: 0, submitted: 0, pending: 0 },
    });
    expect(job.array_parent_id).to.equal(null);
    expect(job.array_index).to.equal(null);
  });

  it('maps an array parent without counts yet to every count 0', () => {
    const job = mapJobDetail(classicJob({ status: 'PENDING', stoppedAt: undefined, arrayProperties: { size: 2 } }));
    expect(job.array_properties).to.deep.equal({
      size: 2,
      status_summary: { starting: 0, failed: 0, running: 0, succeeded: 0, runnable: 0, submitted: 0, pending: 0 },
    });
  });

  it('maps an array child to its parent id and index', () => {
    const job = mapJobDetail(classicJob({ jobId: 'abc-def:12', arrayProperties: { index: 12 } }));
    expect(job.array_parent_id).to.equal('abc-def');
    expect(job.array_index).to.equal(12);
    expect(job.array_properties).to.deep.equal({ index: 12 });
  });

  it('maps a multi-node job without a container, from its node range properties', () => {
    const job = mapJobDetail({
      jobId: 'mn-1',
      jobName: 'mpi',
      jobQueue: QUEUE_ARN,
      jobDefinition: DEF_ARN,
      status: 'RUNNING',
      createdAt: 10,
      startedAt: 20,
      nodeProperties: {
        numNodes: 4,
        mainNode: 0,
        nodeRangeProperties: [
          {
            targetNodes: '0:',
            container: {
              image: 'mpi:latest',
              vcpus: 8,
              memory: 16384,
              command: ['mpirun'],
              environment: [{ name: 'PYBATCH_TIMEOUT', value: '100' }],
            },
          },
        ],
      },
    });
    expect(job).to.include({ image: 'mpi:latest', vcpus: 8, memory: 16384, timeout: 100, job_type: 'multinode' });
    expect(job.command_line).to.equal('["mpirun"]');
  });

  it('maps an EKS job from its pod containers', () => {
    const job = mapJobDetail({
      jobId: 'eks-1',
      jobName: 'k',
      jobQueue: QUEUE_ARN,
      jobDefinition: DEF_ARN,
      status: 'SUCCEEDED',
      createdAt: 10,
      startedAt: 20,
      stoppedAt: 30,
      eksProperties: {
        podProperties: {
          containers: [
            {
              image: 'eks:1',
              command: ['python'],
              args: ['main.py'],
              resources: { limits: { cpu: '500m', memory: '2Gi' } },
              exitCode: 0,
            },
          ],
        },
      },
    });
    expect(job).to.include({ image: 'eks:1', vcpus: 1, vcpus_exact: 0.5, memory: 2048, job_type: 'eks', exitcode: 0 });
    expect(job.command_line).to.equal('["python","main.py"]');
  });

  it('maps an ECS-properties job from its task containers', () => {
    const job = mapJobDetail({
      jobId: 'ecs-1',
      jobName: 'e',
      jobQueue: QUEUE_ARN,
      jobDefinition: DEF_ARN,
      status: 'FAILED',
      createdAt: 10,
      startedAt: 20,
      stoppedAt: 30,
      attempts: [
        {
          taskProperties: [
            { taskArn: 'arn:task/x', containers: [{ exitCode: 3, reason: 'boom', logStreamName: 'ls/x' }] },
          ],
        },
      ],
      ecsProperties: {
        taskProperties: [
          {
            taskArn: 'arn:task/x',
            containers: [
              { name: 'side', essential: false, image: 'sidecar' },
              {
                name: 'main',
                image: 'main:2',
                command: ['run'],
                resourceRequirements: [
                  { type: 'VCPU', value: '1.5' },
                  { type: 'MEMORY', value: '3072' },
                ],
                exitCode: 3,
              },
            ],
          },
        ],
      },
    });
    expect(job).to.include({
      image: 'main:2',
      vcpus: 2,
      vcpus_exact: 1.5,
      memory: 3072,
      job_type: 'ecs',
      exitcode: 3,
      status_reason: 'boom',
      task_arn: 'arn:task/x',
      log_stream_name: 'ls/x',
      attempts: 1,
    });
  });

  it('maps a job with no container information at all', () => {
    const job = mapJobDetail({
      jobId: 'bare',
      jobName: 'bare',
      jobQueue: 'q',
      jobDefinition: 'd:1',
      status: 'PENDING',
      createdAt: 1,
      startedAt: undefined,
      nodeProperties: { numNodes: 2, mainNode: 0, nodeRangeProperties: [] },
    });
    expect(job).to.include({ image: '', vcpus: 0, memory: 0, job_type: 'multinode', command_line: '[]' });
  });

  it('rejects descriptions it cannot mirror with a clear error', () => {
    expect(() => mapJobDetail({ ...classicJob(), jobId: undefined })).to.throw(JobMappingError, /without jobId/);
    expect(() => mapJobDetail(classicJob({ status: 'WEIRD' as never }))).to.throw(JobMappingError, /unknown status "WEIRD"/);
    expect(() => mapJobDetail(classicJob({ createdAt: undefined }))).to.throw(JobMappingError, /no createdAt/);
  });

  it('parses Kubernetes quantities', () => {
    expect(parseKubernetesCpu('2')).to.equal(2);
    expect(parseKubernetesCpu('250m')).to.equal(0.25);
    expect(parseKubernetesCpu('x')).to.equal(undefined);
    expect(parseKubernetesMemoryMiB('512Mi')).to.equal(512);
    expect(parseKubernetesMemoryMiB('1Gi')).to.equal(1024);
    expect(parseKubernetesMemoryMiB('1G')).to.equal(954);
    expect(parseKubernetesMemoryMiB('??')).to.equal(undefined);
  });
});
