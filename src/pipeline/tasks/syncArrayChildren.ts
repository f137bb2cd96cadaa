/**
 * syncArrayChildren — the children of one open array parent (listed with
 * arrayJobId), once per sync round, fanned out by syncRound beside the queue
 * tasks. The work itself (reconcileListing.ts) is also run inline by a queue's
 * sync before it stores a parent as finished.
 *
 * Added by syncRound, one per open array parent. Retry: SYNC_TASK_RETRY; a
 * task failing for good abandons the round (frees its queue locks).
 */
import { SYNC_QUEUE } from '../names';
import { syncArrayChildren } from '../reconcileListing';
import { abandonRound, type RoundTaskData } from '../roundState';
import { defineTask, ROUND_KEEP, SYNC_TASK_RETRY } from '../task';

export interface SyncArrayChildrenData extends RoundTaskData {
  parentId: string;
}

export const syncArrayChildrenTask = defineTask({
  name: 'syncArrayChildren',
  queue: SYNC_QUEUE,
  retry: SYNC_TASK_RETRY,
  keep: ROUND_KEEP,
  metric: 'syncTask',
  run: (ctx, data: SyncArrayChildrenData) => syncArrayChildren(ctx, data.parentId),
  onFinalFailure: abandonRound,
});
