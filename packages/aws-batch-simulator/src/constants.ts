/** Constants shared by the model, its parts and the wire views. */

export const ACCOUNT_ID = '123456789012';
export const JOB_LOG_GROUP = '/aws/batch/job';

/** Simulated durations (ms). */
export const TIMING = {
  tick: 1_000,
  /** One sync() ticks at most this often; bigger jumps tick more coarsely. */
  maxTicksPerSync: 20_000,
  submittedToPending: 1_000,
  pendingToRunnable: 2_000,
  startingToRunning: 5_000,
  /** The scheduler looks at a RUNNABLE job no sooner than this. */
  minRunnable: 2_000,
  defaultRunSeconds: 30,
  instanceBoot: 20_000,
  instanceShutdown: 5_000,
  idleBeforeScaleDown: 120_000,
  /** Terminated instances and stopped tasks stay visible this long, as in AWS. */
  stoppedVisibility: 3_600_000,
  requestedDesiredHold: 600_000,
};

export class SimError extends Error {
  constructor(
    readonly code: 'ClientException' | 'NotFound',
    message: string,
  ) {
    super(message);
  }
}
