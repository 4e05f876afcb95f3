// multilog never loses or duplicates a line: SIGTERM mid-stream (the rest
// read by the next multilog, here the C one), SIGKILL and restart, a full
// disk (a small tmpfs), and SIGALRM.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { bin, cbin, Procs, waitFor, endOf, exitOf } from './helpers';
import { fillUp, logged, numbered, smallDisk, unmountAll } from './multilog-util';

const procs = new Procs();
const mounts: string[] = [];
after(async () => {
  await procs.cleanup();
  unmountAll(mounts);
});

const lines = (from: number, to: number, tag: string): string => numbered(from, to, tag, 90);

function write(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => child.stdin!.write(text, (e) => (e ? reject(e) : resolve())));
}

test('multilog: SIGTERM finishes the line, exits 0, and the next multilog gets the rest', async () => {
  const base = procs.tmpdir('ml-term-');
  const d = path.join(base, 'd');
  const pidFile = path.join(base, 'pid');
  const script = `sh -c 'echo $$ > ${pidFile}; exec ${bin('multilog')} ${d}'; exec ${cbin('multilog')} ${d}`;
  const sh = procs.start('sh', ['-c', script], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  sh.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const first = lines(0, 2000, 'a');
  await write(sh, first + 'the line cut by SIGTERM');
  const pid = Number(await waitFor(() => fs.readFileSync(pidFile, 'utf8').trim(), 'the first multilog'));
  await waitFor(() => fs.existsSync(path.join(d, 'current')) && logged(d).length >= first.length, 'the first lines on disk');
  process.kill(pid, 'SIGTERM');
  const rest = ' ends here\n' + lines(2000, 6000, 'b');
  await write(sh, rest);
  sh.stdin!.end();
  assert.equal((await endOf(sh))?.code, 0);
  assert.equal(stderr, '');
  assert.equal(logged(d), first + 'the line cut by SIGTERM' + rest, 'every line exactly once, in order');
});

test('multilog: after SIGKILL and a restart, everything written before the kill is kept', async () => {
  const base = procs.tmpdir('ml-kill-');
  const d = path.join(base, 'd');
  const one = procs.start(bin('multilog'), ['s16384', 'n100', d], { stdio: ['pipe', 'ignore', 'ignore'] });
  const before = lines(0, 1000, 'k');
  await write(one, before);
  await waitFor(() => fs.existsSync(path.join(d, 'current')) && logged(d) === before, 'the lines on disk');
  one.kill('SIGKILL');
  await exitOf(one);
  assert.equal(fs.statSync(path.join(d, 'current')).mode & 0o777, 0o644, 'current left unfinished');
  const two = procs.start(bin('multilog'), ['s16384', 'n100', d], { stdio: ['pipe', 'ignore', 'pipe'] });
  const afterKill = lines(1000, 1500, 'r');
  await write(two, afterKill);
  two.stdin!.end();
  assert.equal((await exitOf(two))?.code, 0);
  const saved = fs.readdirSync(d).filter((n) => n.endsWith('.u'));
  assert.equal(saved.length, 1, 'the unfinished current saved as one @….u file');
  assert.equal(logged(d).split('\n').filter((l) => l.startsWith('k')).length, 1000);
  const all = logged(d);
  // the .u file sorts before the .s files written after it, so order holds
  assert.equal(all, before + afterKill);
  assert.equal(fs.statSync(path.join(d, 'current')).mode & 0o777, 0o744);
});

test('multilog: a full disk makes it warn, pause and retry; no line lost or duplicated', async () => {
  const mnt = smallDisk(mounts, 'ml-full-', 256);
  const d = path.join(mnt, 'd');
  const ml = procs.start(bin('multilog'), ['s16384', 'n100', d], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  ml.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  await waitFor(() => fs.existsSync(path.join(d, 'current')), 'the log directory');
  const filler = fillUp(path.join(mnt, 'filler'));
  const text = lines(0, 600, 'f');
  await write(ml, text);
  await waitFor(() => stderr.includes(`multilog: warning: unable to write to ${d}/current, pausing: out of disk space\n`),
    'the out-of-space warning', 15000);
  fs.unlinkSync(filler);
  await waitFor(() => logged(d) === text, 'every line once space is back', 20000);
  ml.stdin!.end();
  assert.equal((await exitOf(ml))?.code, 0);
  assert.equal(logged(d), text);
  assert.ok(fs.readdirSync(d).filter((n) => n.endsWith('.s')).length >= 2, 'rotations happened');
});

test('multilog: SIGALRM rotates a non-empty current at once', async () => {
  const base = procs.tmpdir('ml-alrm-');
  const d = path.join(base, 'd');
  const ml = procs.start(bin('multilog'), [d], { stdio: ['pipe', 'ignore', 'ignore'] });
  await write(ml, 'a\nb\n');
  await waitFor(() => fs.existsSync(path.join(d, 'current')) && fs.readFileSync(path.join(d, 'current'), 'latin1') === 'a\nb\n', 'the lines');
  ml.kill('SIGALRM');
  await waitFor(() => fs.readdirSync(d).some((n) => n.endsWith('.s')), 'the rotation');
  const s = fs.readdirSync(d).filter((n) => n.endsWith('.s'));
  assert.equal(s.length, 1);
  assert.equal(fs.readFileSync(path.join(d, s[0]), 'latin1'), 'a\nb\n');
  assert.equal(fs.statSync(path.join(d, s[0])).mode & 0o777, 0o744);
  assert.equal(fs.readFileSync(path.join(d, 'current'), 'latin1'), '');
  await write(ml, 'c\n');
  ml.stdin!.end();
  assert.equal((await exitOf(ml))?.code, 0);
  assert.equal(logged(d), 'a\nb\nc\n');
});
