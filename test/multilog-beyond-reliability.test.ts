// T, S and a keep multilog's promises: SIGTERM mid-line (the rest for the
// next multilog, the C one), a full disk (pause and retry, also for a
// rotation by age), SIGALRM beside the age timer, and a kill while the
// processor runs.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bin, cbin, exitOf, Procs, waitFor } from './helpers';
import { archivedBytes, archivedNames, currentOf, fillUp, logged, Logger, numbered, smallDisk, unmountAll } from './multilog-util';

const procs = new Procs();
const mounts: string[] = [];
after(async () => {
  await procs.cleanup();
  unmountAll(mounts);
});

const STAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} {2}/gm;

function unstamped(text: string): string {
  return text.replace(STAMP, '');
}

test('multilog T S a: SIGTERM finishes the line, exits 0, and the C multilog gets the rest', async () => {
  const base = procs.tmpdir('ml-bterm-');
  const d = path.join(base, 'd');
  const pidFile = path.join(base, 'pid');
  const script = `sh -c 'echo $$ > ${pidFile}; exec ${bin('multilog')} T s4096 n1000 S100000000 a1 ${d}'; exec ${cbin('multilog')} s4096 n1000 ${d}`;
  const sh = new Logger(procs, 'sh', ['-c', script]);
  const first = numbered(0, 300, 'a', 100);
  await sh.write(first + 'the line cut by SIGTERM');
  const pid = Number(await waitFor(() => fs.readFileSync(pidFile, 'utf8').trim(), 'our multilog'));
  await waitFor(() => fs.existsSync(d) && unstamped(logged(d)).length >= first.length, 'the first lines on disk');
  process.kill(pid, 'SIGTERM');
  const rest = ' ends here\n' + numbered(300, 600, 'b', 100);
  await sh.write(rest);
  assert.equal(await sh.end(), 0);
  assert.equal(sh.stderr, '');
  assert.equal(unstamped(logged(d)), first + 'the line cut by SIGTERM' + rest, 'every line exactly once, in order');
});

test('multilog S a: a full disk makes it warn, pause and retry, rotations by age included; no line lost or duplicated', async () => {
  const mnt = smallDisk(mounts, 'ml-bfull-', 256);
  const d = path.join(mnt, 'd');
  const ml = new Logger(procs, bin('multilog'), ['s16384', 'n100', 'S10000000', 'a1', d]);
  await waitFor(() => currentOf(d) === '', 'the log directory');
  const filler = fillUp(path.join(mnt, 'filler'));
  const text = numbered(0, 600, 'f', 100);
  await ml.write(text);
  await waitFor(() => ml.stderr.includes(`multilog: warning: unable to write to ${d}/current, pausing: out of disk space\n`),
    'the out-of-space warning', 15000);
  fs.unlinkSync(filler);
  await waitFor(() => logged(d) === text && currentOf(d) === '', 'every line once space is back, the last ones rotated by age', 20000);
  assert.equal(await ml.end(), 0);
  assert.equal(logged(d), text);
});

test('multilog S a: SIGALRM rotates at once; the age counts again from the next line', async () => {
  const d = path.join(procs.tmpdir('ml-balrm-'), 'd');
  const ml = new Logger(procs, bin('multilog'), ['S1000000', 'a2', d]);
  await ml.write('before the alarm\n');
  await waitFor(() => currentOf(d) === 'before the alarm\n', 'the line');
  ml.signal('SIGALRM');
  await waitFor(() => archivedNames(d).length === 1 && currentOf(d) === '', 'the rotation by SIGALRM');
  await ml.write('after the alarm\n');
  await waitFor(() => archivedNames(d).length === 2 && currentOf(d) === '', 'the rotation by age');
  assert.deepEqual(archivedNames(d).map((n) => fs.readFileSync(path.join(d, n), 'latin1')), ['before the alarm\n', 'after the alarm\n']);
  assert.equal(await ml.end(), 0);
});

test('multilog S a !processor: killed while the processor runs, the next multilog loses nothing and keeps the cap', async () => {
  const base = procs.tmpdir('ml-bproc-');
  const d = path.join(base, 'd');
  // the processor tells it runs, then waits to be let go (it never is: multilog is killed meanwhile)
  const held = `echo $$ > ../proc.pid; while [ ! -e ../go ]; do sleep 0.05; done; cat`;
  const one = new Logger(procs, bin('multilog'), ['S1000000', 'a1', `!${held}`, d]);
  const text = numbered(0, 20, 'p', 100);
  await one.write(text);
  const procPid = Number(await waitFor(() => fs.readFileSync(path.join(base, 'proc.pid'), 'utf8').trim(), 'the processor running (rotation by age)'));
  procs.adopt(procPid);
  one.signal('SIGKILL');
  await exitOf(one.child);
  process.kill(procPid, 'SIGKILL');
  assert.ok(fs.existsSync(path.join(d, 'previous')), 'killed in the middle of the rotation');
  const two = new Logger(procs, bin('multilog'), ['S1000000', 'a1', '!cat', d]);
  const more = numbered(20, 30, 'q', 100);
  await two.write(more);
  await waitFor(() => logged(d) === text + more && currentOf(d) === '', 'everything, the new lines rotated by age');
  assert.equal(await two.end(), 0);
  assert.ok(archivedNames(d).some((n) => n.endsWith('.u')), 'the unprocessed file kept as .u');
  assert.ok(archivedBytes(d) <= 1000000);
});
