/** bull-board, the pipeline's queue dashboard, at /admin/queues: operators only. */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type { Queue } from 'bullmq';
import type { Context, Middleware, Next } from 'koa';
import { HttpError } from '../errors';

export const BULL_BOARD_PATH = '/admin/queues';

function bullBoardPlugin(queues: Queue[]): Middleware {
  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  // The two bull-board packages are released separately; their adapter types drift by a patch.
  type BoardAdapter = Parameters<typeof createBullBoard>[0]['serverAdapter'];
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q)),
    serverAdapter: serverAdapter as unknown as BoardAdapter,
    // The dashboard is another app: its menu leads back to ours.
    options: { uiConfig: { boardTitle: 'Batchiepatchie pipeline', miscLinks: [{ text: '← Back to Batchiepatchie', url: '/' }] } },
  });
  return serverAdapter.registerPlugin() as Middleware;
}

/** Everything under /admin needs an operator; the dashboard answers 503 until the pipeline's queues are there. */
export function adminArea(queues: Queue[] | undefined, operatorOnly: Middleware): Middleware {
  const plugin = queues?.length ? bullBoardPlugin(queues) : null;
  return async function serveAdmin(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== '/admin' && !ctx.path.startsWith('/admin/')) return next();
    ctx.state.routeLabel = BULL_BOARD_PATH;
    await operatorOnly(ctx, async () => {
      if (!ctx.path.startsWith(BULL_BOARD_PATH)) return next();
      if (!plugin) throw new HttpError(503, 'the pipeline queues are not connected');
      await plugin(ctx, next);
    });
  };
}
