/** bull-board, the pipeline's queue dashboard, at /admin/queues: operators only. */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type { Queue } from 'bullmq';
import type { Context, Middleware, Next } from 'koa';

export const BULL_BOARD_PATH = '/admin/queues';

export function bullBoard(queues: Queue[], operatorOnly: Middleware): Middleware {
  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  // The two bull-board packages are released separately; their adapter types drift by a patch.
  type BoardAdapter = Parameters<typeof createBullBoard>[0]['serverAdapter'];
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter: serverAdapter as unknown as BoardAdapter });
  const plugin = serverAdapter.registerPlugin() as Middleware;
  return async function serveBullBoard(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== BULL_BOARD_PATH && !ctx.path.startsWith(`${BULL_BOARD_PATH}/`)) return next();
    ctx.state.routeLabel = BULL_BOARD_PATH;
    await operatorOnly(ctx, () => plugin(ctx, next));
  };
}
