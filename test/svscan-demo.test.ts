// `make demo` (scripts/demo.sh): the tree comes up without root, and Ctrl-C
// (SIGINT to the terminal's foreground process group) stops it cleanly.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, ROOT, bin, run, waitFor, exitOf } from './helpers';
import { waitUp } from './fixtures/service';
import { allProcs, killUnder } from './fixtures/tree';

const procs = new Procs();
const roots: string[] = [];
after(async () => {
  await procs.cleanup();
  killUnder(roots);
});

test('demo: two services (one logged through multilog) come up, svctl adds and removes a third; Ctrl-C stops everything', async () => {
  const dir = path.join(procs.tmpdir('dtn-demo-'), 'demo');
  roots.push(path.dirname(dir));
  const out = path.join(path.dirname(dir), 'demo.out');
  const fd = fs.openSync(out, 'w');
  // detached: its own process group, as the foreground group of a terminal
  const demo = procs.start('sh', [path.join(ROOT, 'scripts', 'demo.sh')], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, DEMO_DIR: dir },
  });
  fs.closeSync(fd);
  const clock = path.join(dir, 'service', 'clock');
  await waitUp(clock, { what: 'clock', timeoutMs: 20000 });
  await waitUp(path.join(clock, 'log'), { what: 'clock/log' });
  await waitUp(path.join(dir, 'service', 'sleeper'), { what: 'sleeper' });
  await waitFor(() => /tick \d{4}-/.test(fs.readFileSync(path.join(clock, 'log', 'main', 'current'), 'latin1')), 'a timestamped line in the log', 10000);
  assert.match(fs.readFileSync(out, 'latin1'), /svstat service/, 'the instructions are shown');
  const real = fs.realpathSync(dir);
  const running = allProcs().filter((p) => p.cwd.startsWith(real + '/'));
  assert.ok(running.length >= 6, 'supervise x3, clock, multilog, sleeper');
  const svscan = allProcs().find((p) => p.argv.includes(path.join(dir, 'service')) && p.argv.some((a) => a === 'svscan' || a.endsWith('svscan.js')));
  assert.ok(svscan, 'svscan runs');
  assert.notEqual(svscan.pgrp, demo.pid, 'svscan is out of the terminal\'s process group');

  // the instructions' svctl lines: a service added by name to the running demo tree, then removed
  // (one process, so that nothing of it outlives its stop)
  assert.match(fs.readFileSync(out, 'latin1'), /svctl add hello/);
  const svctlEnv = { ...process.env, SVCTL_SCANDIR: path.join(dir, 'service'), SVCTL_SERVICES: path.join(dir, 'services') };
  const added = await run(bin('svctl'), ['add', 'hello', '--', 'sh', '-c', 'echo hello; exec sleep 1000'], { env: svctlEnv });
  assert.equal(added.code, 0, added.stderr);
  await waitFor(() => /hello/.test(fs.readFileSync(path.join(dir, 'services', 'hello', 'log', 'main', 'current'), 'latin1')), 'hello in its log', 10000);
  const removed = await run(bin('svctl'), ['rm', '--purge', 'hello'], { env: svctlEnv });
  assert.equal(removed.code, 0, removed.stderr);
  assert.ok(!fs.existsSync(path.join(dir, 'service', 'hello')) && !fs.existsSync(path.join(dir, 'services', 'hello')));

  process.kill(-demo.pid!, 'SIGINT');
  assert.equal((await exitOf(demo))?.code, 0, fs.readFileSync(out, 'latin1'));
  assert.match(fs.readFileSync(out, 'latin1'), /nothing left running/);
  assert.deepEqual(allProcs().filter((p) => p.cwd.startsWith(real + '/') || p.pid === svscan.pid).map((p) => p.argv.join(' ')), [], 'nothing left running');
  assert.ok(fs.existsSync(bin('svscan')));
});
