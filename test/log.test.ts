import { Writable } from 'node:stream';
import { expect } from 'chai';
import pino from 'pino';
import { repeatedWarnings } from '../src/log';

/** A real pino logger writing JSON lines into an array. */
function memoryLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('log: repeatedWarnings', () => {
  it('logs the first of a kind at once, holds back repeats for the interval, then logs how many were held back', async () => {
    const { logger, lines } = memoryLogger();
    let clock = 0;
    const warn = repeatedWarnings(logger, 30_000, () => clock);
    warn({ err: 'connect ECONNREFUSED', queue: 'bp-sync' }, 'worker error');
    for (let i = 0; i < 5; i += 1) {
      clock += 1_000;
      warn({ err: 'connect ECONNREFUSED', queue: 'bp-sync' }, 'worker error');
    }
    await flush();
    expect(lines.map((l) => [l.msg, l.queue, l.repeated])).to.deep.equal([['worker error', 'bp-sync', undefined]]);

    clock = 30_000;
    warn({ err: 'connect ECONNREFUSED', queue: 'bp-sync' }, 'worker error');
    await flush();
    expect(lines).to.have.length(2);
    expect(lines[1]).to.include({ level: 40, msg: 'worker error', err: 'connect ECONNREFUSED', repeated: 5 });
  });

  it('tells kinds apart by message and fields', async () => {
    const { logger, lines } = memoryLogger();
    const warn = repeatedWarnings(logger, 30_000, () => 0);
    warn({ err: 'connect ECONNREFUSED', queue: 'bp-sync' }, 'worker error');
    warn({ err: 'connect ECONNREFUSED', queue: 'bp-maintenance' }, 'worker error');
    warn({ err: 'read ECONNRESET', queue: 'bp-sync' }, 'worker error');
    warn({ err: 'connect ECONNREFUSED' }, 'flow producer error');
    warn({ err: 'connect ECONNREFUSED', queue: 'bp-sync' }, 'worker error');
    await flush();
    expect(lines.map((l) => `${l.msg}|${l.queue ?? ''}|${l.err}`)).to.deep.equal([
      'worker error|bp-sync|connect ECONNREFUSED',
      'worker error|bp-maintenance|connect ECONNREFUSED',
      'worker error|bp-sync|read ECONNRESET',
      'flow producer error||connect ECONNREFUSED',
    ]);
  });
});
