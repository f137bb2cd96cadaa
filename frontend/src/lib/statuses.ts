import { DISPLAY_STATUSES, JOB_STATUSES } from '../../../src/api/contract';

/** Statuses the job search filters on (the API's, GONE and TERMINATED included). */
export const JOB_STATUS_OPTIONS: readonly string[] = DISPLAY_STATUSES;

/** Statuses the stats filter on: the stored ones (stats group by stored status). */
export const STATS_STATUS_OPTIONS: readonly string[] = JOB_STATUSES;
