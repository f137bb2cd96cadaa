import { JOB_STATUSES } from '../../../src/api/contract';

/** Statuses one can filter on (the API's, GONE included). */
export const JOB_STATUS_OPTIONS: readonly string[] = JOB_STATUSES;
