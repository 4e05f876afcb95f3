import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bin, cbin, run, waitFor } from './helpers';
import { PID_TRAP_RUN, makeService, rawStatus, waitDown, waitUp } from './fixtures/service';
import { MODES, StartOptions, startSupervise } from './fixtures/supervised';
import { mkfifo, notRunningDir, statusRecord, fixtures } from './fixtures/fake';
import { both, maskSeconds, outcome, runAsNobody, runBytes, bytePath } from './fixtures/compare';

const { procs, fake } = fixtures();

const svstat = bin('svstat');
const csvstat = cbin('svstat');
const U = 0x75;
const D = 0x64;

describe('svstat output is byte-identical to the C svstat', () => {
  test('every combination of pid, paused flag, want byte and down file', async () => {
    const root = procs.tmpdir();
    const dirs: string[] = [];
    const future = Math.floor(Date.now() / 1000) + 100000;
    const past = Math.floor(Date.now() / 1000) - 1000;
    for (const pid of [0, 4242]) {
      for (const paused of [0, 1, 2]) {
        for (const want of [U, D, 0, 0x78]) {
          for (const down of [false, true]) {
            for (const when of [future, past]) {
              const dir = path.join(root, `s-${pid}-${paused}-${want}-${down}-${when === future ? 'f' : 'p'}`);
              fs.mkdirSync(dir);
              if (down) fs.writeFileSync(path.join(dir, 'down'), '');
              fake(dir, statusRecord(when, pid, paused, want));
              dirs.push(dir);
            }
          }
        }
      }
    }
    const [ours, theirs] = await both(svstat, csvstat, dirs);
    assert.equal(ours.code, 0);
    assert.equal(ours.stderr, '');
    assert.equal(maskSeconds(ours.stdout), maskSeconds(theirs.stdout));
    // times in the future count as 0 seconds: no masking needed there
    const futureLines = (s: string) => s.split('\n').filter((l) => /-f: /.test(l));
    assert.deepEqual(futureLines(ours.stdout), futureLines(theirs.stdout));
    assert.equal(futureLines(ours.stdout).length, dirs.length / 2);
    // a sample of the expected wording
    assert.match(ours.stdout, /s-4242-1-100-true-f: up \(pid 4242\) 0 seconds, normally down, paused, want down\n/);
    assert.match(ours.stdout, /s-0-0-117-false-f: down 0 seconds, normally up, want up\n/);
    assert.match(ours.stdout, /s-0-1-0-true-f: down 0 seconds\n/);
  });

  test('odd time labels (zero, maximal, around 2^62) and odd pids', async () => {
    const root = procs.tmpdir();
    const labels = ['000000000000000000000000', 'ffffffffffffffffffffffff', '3fffffffffffffff00000000', '400000000000000000000000',
      '7fffffffffffffff00000000', '8000000000000000ffffffff', 'c00000000000000000000000'];
    const dirs = labels.map((hex, i) => {
      const dir = path.join(root, `l${i}`);
      fs.mkdirSync(dir);
      fake(dir, Buffer.concat([Buffer.from(hex, 'hex'), Buffer.from([1, 0, 0, 0, 0, U])]));
      return dir;
    });
    for (const [name, pid] of [['pidmax', 0xffffffff], ['pidhigh', 0x80000000]] as const) {
      const dir = path.join(root, name);
      fs.mkdirSync(dir);
      fake(dir, statusRecord(Math.floor(Date.now() / 1000) + 100, pid, 0, U));
      dirs.push(dir);
    }
    const [ours, theirs] = await both(svstat, csvstat, dirs);
    assert.match(ours.stdout, /pidmax: up \(pid 4294967295\) 0 seconds\n/, 'pids are unsigned');
    // the seconds since label 0 are about 2^62: the same figure (through a double) in both
    assert.match(ours.stdout, /l0: up \(pid 1\) 46116860\d+ seconds\n/);
    assert.equal(maskSeconds(ours.stdout), maskSeconds(theirs.stdout));
    const big = (s: string) => s.split('\n').filter((l) => /l[0-2]:/.test(l)).map((l) => l.replace(/(\d+)\d{4} seconds/, '$1 seconds'));
    assert.deepEqual(big(ours.stdout), big(theirs.stdout));
  });

  test('errors: missing dir, not a dir, no supervise, not running, bad or missing status, ok or status a directory', async () => {
    const root = procs.tmpdir();
    const mk = (name: string) => {
      const d = path.join(root, name);
      fs.mkdirSync(d);
      return d;
    };
    const file = path.join(root, 'file');
    fs.writeFileSync(file, '');
    const nosup = mk('nosup');
    const noOk = mk('nook');
    fs.mkdirSync(path.join(noOk, 'supervise'));
    const okDir = mk('okdir');
    fs.mkdirSync(path.join(okDir, 'supervise/ok'), { recursive: true });
    const notRunning = notRunningDir(root, 'notrunning', 'ok');
    fs.writeFileSync(path.join(notRunning, 'supervise/status'), statusRecord(0, 1, 0, U));
    const noStatus = mk('nostatus');
    fake(noStatus);
    const short = mk('short');
    fake(short, statusRecord(0, 1, 0, U).subarray(0, 17));
    const empty = mk('empty');
    fake(empty, Buffer.alloc(0));
    const long = mk('long');
    fake(long, Buffer.concat([statusRecord(Math.floor(Date.now() / 1000) + 1000, 77, 0, U), Buffer.from('extra')]));
    const statusDir = mk('statusdir');
    fake(statusDir);
    fs.mkdirSync(path.join(statusDir, 'supervise/status'));
    const statusFifo = mk('statusfifo');
    fake(statusFifo);
    mkfifo(path.join(statusFifo, 'supervise/status'));
    const loopDown = mk('loopdown');
    fake(loopDown, statusRecord(0, 0, 0, D));
    fs.symlinkSync('down', path.join(loopDown, 'down'));
    const danglingDown = mk('danglingdown');
    fake(danglingDown, statusRecord(Math.floor(Date.now() / 1000) + 1000, 0, 0, U));
    fs.symlinkSync('nowhere', path.join(danglingDown, 'down'));
    const args = [path.join(root, 'missing'), file, nosup, noOk, okDir, notRunning, noStatus, short, empty, long, statusDir,
      statusFifo, loopDown, danglingDown, '', '-x', '--', `${nosup}/`, `${file}/x`];
    const [ours, theirs] = await both(svstat, csvstat, args);
    assert.deepEqual(outcome(ours), outcome(theirs));
    for (const expected of ['missing: unable to chdir: file does not exist', 'file: unable to chdir: not a directory',
      'nosup: unable to open supervise/ok: file does not exist', 'okdir: unable to open supervise/ok: is a directory',
      'notrunning: supervise not running', 'nostatus: unable to open supervise/status: file does not exist',
      'short: unable to read supervise/status: bad format', 'empty: unable to read supervise/status: bad format',
      'long: up (pid 77) 0 seconds',
      // C misses the read error and shows the record it read for the previous dir
      'statusdir: up (pid 77) 0 seconds',
      'loopdown: unable to stat down: symbolic link loop', 'danglingdown: down 0 seconds, normally up, want up']) {
      assert.ok(ours.stdout.includes(`${expected}\n`), `expected "${expected}" in:\n${ours.stdout}`);
    }
  });

  test('relative dirs resolve from the starting directory every time', async () => {
    const root = procs.tmpdir();
    const a = path.join(root, 'a');
    fs.mkdirSync(a);
    fake(a, statusRecord(Math.floor(Date.now() / 1000) + 100, 11, 0, U));
    fs.mkdirSync(path.join(a, 'inner'));
    fake(path.join(a, 'inner'), statusRecord(Math.floor(Date.now() / 1000) + 100, 0, 0, D));
    const args = ['a', 'a/inner', 'inner', './a', `../${path.basename(root)}/a/inner`, 'a', '.'];
    const [ours, theirs] = await both(svstat, csvstat, args, { cwd: root });
    assert.deepEqual(outcome(ours), outcome(theirs));
    assert.equal(ours.stdout.split('\n')[2], 'inner: unable to chdir: file does not exist');
  });

  test('names that are not UTF-8 are used and printed as the bytes given', async () => {
    const root = procs.tmpdir();
    const good = path.join(root, 'good');
    fs.mkdirSync(good);
    fake(good, statusRecord(Math.floor(Date.now() / 1000) + 100, 99, 0, U));
    fs.renameSync(good, bytePath(root, 'bad\xff'));
    const args = ['bad\\377', 'missing\\376', 'caf\\303\\251'];
    fs.mkdirSync(path.join(root, 'café'));
    const ours = await runBytes(svstat, args, root);
    const theirs = await runBytes(csvstat, args, root);
    assert.deepEqual(outcome(ours), outcome(theirs));
    assert.equal(ours.stdout, 'bad\xff: up (pid 99) 0 seconds\nmissing\xfe: unable to chdir: file does not exist\n' +
      'caf\xc3\xa9: unable to open supervise/ok: file does not exist\n');
    const json = await runBytes(svstat, ['--json', ...args], root);
    const objs = json.stdout.trim().split('\n').map((l) => JSON.parse(Buffer.from(l, 'latin1').toString()) as Record<string, unknown>);
    assert.deepEqual(objs.map((o) => [o.dir, o.state]), [['bad\uFFFD', 'up'], ['missing\uFFFD', 'error'], ['café', 'error']]);
  });

  test('no arguments: nothing, exit 0', async () => {
    const [ours, theirs] = await both(svstat, csvstat, []);
    assert.deepEqual(outcome(ours), outcome(theirs));
    assert.deepEqual(outcome(ours), { code: 0, stdout: '', stderr: '' });
  });

  test('an unreadable current directory is fatal, as in C', async () => {
    const root = procs.tmpdir();
    fs.chmodSync(root, 0o755);
    const noread = path.join(root, 'noread');
    fs.mkdirSync(noread, { mode: 0o711 });
    fs.chmodSync(noread, 0o711);
    const opts = { cwd: noread, uid: 65534, gid: 65534 };
    const ours = await runAsNobody(root, 'svstat', ['/'], noread);
    const theirs = await run(csvstat, ['/'], opts);
    assert.deepEqual(outcome(ours), outcome(theirs));
    assert.deepEqual(outcome(ours), { code: 111, stdout: '', stderr: 'svstat: fatal: unable to open current directory: access denied\n' });
  });
});

describe('svstat on services run by a supervise: the C one, and ours', () => {
  const svc = cbin('svc');

  async function compare(dir: string): Promise<string> {
    const [ours, theirs] = await both(svstat, csvstat, [dir]);
    assert.equal(ours.code, 0);
    assert.equal(maskSeconds(ours.stdout), maskSeconds(theirs.stdout));
    return maskSeconds(ours.stdout).slice(dir.length);
  }

  test('the C supervise: up, paused, down, once, normally down, want down', () => states({ prog: cbin('supervise') }));
  for (const mode of MODES) {
    test(`our supervise (${mode}): up, paused, down, once, normally down, want down`, () => states({ mode }));
  }

  async function states(start: StartOptions): Promise<void> {
    const root = procs.tmpdir();
    const s = makeService(path.join(root, 's'), PID_TRAP_RUN);
    await startSupervise(procs, s, start).ready();
    const pid = await waitUp(s, { pidFile: true });
    assert.equal(await compare(s), `: up (pid ${pid}) N seconds\n`);
    await run(svc, ['-p', s]);
    await waitFor(() => rawStatus(s)[16] === 1, 'paused flag');
    assert.equal(await compare(s), `: up (pid ${pid}) N seconds, paused\n`);
    await run(svc, ['-c', s]);
    await waitFor(() => rawStatus(s)[16] === 0, 'paused flag cleared');
    assert.equal(await compare(s), `: up (pid ${pid}) N seconds\n`);
    await run(svc, ['-d', s]);
    await waitDown(s);
    assert.equal(await compare(s), ': down N seconds, normally up\n');
    await run(svc, ['-o', s]);
    const pid2 = await waitUp(s, { not: pid, pidFile: true });
    assert.equal(rawStatus(s)[17], 0, 'want byte 0 (once)');
    assert.equal(await compare(s), `: up (pid ${pid2}) N seconds\n`);

    const n = makeService(path.join(root, 'n'), PID_TRAP_RUN, { down: true });
    await startSupervise(procs, n, start).ready();
    assert.equal(await compare(n), ': down N seconds\n');
    await run(svc, ['-u', n]);
    const npid = await waitUp(n, { pidFile: true });
    assert.equal(await compare(n), `: up (pid ${npid}) N seconds, normally down\n`);

    const stubborn = makeService(path.join(root, 'stubborn'), "#!/bin/sh\necho $$ > pid\ntrap '' TERM\nwhile :; do sleep 0.05; done\n");
    await startSupervise(procs, stubborn, start).ready();
    const spid = await waitUp(stubborn, { pidFile: true });
    await run(svc, ['-dp', stubborn]);
    await waitFor(() => rawStatus(stubborn)[16] === 1 && rawStatus(stubborn)[17] === D, 'paused, want down');
    assert.equal(await compare(stubborn), `: up (pid ${spid}) N seconds, paused, want down\n`);
    await run(svc, ['-k', stubborn]);
    await waitDown(stubborn);
    assert.equal(await compare(stubborn), ': down N seconds, normally up\n');

    for (const d of [s, n, stubborn]) await run(svc, ['-dx', d]);
    await Promise.all([s, n, stubborn].map((d) => waitDown(d)));
  }
});

test('--help and --version (beyond)', async () => {
  const h = await run(svstat, ['--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /^svstat \[--json\] dir\.\.\./);
  assert.deepEqual(outcome(await run(svstat, ['--version'])), { code: 0, stdout: 'svstat (daemontools-node) 0.1.0\n', stderr: '' });
});

describe('svstat --json (beyond)', () => {
  /** What --json says of the facts only our supervise/info tells, where there is none (a C or fake supervise). */
  const NO_INFO = { readySince: null, finishing: null, failedInRow: null, restartAt: null, gaveUp: null };

  test('one JSON object per dir and line, same facts as the plain form', async () => {
    const root = procs.tmpdir();
    const up = path.join(root, 'up');
    fs.mkdirSync(up);
    fs.writeFileSync(path.join(up, 'down'), '');
    const when = Math.floor(Date.now() / 1000) + 1000;
    fake(up, statusRecord(when, 4321, 1, D));
    const down = path.join(root, 'down');
    fs.mkdirSync(down);
    fake(down, statusRecord(when, 0, 0, 0));
    const notRunning = notRunningDir(root, 'nr', 'ok');
    const statusDir = path.join(root, 'statusdir');
    fs.mkdirSync(statusDir);
    fake(statusDir);
    fs.mkdirSync(path.join(statusDir, 'supervise/status'));
    const r = await run(svstat, ['--json', up, down, notRunning, path.join(root, 'missing'), statusDir]);
    assert.equal(r.code, 0);
    const lines = r.stdout.split('\n');
    assert.equal(lines.pop(), '');
    const objs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(objs[0], {
      dir: up, state: 'up', pid: 4321, seconds: 0, since: '@' + statusRecord(when, 0, 0, 0).toString('hex', 0, 12),
      paused: true, want: 'down', normallyUp: false, ...NO_INFO, ready: true,
    });
    assert.deepEqual({ ...objs[1], since: undefined }, {
      dir: down, state: 'down', pid: null, seconds: 0, since: undefined, paused: false, want: 'once', normallyUp: true, ...NO_INFO, ready: false,
    });
    assert.deepEqual(objs[2], { dir: notRunning, state: 'not running' });
    assert.deepEqual(objs[3], { dir: path.join(root, 'missing'), state: 'error', error: 'unable to chdir: file does not exist' });
    // the read error the plain form (like C) does not show
    assert.deepEqual(objs[4], { dir: statusDir, state: 'error', error: 'unable to read supervise/status: is a directory' });
    // only as the first argument: later it is a directory name, as in C
    const plain = await run(svstat, [up, '--json']);
    assert.equal(plain.stdout, `${up}: up (pid 4321) 0 seconds, normally down, paused, want down\n--json: unable to chdir: file does not exist\n`);
  });

  for (const mode of MODES) test(`info: what our supervise (${mode}) keeps in supervise/info, only while that supervise holds the lock`, async () => {
    const root = procs.tmpdir();
    const s = makeService(path.join(root, 's'), PID_TRAP_RUN);
    const sup = await startSupervise(procs, s, { mode }).ready();
    const pid = await waitUp(s, { pidFile: true });
    const read = async () => JSON.parse((await run(svstat, ['--json', s])).stdout) as Record<string, unknown>;
    await waitFor(() => fs.existsSync(path.join(s, 'supervise/info')), 'supervise/info');
    const up = await read();
    assert.equal(up.pid, pid);
    assert.deepEqual(up.info, { supervise: sup.pid, starts: 1, failures: 0, lastExit: null });
    await run(cbin('svc'), ['-dx', s]);
    await sup.ended();
    // a C supervise now runs the service: the info file left behind is stale
    const info = fs.readFileSync(path.join(s, 'supervise/info'));
    const csup = await startSupervise(procs, s, { prog: cbin('supervise') }).ready();
    await waitUp(s, { not: pid, pidFile: true });
    assert.deepEqual(fs.readFileSync(path.join(s, 'supervise/info')), info);
    const c = await read();
    assert.equal(c.state, 'up');
    assert.equal(c.info, undefined);
    await run(cbin('svc'), ['-dx', s]);
    await csup.ended();
  });
});
