// The Scanner object (lib/scan/scanner.ts) on its own: the periodic rescan finds
// new services with no watcher at all, and the watcher alone finds them well
// within half a second when the periodic rescan is far away.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Diag } from '../lib/os/errors';
import { Scanner } from '../lib/scan/scanner';
import { Procs } from './helpers';
import { SLEEPER, makeService, waitUp } from './fixtures/service';
import { killUnder, pathFor } from './fixtures/tree';

const procs = new Procs();
const roots: string[] = [];
const scanners: Scanner[] = [];
const cwd = process.cwd();
process.env.PATH = pathFor('ours');
after(async () => {
  for (const s of scanners) await s.stop({ graceMs: 5000, drainMs: 1000 });
  process.chdir(cwd);
  killUnder(roots);
  await procs.cleanup();
});

function scanDir(): string {
  const r = procs.tmpdir('dtn-scanner-');
  roots.push(r);
  const scan = path.join(r, 'service');
  fs.mkdirSync(scan);
  return scan;
}

test('scanner: with no watcher, the periodic rescan starts a new service', async () => {
  const scan = scanDir();
  process.chdir(scan);
  const scanner = new Scanner({ diag: new Diag('svscan'), rescanMs: 300, watchDelayMs: 0 });
  scanners.push(scanner);
  scanner.start();
  const a = makeService(path.join(path.dirname(scan), 'a'), SLEEPER);
  fs.symlinkSync(a, path.join(scan, 'a'));
  await waitUp(a, { what: 'a, started by a periodic rescan', timeoutMs: 5000 });
  assert.equal(scanner.pids().length, 1);
  assert.deepEqual(await scanner.stop({ graceMs: 5000, drainMs: 1000 }), [], 'stopped');
});

test('scanner: the watcher alone starts a new service (the periodic rescan is an hour away)', async (t) => {
  const scan = scanDir();
  process.chdir(scan);
  const scanner = new Scanner({ diag: new Diag('svscan'), rescanMs: 3600000 });
  scanners.push(scanner);
  scanner.start();
  const times: number[] = [];
  for (const name of ['b', 'c', 'd']) {
    const dir = makeService(path.join(path.dirname(scan), name), SLEEPER);
    const t0 = Date.now();
    fs.symlinkSync(dir, path.join(scan, name));
    // the hour-long periodic rescan cannot be what starts it
    await waitUp(dir, { what: `${name}, started through the watcher`, timeoutMs: 5000 });
    times.push(Date.now() - t0);
  }
  t.diagnostic(`symlink to running service (ms): ${times.join(', ')}`);
  assert.equal(scanner.pids().length, 3);
  assert.deepEqual(await scanner.stop({ graceMs: 5000, drainMs: 1000 }), [], 'stopped');
});
