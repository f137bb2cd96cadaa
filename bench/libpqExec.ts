/**
 * A parameterised statement sent the way the Go original's driver sends it.
 *
 * Batchiepatchie (Go) writes jobs with database/sql + lib/pq, connecting
 * without `binary_parameters`. For an Exec with arguments lib/pq then uses the
 * unnamed statement in two round trips: Parse + Describe + Sync (wait for the
 * answer), then Bind + Execute + Sync (wait again). node-postgres pipelines
 * all of it into one round trip, so a per-row loop written with it would be a
 * kinder baseline than the original really is. This reproduces lib/pq's
 * messages on a node-postgres connection through its Submittable hook.
 */
import pg from 'pg';

type Connection = pg.Connection & {
  parse(query: { text: string; name?: string; types?: number[] }): void;
  describe(msg: { type: 'S' | 'P'; name?: string }): void;
  bind(config: { statement?: string; portal?: string; values: (string | null)[] }): void;
  execute(config: { portal?: string; rows?: number }): void;
  sync(): void;
};

/** One Sync-terminated exchange: `send` writes the messages, the promise settles at ReadyForQuery. */
class Exchange implements pg.Submittable {
  readonly done: Promise<void>;
  private settle!: (err: Error | null) => void;

  constructor(private readonly send: (con: Connection) => void) {
    this.done = new Promise((resolve, reject) => {
      this.settle = (err) => (err ? reject(err) : resolve());
    });
  }

  submit(connection: pg.Connection): void {
    this.send(connection as Connection);
  }

  // node-postgres forgets the active query when an error arrives, so the
  // ReadyForQuery that follows is not routed here: settle now.
  handleError(err: Error): void {
    this.settle(err);
  }

  handleReadyForQuery(): void {
    this.settle(null);
  }

  // Messages an Exec may produce; nothing to keep from them.
  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
}

/** Text-format parameter values, as lib/pq sends them. */
function toText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export async function execLikeLibPq(client: pg.ClientBase, text: string, values: unknown[]): Promise<void> {
  const prepare = new Exchange((con) => {
    con.parse({ text, name: '', types: [] });
    con.describe({ type: 'S', name: '' });
    con.sync();
  });
  client.query(prepare);
  await prepare.done;
  const run = new Exchange((con) => {
    con.bind({ statement: '', portal: '', values: values.map(toText) });
    con.execute({ portal: '', rows: 0 });
    con.sync();
  });
  client.query(run);
  await run.done;
}
