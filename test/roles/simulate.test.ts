import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';

const BIN = path.join(__dirname, '../../bin/batchiepatchie');

function run(args: string[]) {
  // --import tsx: the role modules are TypeScript, loaded lazily.
  return spawn(process.execPath, ['--import', 'tsx', BIN, 'simulate', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('batchiepatchie simulate (the role)', function () {
  this.timeout(60_000);

  it('prints the endpoint and how to point the AWS CLI at it, serves, and stops cleanly on SIGTERM', async () => {
    const child = run(['--port', '0', '--scenario', 'demo', '--seed', '3', '--speed', '10']);
    let out = '';
    const endpoint = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m && out.includes('Admin:')) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    expect(out).to.contain(`aws --endpoint-url ${endpoint} batch`);
    expect(out).to.contain('AWS_ACCESS_KEY_ID');
    const state = (await (await fetch(`${endpoint}/_sim/state`)).json()) as { queues: { name: string }[] };
    expect(state.queues.map((q) => q.name)).to.include('etl-prod');
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).to.equal(0);
    expect(out).to.contain('SIGTERM: stopping the simulator');
  });

  it('says which port is taken and how to pick another', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const child = run(['--port', String(port), '--scenario', 'empty']);
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const [code] = await once(child, 'exit');
      expect(code).to.equal(1);
      expect(err).to.contain(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });

  it('rejects bad flags with a clear message and exit code 2', async () => {
    const child = run(['--scenario', 'mars']);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = await once(child, 'exit');
    expect(code).to.equal(2);
    expect(err).to.contain('--scenario: expected one of empty, demo, bulkLoad');
  });
});
