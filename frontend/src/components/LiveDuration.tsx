import type { JobJson } from '../lib/api';
import { formatDuration, isTerminalStatus } from '../lib/format';
import { useNow } from '../lib/now';

type Timed = Pick<JobJson, 'status' | 'created_at' | 'run_start_time' | 'stopped_at'>;

/** A duration that counts up every second while the job is active, and stands still once it is done. */
export function LiveDuration({ job, measure }: { job: Timed; measure: (job: Timed, now: number) => number | null }) {
  const now = useNow(!isTerminalStatus(job.status));
  return <>{formatDuration(measure(job, now))}</>;
}
