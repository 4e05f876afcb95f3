// multilog's actions beyond 0.76: T (ISO 8601 UTC stamps), S (a cap on
// the total size of the archived files), a (rotation of current by the age
// of its first line); alone and with s, n, !, patterns, e and =; bad values.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { bin, cbin, Procs, run, waitFor } from './helpers';
import { archivedBytes, archivedNames, currentOf, finishedCurrent, logged, Logger, numbered, wakeups } from './multilog-util';

const procs = new Procs();
after(() => procs.cleanup());

const ISO_LINE = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}000)  (.*)$/;

/** The time a `T` stamp stands for (UTC), in ms. */
function isoTime(stamp: string): number {
  return Date.parse(`${stamp.slice(0, 10)}T${stamp.slice(11, 23)}Z`);
}

function dirIn(prefix: string): string {
  return path.join(procs.tmpdir(prefix), 'd');
}

/** Writes text, then waits until `current` holds exactly `expect`. */
async function writeAndSee(ml: Logger, dir: string, text: string, expect: string): Promise<void> {
  await ml.write(text);
  await waitFor(() => currentOf(dir) === expect, `current holding ${JSON.stringify(expect.slice(-40))}`);
}

/** Rotates `current` with SIGALRM and waits for the rotation (an empty current, `count` archives seen). */
async function alarm(ml: Logger, dir: string, seen: () => boolean): Promise<void> {
  ml.signal('SIGALRM');
  await waitFor(() => currentOf(dir) === '' && seen(), 'the rotation');
}

test('multilog T: each line gets the UTC time, YYYY-MM-DD HH:MM:SS.NNNNNNNNN and two spaces', async () => {
  const d = dirIn('ml-T-');
  const before = Date.now();
  const r = await run(bin('multilog'), ['T', d], { input: 'one\ntwo\n\nlast, no newline' });
  const afterRun = Date.now();
  assert.equal(r.code, 0);
  const lines = fs.readFileSync(path.join(d, 'current'), 'latin1').split('\n');
  assert.equal(lines.pop(), '');
  assert.deepEqual(lines.map((l) => ISO_LINE.exec(l)?.[2]), ['one', 'two', '', 'last, no newline']);
  for (const l of lines) {
    const t = isoTime(ISO_LINE.exec(l)![1]);
    // the stamp is UTC whatever TZ says: it falls inside the run
    assert.ok(t >= Math.floor(before / 1000) * 1000 && t <= afterRun, `${l} within the run`);
  }
});

test('multilog T: the stamp is UTC whatever TZ is', async () => {
  const d = dirIn('ml-Ttz-');
  const before = Date.now();
  const r = await run(bin('multilog'), ['T', d], { input: 'x\n', env: { ...process.env, TZ: 'Asia/Tokyo' } });
  assert.equal(r.code, 0);
  const t = isoTime(ISO_LINE.exec(fs.readFileSync(path.join(d, 'current'), 'latin1').trimEnd())![1]);
  assert.ok(t >= Math.floor(before / 1000) * 1000 && t <= Date.now());
});

test('multilog T: only as the first action, like t; a later T or t changes nothing', async () => {
  const base = procs.tmpdir('ml-Tfirst-');
  const r = await run(bin('multilog'), ['t', 'T', './a', 'T', './b'], { input: 'x\n', cwd: base });
  assert.equal(r.code, 0);
  assert.match(fs.readFileSync(path.join(base, 'a', 'current'), 'latin1'), /^@[0-9a-f]{24} x\n$/);
  const r2 = await run(bin('multilog'), ['n5', 'T', './c'], { input: 'x\n', cwd: base });
  assert.equal(r2.code, 0);
  assert.equal(fs.readFileSync(path.join(base, 'c', 'current'), 'latin1'), 'x\n');
});

test('multilog T: patterns, e and = see the stamped line, as with t', async () => {
  const base = procs.tmpdir('ml-Tsel-');
  const r = await run(bin('multilog'), ['T', '-*DEBUG*', 'e', '=status', './d'], { input: 'DEBUG a\nkept\nDEBUG b\nlast\n', cwd: base });
  assert.equal(r.code, 0);
  const kept = fs.readFileSync(path.join(base, 'd', 'current'), 'latin1').split('\n').slice(0, -1);
  assert.deepEqual(kept.map((l) => ISO_LINE.exec(l)?.[2]), ['kept', 'last']);
  assert.deepEqual(r.stderr.split('\n').slice(0, -1).map((l) => ISO_LINE.exec(l)?.[2]), ['kept', 'last']);
  const status = fs.readFileSync(path.join(base, 'status'), 'latin1');
  assert.equal(status.length, 1001);
  assert.match(status, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} {2}last\n+$/);
});

test('tai64nlocal leaves T lines alone and still converts t lines beside them', async () => {
  const base = procs.tmpdir('ml-Tlocal-');
  await run(bin('multilog'), ['T', './iso'], { input: 'alpha\nbeta\n', cwd: base });
  await run(bin('multilog'), ['t', './tai'], { input: 'gamma\n', cwd: base });
  const iso = fs.readFileSync(path.join(base, 'iso', 'current'), 'latin1');
  const tai = fs.readFileSync(path.join(base, 'tai', 'current'), 'latin1');
  for (const prog of [bin('tai64nlocal'), cbin('tai64nlocal')]) {
    const r = await run(prog, [], { input: iso + tai, env: { ...process.env, TZ: 'UTC' } });
    assert.equal(r.code, 0);
    const out = r.stdout.toString();
    assert.ok(out.startsWith(iso), `${prog}: T lines unchanged`);
    assert.match(out.slice(iso.length), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} gamma\n$/, `${prog}: the t line converted`);
  }
});

test('multilog S: the archived files never take more than S bytes in all; the oldest go first; current is not counted', async () => {
  const d = dirIn('ml-S-');
  const ml = new Logger(procs, bin('multilog'), ['n100', 'S1000', d]);
  const batches: string[] = [];
  for (let i = 0; i < 6; i++) {
    const text = numbered(i * 3, i * 3 + 3, `b${i}`, 100); // 300 bytes a file
    batches.push(text);
    await writeAndSee(ml, d, text, text);
    await alarm(ml, d, () => archivedNames(d).length === Math.min(i + 1, 3) && logged(d).endsWith(text));
    assert.ok(archivedBytes(d) <= 1000, `at most 1000 bytes after rotation ${i + 1}`);
  }
  // 3 files of 300 bytes fit, a fourth would not: the newest three stay
  assert.equal(logged(d), batches.slice(3).join(''));
  const big = numbered(100, 120, 'big', 100); // 2000 bytes: more than S on its own, in current
  await writeAndSee(ml, d, big, big);
  assert.equal(archivedNames(d).length, 3, 'current is not counted');
  assert.equal(await ml.end(), 0);
  assert.equal(ml.stderr, '');
});

test('multilog S: an archived file bigger than S is removed too (as in s6-log)', async () => {
  const d = dirIn('ml-Sbig-');
  const ml = new Logger(procs, bin('multilog'), ['S100', d]);
  const text = numbered(0, 5, 'x', 100);
  await writeAndSee(ml, d, text, text);
  ml.signal('SIGALRM');
  await waitFor(() => currentOf(d) === '' && archivedNames(d).length === 0 && fs.readdirSync(d).includes('current'), 'the rotation and the removal');
  assert.equal(await ml.end(), 0);
});

test('multilog S with n: whichever is stricter decides', async () => {
  const base = procs.tmpdir('ml-Sn-');
  const byCount = path.join(base, 'count');
  const bySize = path.join(base, 'size');
  // count: n3 keeps 2 archives of 300 bytes (S10000 allows 33); size: S700 keeps 2 (n20 allows 19)
  const ml = new Logger(procs, bin('multilog'), ['n3', 'S10000', byCount, 'n20', 'S700', bySize]);
  let all = '';
  for (let i = 0; i < 5; i++) {
    const text = numbered(i * 3, i * 3 + 3, 'y', 100);
    all += text;
    await ml.write(text);
    await waitFor(() => currentOf(byCount) === text && currentOf(bySize) === text, 'the lines in both');
    ml.signal('SIGALRM');
    await waitFor(() => currentOf(byCount) === '' && currentOf(bySize) === '' && logged(byCount).endsWith(text) && logged(bySize).endsWith(text), 'both rotated');
  }
  assert.equal(archivedNames(byCount).length, 2);
  assert.equal(archivedNames(bySize).length, 2);
  assert.equal(logged(byCount), all.slice(-600));
  assert.equal(logged(bySize), all.slice(-600));
  assert.equal(await ml.end(), 0);
});

test('multilog S with s: size rotations trimmed to S as they happen', async () => {
  const d = dirIn('ml-Ss-');
  const input = numbered(0, 2000, 'z', 100); // 200 kB through files of about 4 kB
  const r = await run(bin('multilog'), ['s4096', 'n1000', 'S20000', d], { input });
  assert.equal(r.code, 0);
  const names = archivedNames(d);
  assert.ok(names.length >= 4, 'several archives kept');
  assert.ok(archivedBytes(d) <= 20000);
  // what is kept is the end of the input, whole, in order
  assert.ok(input.endsWith(logged(d)), 'a suffix of the input');
  // the last file removed (at most 4096 bytes) would not have fitted beside them
  assert.ok(archivedBytes(d) > 20000 - 4096, 'no file removed that fitted');
});

test('multilog S at start-up: archives left by an earlier run are trimmed before any input', async () => {
  const d = dirIn('ml-Sstart-');
  fs.mkdirSync(d);
  const names: string[] = [];
  for (let i = 1; i <= 5; i++) {
    const n = `@40000000600000000000000${i}.s`;
    fs.writeFileSync(path.join(d, n), 'a'.repeat(1000));
    names.push(n);
  }
  finishedCurrent(d, 'b'.repeat(5000));
  const ml = new Logger(procs, bin('multilog'), ['S2500', d]);
  await waitFor(() => archivedNames(d).length === 2, 'the trim at start-up');
  assert.deepEqual(archivedNames(d), names.slice(3), 'the two newest kept');
  assert.equal(fs.statSync(path.join(d, 'current')).size, 5000, 'current untouched');
  assert.equal(await ml.end(), 0);
});

test('multilog S with !gzip: the compressed files are what is counted', async () => {
  const d = dirIn('ml-Sgz-');
  const ml = new Logger(procs, bin('multilog'), ['n100', 'S3000', '!gzip -n', d]);
  const texts: string[] = [];
  for (let i = 0; i < 8; i++) {
    // 20 kB of text compresses to well under 1 kB: several compressed files fit in 3000 bytes
    const text = numbered(i * 200, i * 200 + 200, `g${i}`, 100);
    texts.push(text);
    await writeAndSee(ml, d, text, text);
    ml.signal('SIGALRM');
    await waitFor(() => currentOf(d) === '' && archivedNames(d).some((n) => zlib.gunzipSync(fs.readFileSync(path.join(d, n))).toString('latin1') === text), `rotation ${i}`);
    assert.ok(archivedBytes(d) <= 3000);
  }
  const kept = archivedNames(d).map((n) => zlib.gunzipSync(fs.readFileSync(path.join(d, n))).toString('latin1'));
  assert.ok(kept.length >= 2 && kept.length < 8, `${kept.length} compressed files kept`);
  assert.deepEqual(kept, texts.slice(-kept.length), 'the newest, in order');
  assert.ok(archivedBytes(d) + fs.statSync(path.join(d, archivedNames(d)[0])).size > 3000, 'one more would not fit: the cap decided, not the count');
  assert.equal(await ml.end(), 0);
  assert.equal(ml.stderr, '');
});

test('multilog S with patterns: each directory its own cap', async () => {
  const base = procs.tmpdir('ml-Spat-');
  const ml = new Logger(procs, bin('multilog'), ['-ERR*', 'S500', './info', '-*', '+ERR*', 'S10000', './err'], { cwd: base });
  const info = path.join(base, 'info');
  const err = path.join(base, 'err');
  let errAll = '';
  let infoLast = '';
  for (let i = 0; i < 4; i++) {
    const inf = numbered(i * 2, i * 2 + 2, `INFO${i}`, 200);
    const er = numbered(i, i + 1, `ERR${i}`, 100);
    errAll += er;
    infoLast = inf;
    await ml.write(inf + er);
    await waitFor(() => currentOf(info) === inf && currentOf(err) === er, 'both');
    ml.signal('SIGALRM');
    await waitFor(() => currentOf(info) === '' && currentOf(err) === '' && logged(err) === errAll, 'both rotated');
  }
  assert.equal(logged(info), infoLast, 'one 400-byte file fits in 500');
  assert.equal(logged(err), errAll, 'all four fit in 10000');
  assert.equal(await ml.end(), 0);
});

test('multilog a: current is rotated once its first line is older than the age, even when small', async () => {
  const d = dirIn('ml-a-');
  const ml = new Logger(procs, bin('multilog'), ['a1', d]);
  // the clock moves: a few rounds, each rotated by age alone
  for (let i = 0; i < 3; i++) {
    const text = `round ${i}\n`;
    await ml.write(text);
    await waitFor(() => archivedNames(d).length === i + 1 && currentOf(d) === '', `age rotation ${i + 1}`);
    assert.equal(fs.readFileSync(path.join(d, archivedNames(d)[i]), 'latin1'), text);
    assert.equal(fs.statSync(path.join(d, archivedNames(d)[i])).mode & 0o777, 0o744);
  }
  assert.equal(await ml.end(), 0);
  assert.equal(ml.stderr, '');
});

test('multilog a: an idle multilog with an empty current does not wake up; one with lines wakes to rotate them', async () => {
  const d = dirIn('ml-aidle-');
  const ml = new Logger(procs, bin('multilog'), ['a1', d]);
  await waitFor(() => currentOf(d) === '', 'started');
  // a window of 2.5 times the age: a timer armed while empty would wake it at least twice
  // (one stray wakeup of the main thread, seen once in CI, is not a timer's)
  const before = wakeups(ml.pid);
  await new Promise((r) => setTimeout(r, 2500));
  assert.ok(wakeups(ml.pid) - before <= 1, 'no wakeups while idle and empty');
  await ml.write('wake\n');
  await waitFor(() => archivedNames(d).length === 1, 'the rotation on time with no more input');
  const rotated = wakeups(ml.pid);
  await new Promise((r) => setTimeout(r, 2500));
  assert.ok(wakeups(ml.pid) - rotated <= 1, 'none once current is empty again');
  assert.equal(await ml.end(), 0);
});

test('multilog a with no input at all: lines left by an earlier run are rotated on time', async () => {
  const d = dirIn('ml-anoin-');
  finishedCurrent(d, 'old line\n');
  const ml = new Logger(procs, bin('multilog'), ['a2', d]);
  await waitFor(() => archivedNames(d).length === 1, 'the rotation without input');
  assert.equal(fs.readFileSync(path.join(d, archivedNames(d)[0]), 'latin1'), 'old line\n');
  assert.equal(currentOf(d), '');
  assert.equal(await ml.end(), 0);
});

test('multilog a: a current whose last change is older than the age is rotated at start-up', async () => {
  const d = dirIn('ml-aold-');
  finishedCurrent(d, 'yesterday\n');
  const day = Date.now() / 1000 - 86400;
  fs.utimesSync(path.join(d, 'current'), day, day);
  const r = await run(bin('multilog'), ['a3600', d], { input: 'today\n' });
  assert.equal(r.code, 0);
  assert.equal(archivedNames(d).length, 1);
  assert.equal(fs.readFileSync(path.join(d, archivedNames(d)[0]), 'latin1'), 'yesterday\n');
  assert.equal(currentOf(d), 'today\n');
});

test('multilog a with s: a size rotation starts the age again', async () => {
  const d = dirIn('ml-as-');
  const ml = new Logger(procs, bin('multilog'), ['s4096', 'a2', d]);
  const big = numbered(0, 45, 'big', 100); // 4500 bytes: one size rotation
  await ml.write(big);
  await waitFor(() => archivedNames(d).length === 1, 'the size rotation');
  await waitFor(() => archivedNames(d).length === 2, 'then the rest rotated by age');
  assert.equal(logged(d), big);
  assert.equal(await ml.end(), 0);
});

test('multilog a with patterns: each directory rotated for the age of its own lines', async () => {
  const base = procs.tmpdir('ml-apat-');
  const ml = new Logger(procs, bin('multilog'), ['a1', '-skip*', './d', '-*', '+tick*', './ticks'], { cwd: base });
  const d = path.join(base, 'd');
  const ticks = path.join(base, 'ticks');
  await ml.write('skip this\n');
  await ml.write('tick\n');
  await waitFor(() => archivedNames(ticks).length === 1, 'ticks rotated by age');
  // d took `tick` at the same time as ticks: rotated too; `skip this` never reached it
  await waitFor(() => archivedNames(d).length === 1, 'd rotated by age');
  assert.equal(logged(d), 'tick\n');
  assert.equal(await ml.end(), 0);
});

test('multilog a with !processor: the aged file goes through the processor', async () => {
  const d = dirIn('ml-aproc-');
  const ml = new Logger(procs, bin('multilog'), ['a1', '!tr a-z A-Z', d]);
  await ml.write('quiet service\n');
  await waitFor(() => archivedNames(d).length === 1, 'the processed file');
  assert.equal(fs.readFileSync(path.join(d, archivedNames(d)[0]), 'latin1'), 'QUIET SERVICE\n');
  assert.equal(await ml.end(), 0);
});

test('multilog T with !processor: the stamped lines go through the processor', async () => {
  const d = dirIn('ml-Tproc-');
  const ml = new Logger(procs, bin('multilog'), ['T', '!tr a-z A-Z', d]);
  await ml.write('quiet service\nsecond line\n');
  await waitFor(() => (currentOf(d) ?? '').split('\n').length === 3, 'both lines in current');
  await alarm(ml, d, () => archivedNames(d).length === 1);
  const lines = fs.readFileSync(path.join(d, archivedNames(d)[0]), 'latin1').split('\n');
  assert.equal(lines.pop(), '');
  assert.deepEqual(lines.map((l) => ISO_LINE.exec(l)?.[2]), ['QUIET SERVICE', 'SECOND LINE'], 'stamped, then processed');
  assert.equal(await ml.end(), 0);
});

test('multilog a: a producer that stops mid-line; the line is not cut', async () => {
  const d = dirIn('ml-amid-');
  const ml = new Logger(procs, bin('multilog'), ['a1', d]);
  await ml.write('whole line\nhalf a li');
  await waitFor(() => archivedNames(d).length === 1, 'the rotation by age');
  assert.equal(fs.readFileSync(path.join(d, archivedNames(d)[0]), 'latin1'), 'whole line\n', 'only whole lines rotated');
  await ml.write('ne, then a burst\n' + numbered(0, 50, 'burst', 60));
  await waitFor(() => archivedNames(d).length === 2, 'the next rotation by age');
  assert.equal(logged(d), 'whole line\nhalf a line, then a burst\n' + numbered(0, 50, 'burst', 60));
  assert.equal(await ml.end(), 0);
});

test('multilog a: a long line half written waits for its end before its directory is rotated', async () => {
  const base = procs.tmpdir('ml-along-');
  // ./other never takes the long line: it is rotated on time, which shows ./d's age has passed too
  // d first: its first line is flushed before other's, so it is due no later than other
  const ml = new Logger(procs, bin('multilog'), ['a1', './d', '-long*', './other'], { cwd: base });
  const d = path.join(base, 'd');
  const other = path.join(base, 'other');
  const head = 'long ' + 'x'.repeat(3000);
  await ml.write('first\n' + head);
  await waitFor(() => (currentOf(d) ?? '').length >= 1000, 'the long line begun in d');
  await waitFor(() => archivedNames(other).length === 1, 'other rotated by age');
  assert.equal(archivedNames(d).length, 0, 'd not cut in the middle of the line');
  await ml.write('y'.repeat(500) + ' end\n');
  await waitFor(() => archivedNames(d).length === 1, 'd rotated once the line ended');
  assert.equal(fs.readFileSync(path.join(d, archivedNames(d)[0]), 'latin1'), `first\n${head}${'y'.repeat(500)} end\n`);
  assert.equal(await ml.end(), 0);
});

test('multilog T S a s n together', async () => {
  const d = dirIn('ml-all-');
  const input = numbered(0, 500, 'all', 100) + 'all tail\n';
  const ml = new Logger(procs, bin('multilog'), ['T', 's4096', 'n4', 'S9000', 'a1', d]);
  await ml.write(input);
  await waitFor(() => currentOf(d) === '' && archivedNames(d).length >= 1 && logged(d).endsWith('  all tail\n'), 'everything rotated, the last part by age');
  const names = archivedNames(d);
  assert.ok(names.length <= 3, 'n4: at most 3 archives');
  assert.ok(archivedBytes(d) <= 9000);
  const kept = logged(d).split('\n').slice(0, -1);
  for (const l of kept) assert.match(l, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} {2}all (\d{6} q+|tail)$/);
  const unstamped = kept.map((l) => l.slice(31)).join('\n') + '\n';
  assert.ok(input.endsWith(unstamped), 'the newest lines, whole and in order');
  assert.equal(await ml.end(), 0);
});

test('multilog: bad S and a values are refused with exit 100 and a message; nothing is created', async () => {
  const base = procs.tmpdir('ml-bad-');
  const cases: Array<[string, string]> = [
    ['S-1', 'S takes a number of bytes (S0: no limit)'],
    ['Sabc', 'S takes a number of bytes (S0: no limit)'],
    ['S', 'S takes a number of bytes (S0: no limit)'],
    ['S12k', 'S takes a number of bytes (S0: no limit)'],
    ['S18446744073709551616', 'S takes a number of bytes (S0: no limit)'],
    ['a0', 'a takes a number of seconds from 1 to 4294967295'],
    ['a-1', 'a takes a number of seconds from 1 to 4294967295'],
    ['aabc', 'a takes a number of seconds from 1 to 4294967295'],
    ['a', 'a takes a number of seconds from 1 to 4294967295'],
    ['a4294967296', 'a takes a number of seconds from 1 to 4294967295'],
  ];
  for (const [arg, why] of cases) {
    const r = await run(bin('multilog'), ['./d', arg, './e'], { input: 'x\n', cwd: base });
    assert.equal(r.code, 100, arg);
    assert.equal(r.stderr, `multilog: fatal: bad action ${arg}: ${why}\n`, arg);
    assert.deepEqual(fs.readdirSync(base), [], `${arg}: nothing created`);
  }
});

test('multilog S0: no limit (as in s6-log), also after an earlier S', async () => {
  const base = procs.tmpdir('ml-S0-');
  const input = numbered(0, 400, 'n', 100);
  const r = await run(bin('multilog'), ['s4096', 'n100', 'S5000', './capped', 'S0', './free'], { input, cwd: base });
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  assert.equal(logged(path.join(base, 'free')), input);
  assert.ok(archivedBytes(path.join(base, 'capped')) <= 5000);
  assert.ok(archivedBytes(path.join(base, 'free')) > 5000);
});
