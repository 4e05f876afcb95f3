// Mixed trees: our svscan running the C supervise, the C svscan running our
// supervise; svstat (ours and the C one) reads both.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, bin, cbin, run, waitFor } from './helpers';
import { CATLOG, COUNTER, exitOf, killUnder, makeService, pathFor, startSvscan, superviseChildren, waitUp } from './svscan-util';

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
  const a = makeService(path.join(scan, 'a'));
  const b = makeService(path.join(scan, 'b'), COUNTER, CATLOG);
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
