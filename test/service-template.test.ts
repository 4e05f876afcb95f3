// service-template/: copied as it is into a scanned directory, it runs under
// svscan (envdir, setuidgid nobody, softlimit) and logs through multilog.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, ROOT, waitFor, exitOf } from './helpers';
import { waitUp } from './fixtures/service';
import { killUnder, startSvscan } from './fixtures/tree';

const procs = new Procs();
const roots: string[] = [];
after(async () => {
  await procs.cleanup();
  killUnder(roots);
});

function readOr(file: string, fallback = ''): string {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return fallback;
  }
}

test('service-template: copied into a scanned directory, it runs as nobody with its limits and logs its greeting', async () => {
  const root = procs.tmpdir('dtn-template-');
  roots.push(root);
  const scan = path.join(root, 'service');
  const app = path.join(root, 'services', 'app');
  fs.mkdirSync(scan);
  fs.cpSync(path.join(ROOT, 'service-template'), app, { recursive: true });
  fs.symlinkSync(app, path.join(scan, 'app'));
  const tree = startSvscan(procs, scan, root);

  const pid = await waitUp(app, { what: 'the template service', timeoutMs: 15000 });
  await waitUp(path.join(app, 'log'), { what: 'its log service' });
  const greeting = fs.readFileSync(path.join(app, 'env', 'GREETING'), 'latin1').split('\n')[0];
  const current = path.join(app, 'log', 'main', 'current');
  const line = await waitFor(() => readOr(current).split('\n').find((l) => l.endsWith(` ${greeting}`)) ?? '', 'the greeting in log/main/current', 10000);
  assert.match(line, /^@[0-9a-f]{24} /, 'stamped by multilog t');

  const status = readOr(`/proc/${pid}/status`);
  assert.match(status, /^Uid:\t65534\t65534\t65534\t65534$/m, 'setuidgid nobody');
  assert.match(status, /^Groups:\t65534 ?$/m);
  const limits = readOr(`/proc/${pid}/limits`);
  assert.match(limits, /^Max address space\s+2000000000\s/m, 'softlimit -m');
  assert.match(limits, /^Max open files\s+1024\s/m, 'softlimit -o');

  process.kill(tree.pid, 'SIGTERM');
  assert.equal((await exitOf(tree.child))?.code, 0);
  assert.equal(tree.output(), '', 'no warnings');
});
