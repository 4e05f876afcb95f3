// svwait and svc -W (beyond 0.76, s6-svwait's and s6-svc -w's interface):
// states u U d D, all or one dir, timeouts, usage, what cannot be waited
// for; under ours and the C supervise; and the same sequence under s6.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, RunResult, bin, cbin, exitOf, run, waitFor } from './helpers';
import { control, makeService, SLEEPER, waitDown, waitUp } from './fixtures/service';
import { MODES, startSupervise } from './fixtures/supervised';
import { lifecycleService, release, s6, startS6, watching } from './wait-util';
import { inState } from '../lib/control/wait';
import { format, fromDate } from '../lib/tai64';

const procs = new Procs();
after(() => procs.cleanup());

const svwait = bin('svwait');
const svc = bin('svc');
const USAGE = 'svwait: usage: svwait [-u|-U|-d|-D] [-a|-o] [-t MS] dir...\n';

function sv(args: string[]): Promise<RunResult> {
  return run(svwait, args);
}

async function expectCode(args: string[], code: number, what: string): Promise<RunResult> {
  const r = await sv(args);
  assert.equal(r.code, code, `svwait ${args.join(' ')} (${what}): ${r.stderr}`);
  return r;
}

/** Starts svwait args, waits until it watches (still waiting), runs act, and expects it to exit 0 then. */
async function endsWhen(args: string[], act: () => unknown): Promise<void> {
  const waiting = procs.start(svwait, args, { stdio: 'ignore' });
  await waitFor(() => watching(waiting.pid!), 'svwait to watch');
  assert.equal(waiting.exitCode, null, `svwait ${args.join(' ')} ended before the change`);
  await act();
  assert.deepEqual(await exitOf(waiting, 10000), { code: 0, signal: null }, `svwait ${args.join(' ')}`);
}

describe('the states (unit)', () => {
  const NOW = Date.UTC(2026, 11, 5, 12, 0, 0);
  const at = (ms: number) => format(fromDate(new Date(ms)));
  const up = { since: at(NOW - 50), pid: 42 };
  const down = { since: at(NOW - 50), pid: 0 };
  const info = { supervise: 1, starts: 1, failures: 0, lastExit: null };

  test('U: ready when notification-fd told it for this ./run; without info, up unless an info may lag', () => {
    assert.equal(inState('U', up, undefined, {}, NOW), true);
    assert.equal(inState('U', up, { ...info, notification: 3 }, {}, NOW), false);
    assert.equal(inState('U', up, { ...info, notification: 3, readySince: at(NOW - 10) }, {}, NOW), true);
    // readiness of the ./run before this one
    assert.equal(inState('U', up, { ...info, notification: 3, readySince: at(NOW - 60) }, {}, NOW), false);
    assert.equal(inState('U', up, { ...info }, {}, NOW), true);
    // our supervise starting (status written, info not yet): look again once the status is 100 ms old
    assert.equal(inState('U', up, undefined, { staleInfo: true }, NOW), 50);
    assert.equal(inState('U', up, undefined, { staleInfo: true }, NOW + 60), true);
    assert.equal(inState('U', down, undefined, {}, NOW), false);
  });

  test('D: down and ./finish not running, once the info tells of this exit (or the status has settled)', () => {
    assert.equal(inState('D', down, undefined, { finish: true }, NOW), true);
    assert.equal(inState('D', down, info, { finish: false }, NOW), true);
    assert.equal(inState('D', down, { ...info, finishing: true, lastExit: { at: down.since } }, { finish: true }, NOW + 5000), false);
    assert.equal(inState('D', down, { ...info, lastExit: { at: down.since } }, { finish: true }, NOW), true);
    assert.equal(inState('D', down, { ...info, lastExit: { at: at(NOW - 9000) } }, { finish: true }, NOW), 50);
    assert.equal(inState('D', up, info, { finish: true }, NOW), false);
  });

  test('svc -W: a state passed through since the commands were sent counts', () => {
    const before = { since: at(NOW - 5000), pid: 41 };
    assert.equal(inState('d', up, undefined, {}, NOW), false);
    assert.equal(inState('d', up, undefined, {}, NOW, before), true);
    assert.equal(inState('d', { ...up, since: before.since }, undefined, {}, NOW, { ...before, pid: 42 }), false);
    assert.equal(inState('D', up, info, { finish: true }, NOW, before), true);
    assert.equal(inState('u', down, undefined, {}, NOW, { since: before.since, pid: 0 }), true);
    assert.equal(inState('u', down, undefined, {}, NOW, before), false);
    assert.equal(inState('U', up, { ...info, notification: 3 }, {}, NOW, before), false);
  });
});

describe('svwait: usage and what cannot be waited for, as s6-svwait', () => {
  test('usage errors exit 100 with the usage line (s6-svwait too)', async () => {
    const root = procs.tmpdir();
    for (const args of [[], ['-u'], ['-x', root], ['-t', 'abc', root], ['-t', '-1', root], ['-t']]) {
      const r = await sv(args);
      assert.equal(r.code, 100, `svwait ${args.join(' ')}`);
      assert.ok(r.stderr.endsWith(USAGE), r.stderr);
      assert.equal((await run(s6('s6-svwait'), args)).code, 100, `s6-svwait ${args.join(' ')}`);
    }
    assert.equal((await sv(['-x', root])).stderr, `svwait: illegal option -- x\n${USAGE}`);
  });

  test('a missing dir, a dir never supervised: 111 (s6-svwait too); no supervise running: 111', async () => {
    const root = procs.tmpdir();
    const missing = path.join(root, 'missing');
    const never = makeService(path.join(root, 'never'), SLEEPER);
    for (const [dir, message] of [
      [missing, `svwait: fatal: unable to chdir to ${missing}: file does not exist\n`],
      [never, `svwait: fatal: unable to read ${never}/supervise/status: file does not exist\n`],
    ]) {
      const r = await sv(['-t', '2000', dir]);
      assert.deepEqual([r.code, r.stderr], [111, message]);
      assert.equal((await run(s6('s6-svwait'), ['-t', '2000', dir])).code, 111, `s6-svwait ${dir}`);
    }
    // a status left behind by a supervise that is gone
    const gone = makeService(path.join(root, 'gone'), SLEEPER);
    const sup = await startSupervise(procs, gone, { prog: cbin('supervise') }).ready();
    await waitUp(gone, { procs });
    await run(cbin('svc'), ['-dx', gone]);
    await sup.ended();
    const r = await sv(['-u', '-t', '2000', gone]);
    assert.deepEqual([r.code, r.stderr], [111, `svwait: fatal: unable to wait for ${gone}: supervise not running\n`]);
    // its down state is reached all the same (svc -dx then wait)
    assert.equal((await sv(['-d', gone])).code, 0);
  });
});

describe('svwait under our supervise', () => {
  test('-u and -d: already reached exits at once, a timeout exits 99, a change ends the wait', async () => {
    const root = procs.tmpdir();
    const dir = makeService(path.join(root, 's'), SLEEPER);
    await startSupervise(procs, dir).ready();
    await waitUp(dir, { procs });
    await expectCode([dir], 0, 'up already, -u by default');
    await expectCode(['-u', dir], 0, 'up already');
    const r = await expectCode(['-d', '-t', '300', dir], 99, 'not down');
    assert.equal(r.stderr, 'svwait: fatal: timed out\n');
    await endsWhen(['-d', '-t', '10000', dir], () => control(dir, 'd'));
    await expectCode(['-u', '-t', '300', dir], 99, 'down');
    await endsWhen(['-u', dir], () => control(dir, 'u'));
  });

  for (const mode of MODES) test(`-U: up and ready (notification-fd); a service without one is ready when up (${mode})`, async () => {
    const root = procs.tmpdir();
    const dir = lifecycleService(root, 'r', { ready: true });
    await startSupervise(procs, dir, { mode }).ready();
    await waitUp(dir, { procs });
    await expectCode(['-u', dir], 0, 'up');
    await expectCode(['-U', '-t', '300', dir], 99, 'up, not ready');
    await endsWhen(['-U', '-t', '10000', dir], () => release(dir, 'go'));
    await expectCode(['-U', dir], 0, 'ready');
    // a new ./run is not ready for the last one's readiness
    fs.rmSync(path.join(dir, 'go'));
    const old = await waitUp(dir);
    control(dir, 'k');
    await waitUp(dir, { procs, not: old });
    await expectCode(['-U', '-t', '300', dir], 99, 'restarted, not ready');
    release(dir, 'go');
    await expectCode(['-U', '-t', '10000', dir], 0, 'ready again');

    const plain = makeService(path.join(root, 'plain'), SLEEPER);
    await startSupervise(procs, plain, { mode }).ready();
    await waitUp(plain, { procs });
    await expectCode(['-U', '-t', '2000', plain], 0, 'no notification-fd: up is ready');
  });

  for (const mode of MODES) test(`-D: down and ./finish over; -d is reached while ./finish runs (${mode})`, async () => {
    const root = procs.tmpdir();
    const dir = lifecycleService(root, 'f', { finish: true });
    await startSupervise(procs, dir, { mode }).ready();
    await waitUp(dir, { procs });
    await expectCode(['-D', '-t', '300', dir], 99, 'up');
    control(dir, 'd');
    await waitDown(dir);
    await expectCode(['-d', dir], 0, 'down, ./finish running');
    await expectCode(['-D', '-t', '300', dir], 99, './finish running');
    await endsWhen(['-D', '-t', '10000', dir], () => release(dir, 'finish-go'));
    await expectCode(['-D', dir], 0, './finish over');
  });

  test('while they wait, svwait and svc -W show their own name and arguments (pgrep -x, ps)', async () => {
    const root = procs.tmpdir();
    const dir = makeService(path.join(root, 's'), SLEEPER);
    await startSupervise(procs, dir).ready();
    await waitUp(dir, { procs });
    const cmdline = (pid: number): string => fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0$/, '').split('\0').join(' ');
    const comm = (pid: number): string => fs.readFileSync(`/proc/${pid}/comm`, 'latin1').trim();
    const waiting = procs.start(svwait, ['-d', '-t', '20000', dir]);
    // its name first, then its arguments, written one after the other
    await waitFor(() => comm(waiting.pid!) === 'svwait' && cmdline(waiting.pid!) === `svwait -d -t 20000 ${dir}`, 'svwait to show itself');
    const sending = procs.start(svc, ['-W', 'd', '-T', '20000', '-p', dir]);
    await waitFor(() => comm(sending.pid!) === 'svc' && cmdline(sending.pid!) === `svc -W d -T 20000 -p ${dir}`, 'svc -W to show itself');
    control(dir, 'd');
    assert.deepEqual(await exitOf(waiting, 10000), { code: 0, signal: null });
    assert.deepEqual(await exitOf(sending, 10000), { code: 0, signal: null });
  });

  test('-a (the default) and -o with several dirs', async () => {
    const root = procs.tmpdir();
    const a = makeService(path.join(root, 'a'), SLEEPER);
    const b = makeService(path.join(root, 'b'), SLEEPER, { down: true });
    const c = makeService(path.join(root, 'c'), SLEEPER, { down: true });
    for (const d of [a, b, c]) await startSupervise(procs, d).ready();
    await waitUp(a, { procs });
    await expectCode(['-u', '-t', '300', a, b, c], 99, 'b and c down');
    await expectCode(['-a', '-u', '-t', '300', a, b], 99, 'b down');
    await expectCode(['-o', '-u', a, b, c], 0, 'a up');
    await expectCode(['-o', '-d', a, b, c], 0, 'b down');
    await expectCode(['-o', '-u', '-t', '300', b, c], 99, 'neither up');
    const one = procs.start(svwait, ['-o', '-u', '-t', '10000', b, c], { stdio: 'ignore' });
    const every = procs.start(svwait, ['-u', '-t', '10000', a, b, c], { stdio: 'ignore' });
    await waitFor(() => watching(one.pid!) && watching(every.pid!), 'svwait to watch');
    control(c, 'u');
    assert.deepEqual(await exitOf(one, 10000), { code: 0, signal: null });
    assert.equal(every.exitCode, null, 'b is still down');
    control(b, 'u');
    assert.deepEqual(await exitOf(every, 10000), { code: 0, signal: null });
    for (const d of [b, c]) await waitUp(d, { procs });
  });

  test('svc -W STATE [-T MS]: sends, then waits; 99 and `fatal: timed out` on timeout', async () => {
    const root = procs.tmpdir();
    const dir = lifecycleService(root, 'r', { ready: true, finish: true });
    await startSupervise(procs, dir).ready();
    await waitUp(dir, { procs });
    let r = await run(svc, ['-W', 'U', '-T', '300', '-u', dir]);
    assert.deepEqual([r.code, r.stderr], [99, 'svc: fatal: timed out\n']);
    release(dir, 'go');
    r = await run(svc, ['-W', 'U', '-T', '10000', '-u', dir]);
    assert.deepEqual([r.code, r.stderr], [0, '']);
    r = await run(svc, ['-W', 'D', '-T', '300', '-d', dir]);
    assert.equal(r.code, 99, 'the held ./finish');
    assert.equal((await sv(['-d', dir])).code, 0);
    release(dir, 'finish-go');
    r = await run(svc, ['-WD', '-T10000', dir]);
    assert.equal(r.code, 0);
    // -t on a wanted-up service: down, then up again; -W d still sees the down it caused
    r = await run(svc, ['-W', 'u', '-T', '10000', '-u', dir]);
    assert.equal(r.code, 0);
    const pid = await waitUp(dir, { procs });
    r = await run(svc, ['-W', 'd', '-T', '10000', '-t', dir]);
    assert.equal(r.code, 0, r.stderr);
    await waitUp(dir, { procs, not: pid });
    // usage: a bad state or timeout; an unknown letter keeps the C svc's usage line
    r = await run(svc, ['-W', 'x', '-u', dir]);
    assert.deepEqual([r.code, r.stderr], [100, 'svc: usage: svc [-W u|U|d|D [-T MS]] -udopchaitkxq12w dir...\n']);
    assert.equal((await run(svc, ['-W', 'u', '-T', 'soon', dir])).code, 100);
    const [ours, theirs] = [await run(svc, ['-z', dir]), await run(cbin('svc'), ['-z', dir])];
    assert.deepEqual([ours.code, ours.stderr], [theirs.code, theirs.stderr]);
  });
});

describe('svwait under the C supervise: -U means -u, -D means -d', () => {
  test('-u -d -U -D', async () => {
    const root = procs.tmpdir();
    const dir = lifecycleService(root, 'c', { ready: true, finish: true });
    await startSupervise(procs, dir, { prog: cbin('supervise') }).ready();
    await waitUp(dir, { procs });
    await expectCode(['-u', dir], 0, 'up');
    await expectCode(['-U', dir], 0, 'up: ready, for the C supervise');
    await expectCode(['-d', '-t', '300', dir], 99, 'up');
    await endsWhen(['-D', '-t', '10000', dir], () => run(cbin('svc'), ['-d', dir]));
    await expectCode(['-d', dir], 0, 'down');
    await expectCode(['-u', '-t', '300', dir], 99, 'down');
    const r = await run(svc, ['-W', 'u', '-T', '10000', '-u', dir]);
    assert.equal(r.code, 0, r.stderr);
    await waitUp(dir, { procs });
  });
});

describe('svwait and svc -W against s6-svwait and s6-svc -w on s6-supervise', () => {
  test('the same sequence of states and timeouts gives the same exit codes', async () => {
    const root = procs.tmpdir();
    type Side = { name: string; dirs: { r: string; p: string }; wait: string; svc: (w: string, t: string, cmd: string, dir: string) => string[]; svcProg: string };
    const ourRoot = path.join(root, 'ours');
    const s6Root = path.join(root, 's6');
    const sides: Side[] = [
      {
        name: 'ours',
        dirs: { r: lifecycleService(ourRoot, 'r', { ready: true, finish: true }), p: lifecycleService(ourRoot, 'p') },
        wait: svwait,
        svcProg: svc,
        svc: (w, t, cmd, dir) => ['-W', w, '-T', t, cmd, dir],
      },
      {
        name: 's6',
        dirs: { r: lifecycleService(s6Root, 'r', { ready: true, finish: true }), p: lifecycleService(s6Root, 'p') },
        wait: s6('s6-svwait'),
        svcProg: s6('s6-svc'),
        svc: (w, t, cmd, dir) => [`-w${w}`, '-T', t, cmd, dir],
      },
    ];
    for (const side of sides) {
      if (side.name === 'ours') {
        for (const d of [side.dirs.r, side.dirs.p]) await startSupervise(procs, d).ready();
        for (const d of [side.dirs.r, side.dirs.p]) await waitUp(d, { procs });
      } else {
        for (const d of [side.dirs.r, side.dirs.p]) await startS6(procs, d);
      }
    }
    type Step = { what: string; act?: (s: Side) => void | Promise<unknown>; wait?: (s: Side) => string[]; svc?: (s: Side) => string[] };
    const steps: Step[] = [
      { what: 'up already', wait: (s) => ['-u', s.dirs.r, s.dirs.p] },
      { what: 'default state: up', wait: (s) => [s.dirs.r] },
      { what: 'not down yet', wait: (s) => ['-d', '-t', '300', s.dirs.r] },
      { what: 'not ready yet', wait: (s) => ['-U', '-t', '300', s.dirs.r] },
      { what: 'one of them not down', wait: (s) => ['-o', '-d', '-t', '300', s.dirs.r, s.dirs.p] },
      { what: 'readiness', act: (s) => release(s.dirs.r, 'go') },
      { what: 'ready', wait: (s) => ['-U', '-t', '10000', s.dirs.r] },
      { what: 'svc down, ./finish held: -wD times out', svc: (s) => s.svc('D', '300', '-d', s.dirs.r) },
      { what: 'down while ./finish runs', wait: (s) => ['-d', '-t', '10000', s.dirs.r] },
      { what: './finish still running', wait: (s) => ['-D', '-t', '300', s.dirs.r] },
      { what: 'one down of two', wait: (s) => ['-o', '-d', '-t', '10000', s.dirs.p, s.dirs.r] },
      { what: 'not all down', wait: (s) => ['-a', '-d', '-t', '300', s.dirs.p, s.dirs.r] },
      { what: 'up times out', wait: (s) => ['-u', '-t', '300', s.dirs.r] },
      { what: './finish released', act: (s) => release(s.dirs.r, 'finish-go') },
      { what: 'down and finished', wait: (s) => ['-D', '-t', '10000', s.dirs.r] },
      { what: 'svc down p, wait for down', svc: (s) => s.svc('d', '10000', '-d', s.dirs.p) },
      { what: 'all down', wait: (s) => ['-d', '-t', '10000', s.dirs.p, s.dirs.r] },
      { what: 'svc up, wait for up', svc: (s) => s.svc('u', '10000', '-u', s.dirs.r) },
      { what: 'svc up, wait for ready', svc: (s) => s.svc('U', '10000', '-u', s.dirs.r) },
      { what: 'nothing sent, p stays down', svc: (s) => s.svc('u', '300', '-h', s.dirs.p) },
      { what: 'missing dir', wait: (s) => ['-u', '-t', '300', path.join(s.dirs.p, 'missing')] },
    ];
    for (const step of steps) {
      const codes: Array<number | null> = [];
      for (const side of sides) {
        if (step.act) {
          await step.act(side);
          continue;
        }
        const r = step.wait ? await run(side.wait, step.wait(side)) : await run(side.svcProg, step.svc!(side));
        codes.push(r.code);
      }
      if (!step.act) assert.equal(codes[0], codes[1], `${step.what}: ours ${codes[0]}, s6 ${codes[1]}`);
    }
    for (const d of Object.values(sides[1].dirs)) await run(s6('s6-svc'), ['-dx', d]);
  });
});


