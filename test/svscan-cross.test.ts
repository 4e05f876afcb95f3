// Mixed trees: our svscan running the C supervise, the C svscan running our
// supervise; svstat (ours and the C one) reads both.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, bin, cbin, run, waitFor, exitOf } from './helpers';
import { CATLOG, COUNTER, SLEEPER, makeService, waitUp } from './fixtures/service';
import { killUnder, pathFor, startSvscan, superviseChildren } from './fixtures/tree';
import { readdirInOrder } from '../lib/scan/scanner';

const procs = new Procs();
const roots: string[] = [];
after(async () => {
  await procs.cleanup();
  killUnder(roots);
});

async function tree(svscan: 'ours' | 'c'): Promise<void> {
  const r = procs.tmpdir('dtn-cross-');
  roots.push(r);
  const scan = path.join(r, 'service');
  const a = makeService(path.join(scan, 'a'), SLEEPER);
  const b = makeService(path.join(scan, 'b'), COUNTER, { log: CATLOG });
  const t = startSvscan(procs, scan, r, {
    cmd: svscan === 'ours' ? bin('svscan') : cbin('svscan'),
    PATH: pathFor(svscan === 'ours' ? 'c' : 'ours'),
  });
  for (const d of [a, b, path.join(b, 'log')]) await waitUp(d);
  const sups = superviseChildren(t.pid);
  assert.equal(sups.length, 3);
  for (const p of sups) {
    const exe = fs.readlinkSync(`/proc/${p.pid}/exe`);
    if (svscan === 'ours') assert.equal(exe, cbin('supervise'), 'our svscan runs the C supervise');
    else assert.equal(path.basename(exe), path.basename(process.execPath), 'the C svscan runs our supervise (node)');
  }
  await waitFor(() => fs.readFileSync(path.join(b, 'log', 'out'), 'latin1').includes('line 3\n'), 'output through the pipe');
  for (const svstat of [bin('svstat'), cbin('svstat')]) {
    const st = await run(svstat, [a, b, path.join(b, 'log')]);
    assert.equal(st.code, 0);
    const lines = st.stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 3, st.stdout);
    for (const l of lines) assert.match(l, /: up \(pid \d+\) \d+ seconds$/, `${svstat}: ${l}`);
  }
  process.kill(t.pid, 'SIGKILL');
  await exitOf(t.child);
  assert.equal(t.output(), '', 'no warnings');
}

test('our svscan runs the C supervise (C daemontools first in PATH)', () => tree('ours'));
test('the C svscan runs our supervise (ours first in PATH)', () => tree('c'));

/** What ps shows (args, then comm) of svscan and of its supervise children, paths relative to root. */
function psLines(pid: number, root: string): string[] {
  return [pid, ...superviseChildren(pid).map((p) => p.pid)].map((p) => {
    const args = fs.readFileSync(`/proc/${p}/cmdline`, 'latin1').replace(/\0+$/, '').replaceAll('\0', ' ');
    const comm = fs.readFileSync(`/proc/${p}/comm`, 'latin1').trim();
    return `${args} ${comm}`.replaceAll(root, 'R');
  }).sort();
}


test('ps shows our svscan and supervise as the C ones; two names for one service: the first in readdir order', async () => {
  for (const side of ['ours', 'c'] as const) {
    const r = procs.tmpdir('dtn-cross-');
    roots.push(r);
    const scan = path.join(r, 'service');
    makeService(path.join(scan, 'b'), SLEEPER, { log: CATLOG });
    for (const n of ['a1', 'a2', 'a3', 'a4']) fs.symlinkSync('b', path.join(scan, n));
    const first = readdirInOrder(scan)[0];
    // found through PATH, as `ps` would show either
    const t = startSvscan(procs, scan, r, { cmd: 'svscan', PATH: pathFor(side) });
    await waitUp(path.join(scan, 'b'));
    await waitUp(path.join(scan, 'b', 'log'));
    const lines = await waitFor(() => {
      const l = psLines(t.pid, r);
      return l.length === 3 ? l : undefined;
    }, `${side}: svscan and two supervise in ps`);
    assert.deepEqual(lines, [`supervise ${first} supervise`, 'supervise log supervise', 'svscan R/service svscan'], side);
    process.kill(t.pid, 'SIGKILL');
    await exitOf(t.child);
    killUnder([r]);
  }
});

test('a warning is printed once per 5-second scan, as by the C svscan, however often entries come and go', async () => {
  const trees: { side: string; t: ReturnType<typeof startSvscan> }[] = [];
  for (const side of ['ours', 'c'] as const) {
    const r = procs.tmpdir('dtn-cross-');
    roots.push(r);
    const scan = path.join(r, 'service');
    // a new entry every 50 ms: each one wakes our watcher
    makeService(path.join(scan, 'churn'), '#!/bin/sh\ni=0\nwhile :; do i=$((i+1)); touch ../f$i; sleep 0.05; done\n');
    fs.symlinkSync('nowhere', path.join(scan, 'dangling'));
    trees.push({ side, t: startSvscan(procs, scan, r, { cmd: side === 'ours' ? bin('svscan') : cbin('svscan'), PATH: pathFor(side) }) });
  }
  // a measurement window: the 0 s and 5 s scans, not the 10 s one
  await new Promise((res) => setTimeout(res, 7000));
  const counts = trees.map(({ t }) => t.output().split('\n').filter((l) => l === 'svscan: warning: unable to stat dangling: file does not exist').length);
  for (const { t } of trees) {
    process.kill(t.pid, 'SIGKILL');
    await exitOf(t.child);
  }
  killUnder(roots);
  assert.ok(counts[1] >= 1 && counts[1] <= 2, `C: ${counts[1]}`);
  assert.ok(counts[0] >= 1 && counts[0] <= 2, `ours: ${counts[0]} warnings in 7 s (C: ${counts[1]})`);
});

test('signals ignored by the caller of svscan stay ignored in supervise and in the services, as with the C tools', async () => {
  const masks: string[] = [];
  for (const side of ['ours', 'c'] as const) {
    const r = procs.tmpdir('dtn-cross-');
    roots.push(r);
    const scan = path.join(r, 'service');
    const rec = '#!/bin/sh\ngrep SigIgn /proc/$$/status > sigign\nexec sleep 1000\n';
    makeService(path.join(scan, 'a'), rec, { log: rec });
    const t = startSvscan(procs, scan, r, {
      cmd: '/bin/sh',
      args: ['-c', `trap '' HUP USR2; exec svscan "$0"`, scan],
      PATH: pathFor(side),
    });
    const read = (f: string): string => {
      try {
        return fs.readFileSync(f, 'latin1');
      } catch {
        return '';
      }
    };
    const main = await waitFor(() => read(path.join(scan, 'a', 'sigign')), `${side}: service started`);
    const log = await waitFor(() => read(path.join(scan, 'a', 'log', 'sigign')), `${side}: log started`);
    assert.equal(main, log, side);
    masks.push(main);
    process.kill(t.pid, 'SIGKILL');
    await exitOf(t.child);
    killUnder([r]);
  }
  assert.equal(masks[0], masks[1]);
  // HUP (1) and USR2 (12)
  assert.equal(masks[1], 'SigIgn:\t0000000000000801\n');
});
