/**
 * Issue 16 "compiled, lean, current", checked without a Docker engine: the
 * Dockerfile's stages and user, the production dependency tree, and that every
 * production dependency is one the code imports.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');

interface Stage {
  name: string;
  from: string;
  instructions: { op: string; args: string }[];
}

/** FROM/RUN/COPY/... per stage; continuation lines joined, comments dropped. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [, op, args] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const [, image, name] = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args) ?? [];
      stages.push({ name: name ?? String(stages.length), from: image, instructions: [] });
    } else {
      stages[stages.length - 1].instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return stages;
}

describe('build: Dockerfile and dependencies', function () {
  this.timeout(120_000);
  const stages = parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  const final = stages[stages.length - 1];
  const ops = (stage: Stage, op: string) => stage.instructions.filter((i) => i.op === op).map((i) => i.args);

  it('is multi-stage on the current Node LTS (24), every stage', () => {
    expect(stages.length).to.be.at.least(2);
    for (const s of stages) expect(s.from, s.name).to.match(/^node:24[-.]/);
  });

  it('runs as a non-root user with a HEALTHCHECK and the compiled entry', () => {
    const users = ops(final, 'USER');
    expect(users, 'USER in the final stage').to.have.length.greaterThan(0);
    expect(users[users.length - 1]).to.not.match(/^(root|0)(:|$)/);
    expect(ops(final, 'HEALTHCHECK')).to.have.length(1);
    expect(ops(final, 'HEALTHCHECK')[0]).to.match(/CMD/);
    expect(ops(final, 'ENTRYPOINT').join(' ')).to.contain('bin/batchiepatchie');
    expect(ops(final, 'ENV').join(' ')).to.match(/NODE_ENV=production/);
  });

  it('the final stage installs nothing and takes node_modules from a production-only install', () => {
    expect(ops(final, 'RUN'), 'no RUN in the final stage').to.deep.equal([]);
    expect(ops(final, 'COPY').some((a) => /^\.\s/.test(a)), 'no COPY of the whole context').to.equal(false);
    const modules = ops(final, 'COPY').filter((a) => /\bnode_modules\b/.test(a));
    expect(modules).to.have.length(1);
    const source = /--from=(\S+)/.exec(modules[0])?.[1];
    const stage = stages.find((s) => s.name === source);
    expect(stage, `stage ${source}`).to.not.equal(undefined);
    const installs = ops(stage!, 'RUN').filter((a) => /\bnpm (ci|install|i)\b/.test(a));
    expect(installs).to.have.length(1);
    expect(installs[0]).to.match(/--omit=dev/);
  });

  it('everything the final stage copies from the build stage is made by `npm run build`', () => {
    const fromBuild = ops(final, 'COPY')
      .filter((a) => /--from=build\b/.test(a))
      .map((a) => a.replace(/--from=\S+\s+/, '').split(/\s+/)[0].replace(/^\/app\//, ''));
    expect(fromBuild).to.include.members(['dist', 'frontend/dist', 'packages/aws-batch-simulator/dist']);
    for (const p of fromBuild) expect(existsSync(path.join(ROOT, p)), `${p} (npm test builds it)`).to.equal(true);
  });

  it('`npm ls --omit=dev` is satisfied; the production install holds no build or test tool', async () => {
    await run('npm', ['ls', '--omit=dev'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }); // throws on a non-zero exit
    // What `npm ci --omit=dev --omit=optional` (the Dockerfile's deps stage) installs: the lockfile's
    // entries that are neither dev nor optional (devOptional: optional peers of production packages).
    const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean }>;
    };
    const installed = new Set(
      Object.entries(lock.packages)
        .filter(([p, e]) => p.includes('node_modules/') && !e.dev && !e.optional && !e.devOptional)
        .map(([p]) => p.slice(p.lastIndexOf('node_modules/') + 'node_modules/'.length)),
    );
    expect(installed.size).to.be.greaterThan(50);
    for (const dep of ['koa', 'knex', 'bullmq', '@aws-sdk/client-batch', 'pino']) expect(installed.has(dep), dep).to.equal(true);
    for (const tool of ['typescript', 'tsx', 'mocha', 'chai', 'vite', 'esbuild', 'playwright-core', 'react', 'autocannon']) {
      expect(installed.has(tool), tool).to.equal(false);
    }
    const deps = stages.find((s) => ops(s, 'RUN').some((a) => /--omit=dev/.test(a)));
    expect(ops(deps!, 'RUN').join(' ')).to.match(/npm ci --omit=dev --omit=optional/);
  });

  it('every production dependency is imported by the code; one version of each AWS SDK client and bull-board package', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const files: string[] = [];
    const collect = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = path.join(dir, name);
        if (statSync(p).isDirectory()) collect(p);
        else if (/\.ts$/.test(name)) files.push(p);
      }
    };
    for (const dir of ['src', 'migrations']) collect(path.join(ROOT, dir));
    const code = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    // Peer dependency of the OpenTelemetry instrumentations: installed for them, imported by none of ours.
    const peers = new Set(['@opentelemetry/api']);
    const unused = Object.keys(pkg.dependencies).filter(
      (dep) => !peers.has(dep) && !new RegExp(`(from|require\\()\\s*['"]${dep.replace(/[/.]/g, '\\$&')}(/[^'"]*)?['"]`).test(code),
    );
    expect(unused).to.deep.equal([]);
    const versionsOf = (prefix: string) =>
      new Set(Object.entries(pkg.dependencies).filter(([d]) => d.startsWith(prefix)).map(([, v]) => v));
    expect([...versionsOf('@aws-sdk/client-')]).to.have.length(1);
    expect([...versionsOf('@bull-board/')]).to.have.length(1);
  });

  it('the frontend takes server types from the API contract module only', () => {
    const files: string[] = [];
    const collect = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = path.join(dir, name);
        if (statSync(p).isDirectory()) collect(p);
        else if (/\.tsx?$/.test(name)) files.push(p);
      }
    };
    collect(path.join(ROOT, 'frontend/src'));
    const serverImports = files.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/from '((?:\.\.\/)+src\/[^']+)'/g)].map((m) => path.resolve(path.dirname(f), m[1])),
    );
    expect(serverImports.length).to.be.greaterThan(0);
    expect([...new Set(serverImports)]).to.deep.equal([path.join(ROOT, 'src/api/contract')]);
  });
});
