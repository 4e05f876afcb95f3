import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { RunResult, alive, bin, cbin, run, waitFor } from './helpers';
import { PID_TRAP_RUN, makeService, rawStatus, readLog, statusPid, waitDown, waitUp } from './fixtures/service';
import { MODES, StartOptions, startSupervise } from './fixtures/supervised';
import { notRunningDir, FakeSupervise, fixtures } from './fixtures/fake';
import { outcome, runAsNobody, runBytes, bytePath } from './fixtures/compare';
import { procState } from './fixtures/tree';

const { procs, fake } = fixtures();

const svc = bin('svc');
const csvc = cbin('svc');
const USAGE = 'svc options: u up, d down, o once, x exit, p pause, c continue, h hup, a alarm, i interrupt, t term, k kill\n';

/** Runs our svc and the C svc with each argument list: same output, exit code and bytes received by f. */
async function sameAsC(f: FakeSupervise, cases: string[][]): Promise<void> {
  for (const args of cases) {
    const ours = await run(svc, args);
    const sentByOurs = f.drainControl();
    const theirs = await run(csvc, args);
    const sentByTheirs = f.drainControl();
    assert.deepEqual(outcome(ours), outcome(theirs), `svc ${args.join(' ')}`);
    assert.equal(sentByOurs, sentByTheirs, `bytes of svc ${args.join(' ')}`);
  }
}

describe('svc against the C svc', () => {
  test('the bytes sent: order given, each letter once, options end at -- or the first dir', async () => {
    const root = procs.tmpdir();
    const dir = path.join(root, 's');
    fs.mkdirSync(dir);
    const f = fake(dir);
    const cases: string[][] = [['-uduxh'], ['-u', '-d'], ['-ddu'], ['-uxu'], ['-udopchaitkx'], ['-kkk', '-t'], ['--x'], ['-u', '--x'],
      ['-p', '--', '-c'], ['-h']];
    await sameAsC(f, cases.map((opts) => [...opts, dir]));
    const r = await run(svc, ['-uduxh', dir]);
    assert.deepEqual(outcome(r), { code: 0, stdout: '', stderr: '' });
    assert.equal(f.drainControl(), 'udxh');
  });

  test('beyond: q 1 2 w are accepted and sent in order', async () => {
    const root = procs.tmpdir();
    const dir = path.join(root, 's');
    fs.mkdirSync(dir);
    const f = fake(dir);
    const r = await run(svc, ['-q12wq', '-u', dir]);
    assert.deepEqual(outcome(r), { code: 0, stdout: '', stderr: '' });
    assert.equal(f.drainControl(), 'q12wu');
    // the C svc rejects them, with its 0.76 usage line
    const c = await run(csvc, ['-q', dir]);
    assert.deepEqual(outcome(c), { code: 100, stdout: '', stderr: `svc: illegal option -- q\n${USAGE}` });
  });

  test('usage errors and warnings, and the bytes that still go out', async () => {
    const root = procs.tmpdir();
    const good = path.join(root, 'good');
    fs.mkdirSync(good);
    const f = fake(good);
    const file = path.join(root, 'file');
    fs.writeFileSync(file, '');
    const nosup = path.join(root, 'nosup');
    fs.mkdirSync(nosup);
    const notRunning = notRunningDir(root, 'notrunning', 'control');
    const controlDir = path.join(root, 'controldir');
    fs.mkdirSync(path.join(controlDir, 'supervise/control'), { recursive: true });
    const controlFile = path.join(root, 'controlfile');
    fs.mkdirSync(path.join(controlFile, 'supervise'), { recursive: true });
    fs.writeFileSync(path.join(controlFile, 'supervise/control'), '');
    const cases: string[][] = [
      [], ['-u'], ['-z'], ['-z', good], ['-ab', good], ['-u-d', good], ['-u---'], [good],
      ['-u', path.join(root, 'missing'), good], ['-d', file, good], ['-t', nosup, good], ['-k', notRunning, good],
      ['-h', controlDir, good], ['-a', '', '-', good], ['-u', '--', '-d', good], ['-u', `${file}/x`, good], ['-ud', controlFile],
    ];
    await sameAsC(f, cases);
    assert.equal(fs.readFileSync(path.join(controlFile, 'supervise/control'), 'latin1'), 'ud', 'a regular file gets the bytes (at offset 0), in C too');
    const r = await run(svc, ['-u', nosup, notRunning, controlDir, good]);
    assert.deepEqual(outcome(r), {
      code: 0,
      stdout: '',
      stderr: `svc: warning: unable to control ${nosup}: file does not exist\n` +
        `svc: warning: unable to control ${notRunning}: supervise not running\n` +
        `svc: warning: unable to control ${controlDir}: is a directory\n`,
    });
    assert.equal(f.drainControl(), 'u');
    const z = await run(svc, ['-uz', good]);
    assert.deepEqual(outcome(z), { code: 100, stdout: '', stderr: `svc: illegal option -- z\n${USAGE}` });
    assert.equal(f.drainControl(), '', 'nothing is sent after a usage error');
  });

  test('names and option letters that are not UTF-8 are used and printed as the bytes given', async () => {
    const root = procs.tmpdir();
    const good = path.join(root, 'good');
    fs.mkdirSync(good);
    const f = fake(good);
    fs.renameSync(good, bytePath(root, 'bad\xff'));
    for (const args of [['-u', 'bad\\377', 'missing\\376', 'bad\\377'], ['-\\303\\251', 'bad\\377'], ['-u\\377']]) {
      const ours = await runBytes(svc, args, root);
      const sentByOurs = f.drainControl();
      const theirs = await runBytes(csvc, args, root);
      assert.deepEqual(outcome(ours), outcome(theirs), args.join(' '));
      assert.equal(sentByOurs, f.drainControl(), args.join(' '));
    }
    const r = await runBytes(svc, ['-u', 'bad\\377', 'missing\\376'], root);
    assert.equal(r.stderr, 'svc: warning: unable to chdir to missing\xfe: file does not exist\n');
    assert.equal(f.drainControl(), 'u');
    assert.equal((await runBytes(svc, ['-\\303\\251'], root)).stderr, `svc: illegal option -- \xc3\n${USAGE}`);
  });

  test('relative dirs resolve from the starting directory every time', async () => {
    const root = procs.tmpdir();
    const a = path.join(root, 'a');
    fs.mkdirSync(a);
    const fa = fake(a);
    fs.mkdirSync(path.join(a, 'inner'));
    const fi = fake(path.join(a, 'inner'));
    const args = ['-o', 'a', 'a/inner', 'inner', './a', `../${path.basename(root)}/a/inner`];
    const ours = await run(svc, args, { cwd: root });
    const sent = [fa.drainControl(), fi.drainControl()];
    const theirs = await run(csvc, args, { cwd: root });
    assert.deepEqual(outcome(ours), outcome(theirs));
    assert.deepEqual(sent, [fa.drainControl(), fi.drainControl()]);
    assert.deepEqual(sent, ['oo', 'oo']);
    assert.equal(ours.stderr, 'svc: warning: unable to chdir to inner: file does not exist\n');
  });

  test('an unreadable current directory is fatal after the options are checked, as in C', async () => {
    const root = procs.tmpdir();
    fs.chmodSync(root, 0o755);
    const noread = path.join(root, 'noread');
    fs.mkdirSync(noread);
    fs.chmodSync(noread, 0o711);
    const opts = { cwd: noread, uid: 65534, gid: 65534 };
    for (const args of [['-u', '/'], [], ['-z', '/']]) {
      const ours = await runAsNobody(root, 'svc', args, noread);
      const theirs = await run(csvc, args, opts);
      assert.deepEqual(outcome(ours), outcome(theirs), `svc ${args.join(' ')}`);
    }
    const r = await runAsNobody(root, 'svc', ['-u', '/'], noread);
    assert.deepEqual(outcome(r), { code: 111, stdout: '', stderr: 'svc: fatal: unable to open current directory: access denied\n' });
  });

  test('a full control FIFO: svc waits for room (as the C one blocks), and reports a reader that goes away', async () => {
    const root = procs.tmpdir();
    for (const [name, prog] of [['ours', svc], ['c', csvc]]) {
      const dir = path.join(root, name);
      fs.mkdirSync(dir);
      const f = new FakeSupervise(dir);
      const control = path.join(dir, 'supervise/control');
      const fill = () => {
        const w = fs.openSync(control, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
        try {
          for (;;) fs.writeSync(w, Buffer.alloc(4096, 0x7a));
        } catch {
          // full
        }
        try {
          for (;;) fs.writeSync(w, Buffer.alloc(1, 0x7a));
        } catch {
          // full to the last byte
        }
        fs.closeSync(w);
      };
      // 1. room is made: the command arrives
      fill();
      let out: RunResult | undefined;
      const first = run(prog, ['-u', dir]).then((r) => (out = r));
      let drained = '';
      await waitFor(() => {
        drained += f.drainControl();
        return out !== undefined;
      }, `${name} svc to finish once the FIFO is read`);
      await first;
      drained += f.drainControl();
      assert.deepEqual(outcome(out!), { code: 0, stdout: '', stderr: '' }, name);
      assert.equal(drained.replaceAll('z', ''), 'u', name);
      // 2. the reader goes away while svc waits: broken pipe
      fill();
      const second = procs.start(prog, ['-d', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      const stderr: Buffer[] = [];
      second.stderr!.on('data', (d: Buffer) => stderr.push(d));
      const exited = new Promise<number | null>((r) => second.on('close', (code) => r(code)));
      await waitFor(() => holds(second, control), `${name} svc to open the FIFO`);
      f.close();
      const code = await exited;
      assert.equal(code, 0, name);
      assert.equal(Buffer.concat(stderr).toString(), `svc: warning: error writing commands to ${dir}: broken pipe\n`, name);
    }
  });
});

function holds(child: ChildProcess, file: string): boolean {
  const dir = `/proc/${child.pid}/fd`;
  return fs.readdirSync(dir).some((fd) => {
    try {
      return fs.readlinkSync(path.join(dir, fd)) === file;
    } catch {
      return false;
    }
  });
}

/** Every command letter reaches the service of a supervisor (the C supervise, or ours in either mode with the beyond letters). */
async function controlScenario(start: StartOptions, beyond: boolean): Promise<void> {
  const root = procs.tmpdir();
  const s = makeService(path.join(root, 's'), PID_TRAP_RUN);
  const sup = await startSupervise(procs, s, start).ready();
  let pid = await waitUp(s, { pidFile: true });
  const send = async (opts: string) => {
    const r = await run(svc, [opts, s]);
    assert.deepEqual(outcome(r), { code: 0, stdout: '', stderr: '' }, `svc ${opts}`);
  };
  const logged = (name: string) => waitFor(() => readLog(s, 'log').includes(name), `${name} in the service's log`);

  const signals: Array<[string, string]> = [['-h', 'HUP'], ['-a', 'ALRM'], ['-i', 'INT']];
  if (beyond) signals.push(['-q', 'QUIT'], ['-1', 'USR1'], ['-2', 'USR2'], ['-w', 'WINCH']);
  for (const [opt, name] of signals) {
    await send(opt);
    await logged(name);
  }
  assert.equal(statusPid(s), pid, 'the service got the signals and kept running');

  await send('-p');
  await waitFor(() => procState(pid) === 'T' && rawStatus(s)[16] === 1, 'service stopped, paused flag');
  await send('-c');
  await waitFor(() => procState(pid) !== 'T' && rawStatus(s)[16] === 0, 'service continued');
  await logged('CONT');

  await send('-t');
  await logged('TERM');
  pid = await waitUp(s, { not: pid, pidFile: true });

  await send('-k');
  const killed = pid;
  pid = await waitUp(s, { not: killed, pidFile: true });
  assert.ok(!alive(killed));

  await send('-d');
  await waitDown(s);
  assert.equal(rawStatus(s)[17], 0x64, 'want down');
  await send('-o');
  pid = await waitUp(s, { pidFile: true });
  assert.equal(rawStatus(s)[17], 0, 'want once');
  await send('-u');
  await waitFor(() => rawStatus(s)[17] === 0x75, 'want up');

  await send('-x');
  assert.ok(alive(pid), '-x alone does not stop the service');
  await send('-d');
  assert.equal((await sup.ended())?.code, 0, 'supervise exits 0 once the service is down after -x');
  await waitFor(() => !alive(pid), 'service gone');
}

test('--help and --version (beyond) answer only as the first argument', async () => {
  const h = await run(svc, ['--help']);
  assert.equal(h.code, 0);
  const usage = /^svc -([a-z0-9]+) dir\.\.\.\n/.exec(h.stdout);
  assert.ok(usage, h.stdout);
  assert.match(h.stdout, /-w +send WINCH/);
  // the options listed in the usage line's order (yargs alone puts -1 and -2 first)
  const listed = [...h.stdout.matchAll(/^ {2}-(\S) /gm)].map((m) => m[1]).join('');
  assert.equal(listed, usage[1]);
  assert.equal(listed, 'udopchaitkxq12w');
  const v = await run(svc, ['--version']);
  assert.deepEqual(outcome(v), { code: 0, stdout: 'svc (daemontools-node) 0.1.0\n', stderr: '' });
  const late = await run(svc, ['-u', '--help']);
  assert.deepEqual(outcome(late), outcome(await run(csvc, ['-u', '--help'])));
});

describe('svc controls a supervise', () => {
  test('the C supervise: each letter reaches the service', async () => {
    await controlScenario({ prog: cbin('supervise') }, false);
  });

  for (const mode of MODES) {
    test(`our supervise (${mode}): each letter, the beyond ones too, reaches the service`, async () => {
      await controlScenario({ mode }, true);
    });
  }

  for (const mode of MODES) test(`the C svc controls our supervise (${mode}) the same way`, async () => {
    const root = procs.tmpdir();
    const s = makeService(path.join(root, 's'), PID_TRAP_RUN);
    const sup = await startSupervise(procs, s, { mode }).ready();
    const pid = await waitUp(s, { pidFile: true });
    await run(csvc, ['-h', s]);
    await waitFor(() => readLog(s, 'log').includes('HUP'), 'HUP logged');
    await run(csvc, ['-dx', s]);
    assert.equal((await sup.ended())?.code, 0);
    assert.ok(!alive(pid));
  });
});
