// multilog's T and S against s6-log (the same script through both, file by
// file, times masked), and directories written with T, S and a continued
// by the C multilog, and the reverse.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { bin, cbin, exitOf, Procs, run, waitFor } from './helpers';
import { archivedBytes, archivedNames, archiveView, currentOf, logged, Logger, maskAll, numbered } from './multilog-util';
import { s6 } from './wait-util';

const procs = new Procs();
after(() => procs.cleanup());

const STAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} {2}/gm;

function unstamped(text: string): string {
  return text.replace(STAMP, '');
}

interface Step {
  text: string;
  /** what the directory ends with once the text is logged (default: the text) */
  expect?: string;
  /** SIGALRM after it */
  alarm?: boolean;
}

interface Side {
  logger: Logger;
  dir: string;
}

/**
 * Runs our multilog and s6-log side by side on the same steps; each step's
 * lines are seen in `current` (stamps set aside) before the next, and a
 * step with `alarm` ends with both rotated. Returns both directories.
 */
async function sideBySide(ours: string[], theirs: string[], steps: Step[], lineByLine = false): Promise<[string, string]> {
  const base = procs.tmpdir('ml-s6-');
  const env = { ...process.env, TZ: 'UTC' };
  const mk = (prog: string, args: string[], name: string): Side => {
    const cwd = path.join(base, name);
    fs.mkdirSync(cwd);
    return { logger: new Logger(procs, prog, [...args, './d'], { cwd, env }), dir: path.join(cwd, 'd') };
  };
  const sides = [mk(bin('multilog'), ours, 'ours'), mk(s6('s6-log'), ['-b', '--', ...theirs], 's6')];
  for (const step of steps) {
    const pieces = lineByLine ? step.text.split(/(?<=\n)/) : [step.text];
    for (const piece of pieces) {
      const expect = lineByLine ? piece : step.expect ?? piece;
      for (const s of sides) {
        await s.logger.write(piece);
        await waitFor(() => unstamped(logged(s.dir)).endsWith(expect) && !fs.existsSync(path.join(s.dir, 'previous')), `${piece.slice(0, 20)} logged`);
      }
    }
    if (!step.alarm) continue;
    for (const s of sides) {
      const before = archivedNames(s.dir).join();
      s.logger.signal('SIGALRM');
      await waitFor(() => currentOf(s.dir) === '' && !fs.existsSync(path.join(s.dir, 'previous')) && archivedNames(s.dir).join() !== before, 'the rotation');
    }
  }
  for (const s of sides) {
    assert.equal(await s.logger.end(), 0);
    assert.equal(s.logger.stderr, '');
  }
  return [sides[0].dir, sides[1].dir];
}

function batches(n: number, lines: number, width: number, alarm = true): Step[] {
  return Array.from({ length: n }, (_, i) => ({ text: numbered(i * lines, (i + 1) * lines, `b${i}`, width), alarm }));
}

test('multilog T against s6-log T: the same stamp format, the same files', async () => {
  const steps: Step[] = [{ text: 'one\ntwo\n' }, { text: '\nthree\n', alarm: true }, { text: 'four\n' }];
  const [ours, theirs] = await sideBySide(['T'], ['T'], steps);
  assert.deepEqual(archiveView(ours), archiveView(theirs));
  assert.match(fs.readFileSync(path.join(ours, 'current'), 'latin1'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} {2}four\n$/);
});

test('multilog S against s6-log S: the same files kept', async () => {
  // files of 300 bytes, 1000 in all: three stay
  const [ours, theirs] = await sideBySide(['n100', 'S1000'], ['n99', 'S1000'], batches(6, 3, 100));
  assert.deepEqual(archiveView(ours), archiveView(theirs));
  assert.equal(archivedNames(ours).length, 3);
});

test('multilog S with n against s6-log (n counts current in multilog, not in s6-log)', async () => {
  const [ours, theirs] = await sideBySide(['n3', 'S2000'], ['n2', 'S2000'], batches(5, 3, 100));
  assert.deepEqual(archiveView(ours), archiveView(theirs));
  assert.equal(archivedNames(ours).length, 2);
});

test('multilog S with a pattern against s6-log (a regular expression there)', async () => {
  const steps: Step[] = batches(5, 2, 150).map((s, i) => ({ ...s, text: `DEBUG ${i} not kept\n${s.text}DEBUG too\n`, expect: s.text }));
  const [ours, theirs] = await sideBySide(['-DEBUG*', 'S700'], ['-^DEBUG', 'S700'], steps);
  assert.deepEqual(archiveView(ours), archiveView(theirs));
  assert.doesNotMatch(logged(ours), /DEBUG/);
});

test('multilog T s S against s6-log: the same cuts by size and the same files kept', async () => {
  // 97-byte lines, 128 with the stamp: a file is cut after the 17th (2176 bytes, past 4096-2000)
  const steps: Step[] = [{ text: numbered(0, 80, 'sz', 97) }];
  const [ours, theirs] = await sideBySide(['T', 's4096', 'n100', 'S5000'], ['T', 's4096', 'n99', 'S5000'], steps, true);
  assert.deepEqual(archiveView(ours), archiveView(theirs));
  assert.equal(archivedNames(ours).length, 2);
  assert.ok(archivedBytes(ours) <= 5000);
});

test('multilog S with !gzip against s6-log with ?gzip: the same compressed files kept', async () => {
  const gunzip = (b: Buffer): Buffer => zlib.gunzipSync(b);
  // 20 kB files compressing to about 560 bytes: S1500 keeps two
  const [ours, theirs] = await sideBySide(['n100', 'S1500', '!gzip -n'], ['n99', 'S1500', '?gzip -n'], batches(6, 200, 100));
  assert.deepEqual(archiveView(ours, gunzip), archiveView(theirs, gunzip));
  const sizes = (d: string): number[] => archivedNames(d).map((n) => fs.statSync(path.join(d, n)).size);
  assert.deepEqual(sizes(ours), sizes(theirs));
  assert.ok(sizes(ours).length >= 2 && sizes(ours).length < 6);
});

test('bad S values: refused by s6-log and by ours alike (exit 100); S0 accepted by both', async () => {
  const base = procs.tmpdir('ml-s6bad-');
  for (const arg of ['S-1', 'Sabc', 'S', 'S12k', 'S18446744073709551616']) {
    const theirs = await run(s6('s6-log'), [arg, './d'], { input: 'x\n', cwd: base });
    const ours = await run(bin('multilog'), [arg, './d'], { input: 'x\n', cwd: base });
    assert.equal(theirs.code, 100, `s6-log ${arg}`);
    assert.equal(ours.code, 100, `multilog ${arg}`);
    assert.match(ours.stderr, /^multilog: fatal: bad action /);
  }
  for (const arg of ['S0', 'S18446744073709551615']) {
    const theirs = await run(s6('s6-log'), [arg, './s6'], { input: 'x\n', cwd: base });
    const ours = await run(bin('multilog'), [arg, './ours'], { input: 'x\n', cwd: base });
    assert.equal(theirs.code, 0, `s6-log ${arg}`);
    assert.equal(ours.code, 0, `multilog ${arg}`);
  }
});

test('the C multilog ignores T, S and a: a 0.76 script means the same to both, and ours refuses no 0.76 script', async () => {
  const base = procs.tmpdir('ml-cign-');
  const r = await run(cbin('multilog'), ['T', 'S-1', 'a0', 'Sabc', './d'], { input: 'x\n', cwd: base });
  assert.equal(r.code, 0);
  assert.equal(fs.readFileSync(path.join(base, 'd', 'current'), 'latin1'), 'x\n');
});

/** Runs a logger on input (a pipe), waits until the directory holds `expect` (stamps set aside), ends it. */
async function logThrough(prog: string, args: string[], dir: string, input: string, expect: (logged: string) => boolean): Promise<Logger> {
  const ml = new Logger(procs, prog, [...args, dir]);
  await ml.write(input);
  await waitFor(() => fs.existsSync(dir) && expect(unstamped(logged(dir))), 'the lines logged');
  return ml;
}

test('a directory written with T, S, a and s is continued by the C multilog', async () => {
  const d = path.join(procs.tmpdir('ml-toC-'), 'd');
  const first = numbered(0, 300, 'ours', 97);
  const ml = await logThrough(bin('multilog'), ['T', 's4096', 'n100', 'S1000000', 'a1'], d, first, (l) => l === first);
  assert.equal(await ml.end(), 0);
  assert.ok(archivedNames(d).length >= 5);
  const second = numbered(300, 400, 'C', 97);
  const c = await logThrough(cbin('multilog'), ['s4096', 'n100'], d, second, (l) => l === first + second);
  assert.equal(await c.end(), 0);
  assert.equal(c.stderr, '');
  assert.equal(unstamped(logged(d)), first + second, 'every line once, in order');
});

test('a directory left by ours killed mid-run (T, S, a, processor) is recovered by the C multilog', async () => {
  const d = path.join(procs.tmpdir('ml-killtoC-'), 'd');
  const first = numbered(0, 100, 'ours', 97);
  const ml = await logThrough(bin('multilog'), ['T', 's4096', 'S1000000', 'a60', '!cat'], d, first, (l) => l === first);
  ml.signal('SIGKILL');
  await exitOf(ml.child);
  assert.equal(fs.statSync(path.join(d, 'current')).mode & 0o777, 0o644, 'current left unfinished');
  const second = numbered(100, 150, 'C', 97);
  const c = await logThrough(cbin('multilog'), ['!cat'], d, second, (l) => l === first + second);
  assert.equal(await c.end(), 0);
  assert.equal(unstamped(logged(d)), first + second);
  assert.ok(archivedNames(d).some((n) => n.endsWith('.u')), 'the unfinished current saved as .u');
});

test('a directory written (and left unfinished) by the C multilog is continued by ours with T, S and a', async () => {
  const d = path.join(procs.tmpdir('ml-fromC-'), 'd');
  const first = numbered(0, 400, 'C', 100);
  const c = await logThrough(cbin('multilog'), ['s4096', 'n100'], d, first, (l) => l === first);
  c.signal('SIGKILL');
  await exitOf(c.child);
  const before = archivedNames(d).length;
  assert.ok(before >= 8);
  // S12000 keeps the newest files of the C multilog's, the .u one (its current) among them
  const second = 'ours one\nours two\n';
  const ml = new Logger(procs, bin('multilog'), ['T', 's4096', 'n100', 'S12000', 'a1', d]);
  await ml.write(second);
  // the newest old file is ours, rotated by age (looking at current and then at the rest would race
  // the lines' arrival in current: an empty current, then both lines there, looks the same)
  const ours = /^ISO {2}ours one\nISO {2}ours two\n$/;
  const newest = (): string => maskAll(fs.readFileSync(path.join(d, archivedNames(d).at(-1)!)));
  await waitFor(() => ours.test(newest()) && currentOf(d) === '', 'recovered, trimmed and rotated by age');
  assert.equal(await ml.end(), 0);
  assert.equal(ml.stderr, '');
  assert.ok(archivedBytes(d) <= 12000);
  assert.ok(archivedNames(d).some((n) => n.endsWith('.u')), 'the C current saved as .u and kept');
  const all = unstamped(logged(d));
  assert.ok(all.endsWith(second));
  assert.ok(first.endsWith(all.slice(0, -second.length)), 'what is kept of the C lines is their end, whole');
  assert.match(newest(), ours);
});
