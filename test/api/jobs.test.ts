import { expect } from 'chai';
import { DATE_RANGES, SORT_COLUMNS, type JobJson } from '../../src/api/contract';
import { displayStatusOf } from '../../src/domain/jobStatus';
import { getJson, insertJobs, job, setLastUpdated, startTestApi, type TestApi } from './helpers';

const JOB_JSON_FIELDS = [
  'id', 'name', 'status', 'desc', 'last_updated', 'job_queue', 'image', 'created_at', 'stopped_at', 'vcpus',
  'memory', 'timeout', 'command_line', 'status_reason', 'run_start_time', 'exitcode', 'log_stream_name',
  'termination_requested', 'task_arn', 'instance_id', 'public_ip', 'private_ip', 'array_properties',
];

describe('API: jobs (search, detail, status, children, stats)', () => {
  let t: TestApi;
  const search = async (query: string) => {
    const res = await getJson(`${t.url}/api/v1/jobs?${query}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body as JobJson[];
  };
  const names = (jobs: JobJson[]) => jobs.map((j) => j.name).sort();

  before(async () => {
    t = await startTestApi();
  });
  after(async () => t.close());

  describe('GET /api/v1/jobs', () => {
    before(async () => {
      await insertJobs(t.db, [
        job({ job_name: 'pct%literal', job_queue: 'q-tokens' }),
        job({ job_name: 'pctXliteral', job_queue: 'q-tokens' }),
        job({ job_name: 'under_score', job_queue: 'q-tokens' }),
        job({ job_name: 'underXscore', job_queue: 'q-tokens' }),
        job({ job_name: 'back\\slash', job_queue: 'q-tokens' }),
        job({ job_name: 'backslash', job_queue: 'q-tokens' }),
        job({ job_name: 'Alpha-Beta', job_queue: 'q-tokens', image: 'repo/gamma:1' }),
        job({ job_name: 'alpha-only', job_queue: 'q-tokens' }),
        job({ job_id: 'deadbeef-0000-4000-8000-00000000beef', job_name: 'by-id', job_queue: 'q-tokens' }),
      ]);
    });

    it('answers the Go field names, times as ISO-8601 UTC', async () => {
      const [found] = await search('q=by-id');
      for (const field of JOB_JSON_FIELDS) expect(found, field).to.have.property(field);
      expect(found.id).to.equal('deadbeef-0000-4000-8000-00000000beef');
      expect(found.desc).to.match(/job-definition/);
      expect(found.created_at).to.equal('2026-11-01T00:00:00.000Z');
      expect(found.last_updated).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(found.stopped_at).to.equal(null);
      expect(found.run_start_time).to.equal(null);
    });

    it('treats %, _ and \\ in tokens literally', async () => {
      expect(names(await search(`q=${encodeURIComponent('%')}`))).to.deep.equal(['pct%literal']);
      expect(names(await search(`q=${encodeURIComponent('under_')}`))).to.deep.equal(['under_score']);
      expect(names(await search(`q=${encodeURIComponent('k\\s')}`))).to.deep.equal(['back\\slash']);
    });

    it('matches every token, case-insensitively, in id, name, queue or image', async () => {
      expect(names(await search('q=ALPHA'))).to.deep.equal(['Alpha-Beta', 'alpha-only']);
      expect(names(await search('q=alpha%20beta'))).to.deep.equal(['Alpha-Beta']);
      expect(names(await search('q=alpha+GAMMA'))).to.deep.equal(['Alpha-Beta']);
      expect(names(await search('q=00000000beef'))).to.deep.equal(['by-id']);
      expect((await search('q=q-tokens')).length).to.equal(9);
      expect(await search('q=alpha+nothing-like-this')).to.deep.equal([]);
    });

    it('reason: and cmd: words match the status reason and the command line; an empty one is a 400 saying how', async () => {
      await insertJobs(t.db, [
        job({ job_name: 'oom-1', job_queue: 'q-fields', status: 'FAILED', status_reason: 'OutOfMemoryError: Container killed due to memory usage',
          command_line: '["python","train.py","--shard","3"]' }),
        job({ job_name: 'ok-1', job_queue: 'q-fields', status: 'SUCCEEDED', status_reason: 'Essential container in task exited',
          command_line: '["python","etl.py","--shard","4"]' }),
      ]);
      expect(names(await search('q=reason:outofmemory'))).to.deep.equal(['oom-1']);
      expect(names(await search('q=REASON:container+Cmd:--shard'))).to.deep.equal(['ok-1', 'oom-1']);
      expect(names(await search(`q=${encodeURIComponent('cmd:etl.py q-fields')}`))).to.deep.equal(['ok-1']);
      // A plain word does not search them: "OutOfMemory" is in no id, name, queue or image.
      expect(await search('q=OutOfMemory')).to.deep.equal([]);
      const count = await getJson(`${t.url}/api/v1/jobs/count?q=cmd:--shard`);
      expect(count.body).to.deep.equal({ count: 2, exact: true, exactUpTo: 10_000 });
      const bad = await getJson(`${t.url}/api/v1/jobs?q=${encodeURIComponent('reason: OutOfMemory')}`);
      expect(bad.status).to.equal(400);
      expect(bad.body).to.deep.equal({
        error: 'q: "reason:" needs a word right after it (no space), e.g. reason:OutOfMemory or cmd:--shard',
        parameter: 'q',
      });
    });

    describe('queue, status and dateRange filters', () => {
      const now = Date.now();
      const AGES_MIN: Record<string, number> = { '5m': 5, '30m': 30, '12h': 720, '36h': 2160, '60h': 3600, '5d': 7200, '20d': 28800, '40d': 57600 };
      before(async () => {
        const jobs = Object.keys(AGES_MIN).map((age) => job({ job_name: `age-${age}`, job_queue: 'q-dates' }));
        jobs.push(
          job({ job_name: 'st-running', job_queue: 'q-status', status: 'RUNNING' }),
          job({ job_name: 'st-failed', job_queue: 'q-status', status: 'FAILED' }),
          job({ job_name: 'st-gone', job_queue: 'q-status2', status: 'GONE' }),
        );
        await insertJobs(t.db, jobs);
        for (const j of jobs.filter((x) => x.job_queue === 'q-dates')) {
          const age = j.job_name.slice(4);
          await setLastUpdated(t.db, j.job_id, new Date(now - AGES_MIN[age] * 60_000));
        }
      });

      it('dateRange: each value bounds last_updated; default 30d', async () => {
        const expected: Record<string, string[]> = {
          '10m': ['5m'],
          '1h': ['5m', '30m'],
          '1d': ['5m', '30m', '12h'],
          '2d': ['5m', '30m', '12h', '36h'],
          '3d': ['5m', '30m', '12h', '36h', '60h'],
          '7d': ['5m', '30m', '12h', '36h', '60h', '5d'],
          '30d': ['5m', '30m', '12h', '36h', '60h', '5d', '20d'],
        };
        expect(Object.keys(expected)).to.deep.equal([...DATE_RANGES]);
        for (const range of DATE_RANGES) {
          const got = names(await search(`queue=q-dates&dateRange=${range}`));
          expect(got, range).to.deep.equal(expected[range].map((a) => `age-${a}`).sort());
        }
        expect((await search('queue=q-dates')).length).to.equal(7);
      });

      it('queue: a comma list', async () => {
        expect(names(await search('queue=q-status'))).to.deep.equal(['st-failed', 'st-running']);
        expect(names(await search('queue=q-status,q-status2'))).to.deep.equal(['st-failed', 'st-gone', 'st-running']);
      });

      it('status: a comma list, any case, GONE included', async () => {
        expect(names(await search('queue=q-status,q-status2&status=RUNNING'))).to.deep.equal(['st-running']);
        expect(names(await search('queue=q-status,q-status2&status=running,failed'))).to.deep.equal(['st-failed', 'st-running']);
        expect(names(await search('status=GONE'))).to.deep.equal(['st-gone']);
      });
    });

    describe('sorting and paging', () => {
      before(async () => {
        const statuses = ['SUCCEEDED', 'FAILED', 'RUNNING', 'RUNNABLE'] as const;
        const jobs = Array.from({ length: 250 }, (_, i) =>
          job({
            job_id: `sort-${String(i).padStart(4, '0')}-${(i * 7919) % 1000}`,
            job_name: `sortname-${(i * 37) % 250}`,
            job_queue: 'q-sort',
            status: statuses[i % 4],
            stopped_at: new Date(Date.UTC(2026, 10, 1) + ((i * 13) % 250) * 60_000),
          }),
        );
        await insertJobs(t.db, jobs);
        for (const [i, j] of jobs.entries()) await setLastUpdated(t.db, j.job_id, new Date(Date.now() - ((i * 17) % 250) * 1000));
      });

      const key: Record<(typeof SORT_COLUMNS)[number], (j: JobJson) => string> = {
        id: (j) => j.id,
        name: (j) => j.name,
        status: (j) => j.status,
        stopped_at: (j) => j.stopped_at ?? '',
        last_updated: (j) => j.last_updated,
      };

      it('every sort column in both directions orders the page', async () => {
        for (const column of SORT_COLUMNS) {
          for (const direction of ['ASC', 'DESC', 'asc', 'desc']) {
            const page = await search(`queue=q-sort&sortColumn=${column}&sortDirection=${direction}`);
            expect(page.length).to.equal(100);
            const values = page.map(key[column]);
            const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
            if (direction.toUpperCase() === 'DESC') sorted.reverse();
            // Postgres and JS agree on these ASCII values; status ties are broken by id.
            expect(values, `${column} ${direction}`).to.deep.equal(sorted);
          }
        }
      });

      it('defaults to last_updated DESC', async () => {
        const page = await search('queue=q-sort');
        const values = page.map((j) => j.last_updated);
        expect(values).to.deep.equal([...values].sort().reverse());
      });

      it('pages hold 100 jobs, from page 0, without overlap', async () => {
        const pages = await Promise.all([0, 1, 2, 3].map((p) => search(`queue=q-sort&sortColumn=id&sortDirection=ASC&page=${p}`)));
        expect(pages.map((p) => p.length)).to.deep.equal([100, 100, 50, 0]);
        const ids = pages.flat().map((j) => j.id);
        expect(new Set(ids).size).to.equal(250);
        expect(ids).to.deep.equal([...ids].sort());
      });
    });
  });

  describe('GET /api/v1/jobs/count (after the search data above)', () => {
    it('GET /api/v1/jobs/count: the matches of the same filters, exact under the bound; bad input 400', async () => {
      const count = async (query: string) => {
        const res = await getJson(`${t.url}/api/v1/jobs/count?${query}`);
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        return res.body as { count: number; exact: boolean; exactUpTo: number };
      };
      expect(await count('queue=q-sort')).to.deep.equal({ count: 250, exact: true, exactUpTo: 10_000 });
      expect(await count('queue=q-sort&page=2&sortColumn=name')).to.include({ count: 250, exact: true });
      expect(await count('q=alpha&queue=q-tokens')).to.include({ count: 2, exact: true });
      expect(await count('q=zzqqxx')).to.include({ count: 0, exact: true });
      const bad = await getJson(`${t.url}/api/v1/jobs/count?dateRange=5y`);
      expect(bad.status).to.equal(400);
      expect(JSON.stringify(bad.body)).to.match(/dateRange/);
    });
  });

  describe('GET /api/v1/jobs/:id, /status, /children', () => {
    const parentId = 'aaaaaaaa-0000-4000-8000-000000000001';
    before(async () => {
      await insertJobs(t.db, [
        job({
          job_id: parentId,
          job_name: 'array-parent',
          status: 'RUNNING',
          task_arn: 'arn:aws:ecs:us-east-1:123456789012:task/cluster/abc',
          run_started_at: new Date('2026-11-02T10:00:00Z'),
          array_properties: { size: 2, status_summary: { starting: 0, failed: 0, running: 1, succeeded: 1, runnable: 0, submitted: 0, pending: 0 } },
        }),
        job({ job_id: `${parentId}:1`, job_name: 'array-parent', array_parent_id: parentId, array_index: 1, status: 'RUNNING' }),
        job({ job_id: `${parentId}:0`, job_name: 'array-parent', array_parent_id: parentId, array_index: 0, status: 'SUCCEEDED' }),
      ]);
      await t.db('task_arns_to_instance_info').insert({
        task_arn: 'arn:aws:ecs:us-east-1:123456789012:task/cluster/abc',
        instance_id: 'i-0123456789abcdef0',
        public_ip: '54.1.2.3',
        private_ip: '10.0.0.7',
      });
    });

    it('one job with its instance id and IPs', async () => {
      const res = await getJson(`${t.url}/api/v1/jobs/${parentId}`);
      expect(res.status).to.equal(200);
      expect(res.body).to.include({
        id: parentId,
        name: 'array-parent',
        status: 'RUNNING',
        instance_id: 'i-0123456789abcdef0',
        public_ip: '54.1.2.3',
        private_ip: '10.0.0.7',
        run_start_time: '2026-11-02T10:00:00.000Z',
      });
      expect(res.body.array_properties).to.deep.equal({
        size: 2,
        status_summary: { starting: 0, failed: 0, running: 1, succeeded: 1, runnable: 0, submitted: 0, pending: 0 },
      });
    });

    it('an array child id (with a colon) works', async () => {
      const res = await getJson(`${t.url}/api/v1/jobs/${parentId}:1`);
      expect(res.status).to.equal(200);
      expect(res.body.array_parent_id).to.equal(parentId);
    });

    it('status: {id, status}', async () => {
      const res = await getJson(`${t.url}/api/v1/jobs/${parentId}/status`);
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ id: parentId, status: 'RUNNING' });
    });

    it('children: ordered by array index', async () => {
      const res = await getJson(`${t.url}/api/v1/jobs/${parentId}/children`);
      expect(res.status).to.equal(200);
      expect(res.body.map((j: JobJson) => j.id)).to.deep.equal([`${parentId}:0`, `${parentId}:1`]);
    });

    it('unknown ids are 404 JSON on every lookup', async () => {
      for (const suffix of ['', '/status', '/children', '/logs?format=text']) {
        const res = await getJson(`${t.url}/api/v1/jobs/ffffffff-0000-4000-8000-000000000000${suffix}`);
        expect(res.status, suffix).to.equal(404);
        expect(res.body, suffix).to.deep.equal({ error: 'job not found', id: 'ffffffff-0000-4000-8000-000000000000' });
      }
    });
  });

  describe('GET /api/v1/jobs/stats', () => {
    const base = Date.UTC(2026, 9, 1, 0, 0, 0) / 1000; // 2026-10-01T00:00Z
    before(async () => {
      await insertJobs(t.db, [
        job({
          job_name: 'stats-1', job_queue: 'q-stats', status: 'SUCCEEDED', vcpus: 2, memory: 1024,
          run_started_at: new Date((base + 60) * 1000), stopped_at: new Date((base + 160) * 1000),
        }),
        job({
          job_name: 'stats-2', job_queue: 'q-stats', status: 'FAILED', vcpus: 4, memory: 2048,
          run_started_at: new Date((base + 400) * 1000), stopped_at: new Date((base + 410) * 1000),
        }),
        job({
          job_name: 'stats-3', job_queue: 'q-stats-other', status: 'SUCCEEDED', vcpus: 1, memory: 512,
          run_started_at: new Date((base + 30) * 1000), stopped_at: new Date((base + 40) * 1000),
        }),
      ]);
    });
    const stats = async (query: string) => {
      const res = await getJson(`${t.url}/api/v1/jobs/stats?${query}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      return res.body as { job_queue: string; status: string; timestamp: number; vcpu_seconds: number; job_count: number; interval: number; memory_seconds: number; instance_seconds: number }[];
    };

    it('rows per queue, status and bucket with the SPEC fields', async () => {
      const rows = await stats(`start=${base}&end=${base + 1800}&queue=q-stats`);
      expect(rows).to.have.length(2);
      const ok = rows.find((r) => r.status === 'SUCCEEDED')!;
      expect(ok).to.include({ job_queue: 'q-stats', timestamp: base, vcpu_seconds: 200, memory_seconds: 102400, job_count: 1, interval: 300, instance_seconds: 0 });
      const failed = rows.find((r) => r.status === 'FAILED')!;
      expect(failed).to.include({ timestamp: base + 300, vcpu_seconds: 40, job_count: 1 });
    });

    it('queue and status filters (comma lists)', async () => {
      expect((await stats(`start=${base}&end=${base + 1800}`)).length).to.equal(3);
      expect((await stats(`start=${base}&end=${base + 1800}&queue=q-stats,q-stats-other&status=SUCCEEDED`)).length).to.equal(2);
      expect((await stats(`start=${base}&end=${base + 1800}&status=failed`)).map((r) => r.status)).to.deep.equal(['FAILED']);
    });

    it('interval follows the span: 5 min, 15 min, 1 h, 6 h, 1 day', async () => {
      const spans: [number, number][] = [
        [1800, 300],
        [2 * 3600, 900],
        [24 * 3600, 3600],
        [7 * 86400, 21600],
        [60 * 86400, 86400],
      ];
      for (const [span, interval] of spans) {
        const rows = await stats(`start=${base}&end=${base + span}&queue=q-stats`);
        expect(rows.length, String(span)).to.be.greaterThan(0);
        for (const row of rows) expect(row.interval, String(span)).to.equal(interval);
      }
    });
  });
  describe('TERMINATED: the API filter and display_status follow the domain rule', () => {
    const cases: { status: 'FAILED' | 'SUCCEEDED' | 'RUNNING'; exitcode: number | null; status_reason: string | null; termination_requested: boolean }[] = [];
    before(async () => {
      for (const status of ['FAILED', 'SUCCEEDED', 'RUNNING'] as const)
        for (const exitcode of [null, 0, 1, 130, 137, 143])
          for (const status_reason of [null, 'Essential container in task exited', 'Terminated by alice: stuck', 'OutOfMemoryError: Container killed due to memory usage'])
            for (const termination_requested of [false, true]) cases.push({ status, exitcode, status_reason, termination_requested });
      const rows = cases.map((c, i) => job({ job_name: `term-${i}`, job_queue: 'q-term', status: c.status, exitcode: c.exitcode, status_reason: c.status_reason }));
      await insertJobs(t.db, rows);
      for (const [i, c] of cases.entries()) {
        if (c.termination_requested) await t.db('jobs').where({ job_id: rows[i].job_id }).update({ termination_requested: true });
      }
    });

    it('status=TERMINATED returns exactly the jobs displayStatusOf calls TERMINATED, each with that display_status', async () => {
      const expected = cases.flatMap((c, i) => (displayStatusOf(c) === 'TERMINATED' ? [`term-${i}`] : [])).sort();
      expect(expected.length).to.be.greaterThan(10);
      const all: JobJson[] = [];
      for (let page = 0; ; page++) {
        const batch = await search(`queue=q-term&status=terminated&page=${page}`);
        all.push(...batch);
        if (batch.length < 100) break;
      }
      expect(names(all)).to.deep.equal(expected);
      for (const j of all) expect(j.display_status).to.equal('TERMINATED');
      // An OOM kill is FAILED with its note; FAILED,TERMINATED together is every FAILED job.
      const oom = cases.findIndex((c) => c.status === 'FAILED' && c.exitcode === 137 && c.status_reason?.startsWith('OutOfMemory') && !c.termination_requested);
      const [oomJob] = await search(`q=term-${oom}&queue=q-term&status=FAILED`);
      expect(oomJob).to.include({ display_status: 'FAILED', status_note: 'out of memory' });
      expect((await search('queue=q-term&status=FAILED,TERMINATED')).length).to.equal(cases.filter((c) => c.status === 'FAILED').length);
    });
  });
});
