// supervise must not die and must not leak: random control bytes, a
// service killed over and over, a second supervise, stderr closed or
// broken, a missing ./run. And the permissions that keep other users out.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { alive, bin, cbin, Procs, run, waitFor, writeExecutable, exitOf } from './helpers';
import { control, makeService, readLog, status, waitStatus, waitUp, okAnswers } from './fixtures/service';
import { MODES, oursAndC, startSupervise } from './fixtures/supervised';
import { zombieChildren } from './fixtures/tree';

const procs = new Procs();
after(() => procs.cleanup());

const SLEEP_RUN = '#!/bin/sh\necho "start $$ $(date +%s.%N)" >> starts.log\nexec sleep 1000\n';

function openFds(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

for (const mode of MODES) {
  test(`${mode}: 10,000 random bytes on control: supervise survives; harmless bytes leave the service alone`, async () => {
    const dir = makeService(procs, SLEEP_RUN);
    const sup = startSupervise(procs, dir, { mode });
    const pid = await waitUp(dir, { procs });
    // without the bytes that stop, pause or signal a sleep: u, c, w and non-commands stay
    const harmless = Buffer.from([...crypto.randomBytes(20000)].filter((b) => !'dxopkthiaq12'.includes(String.fromCharCode(b)))
      .slice(0, 10000));
    assert.equal(harmless.length, 10000);
    control(dir, harmless);
    control(dir, 'p'); // a marker: once it is seen, every byte before it was read
    await waitStatus(dir, (s) => s.paused, 'the marker');
    control(dir, 'c');
    const s = await waitStatus(dir, (st) => !st.paused, 'continued');
    assert.deepEqual([s.pid, s.want], [pid, 'up']);
    assert.ok(alive(pid));
    assert.ok(sup.running());
    assert.equal(readLog(dir, 'starts.log').length, 1);

    // anything at all (but x), then "uc": the service ends up up and running
    control(dir, Buffer.from([...crypto.randomBytes(10000)].filter((b) => b !== 0x78)));
    control(dir, 'uc');
    // a kill among the bytes may still be on its way: wait for a pid that runs
    const end = await waitStatus(dir, (st) => st.pid !== 0 && st.want === 'up' && !st.paused && alive(st.pid), 'up after uc');
    procs.adopt(end.pid);
    assert.ok(sup.running());
    assert.ok(okAnswers(dir));
    assert.equal(sup.stderr(), '');
  });

  test(`${mode}: service killed 30 times: at most one start a second, no zombie, stable fd count`, async () => {
    const dir = makeService(procs, SLEEP_RUN);
    const sup = startSupervise(procs, dir, { mode });
    const logged = (p: number): Promise<unknown> =>
      waitFor(() => readLog(dir, 'starts.log').some((l) => l.startsWith(`start ${p} `)), `start of ${p} logged`);
    // start times as supervise recorded them (the status time while that pid runs)
    const startTimes: number[] = [];
    const started = (p: number): void => {
      const st = status(dir);
      assert.equal(st?.pid, p);
      startTimes.push(st!.when.sec + st!.when.nano / 1e9);
    };
    let pid = await waitUp(dir, { procs });
    started(pid);
    await logged(pid);
    // counted after some restarts: a leak grows with every one, while a host
    // (svscan) may open a descriptor once along the way (its watcher)
    let fds = -1;
    for (let i = 0; i < 30; i++) {
      if (i === 10) fds = openFds(sup.child.pid!);
      process.kill(pid, 'SIGKILL');
      pid = await waitUp(dir, { procs, not: pid });
      started(pid);
      await logged(pid);
    }
    assert.equal(readLog(dir, 'starts.log').length, 31, 'every start ran ./run');
    for (let i = 1; i < startTimes.length; i++) {
      // loosely: the rule is 1 s between starts (noise: the time is taken right after the fork)
      const gap = startTimes[i] - startTimes[i - 1];
      assert.ok(gap > 0.9, `start ${i} came ${gap.toFixed(3)} s after the previous`);
    }
    assert.deepEqual(await waitFor(() => (zombieChildren(sup.child.pid!).length === 0 ? [] : undefined), 'no zombie'), []);
    assert.equal(openFds(sup.child.pid!), fds, 'open fds of supervise');
  });
}

test('a second supervise on the same directory fails like the C one (both ways round)', async () => {
  for (const [first, second] of [[bin('supervise'), bin('supervise')], [bin('supervise'), cbin('supervise')], [cbin('supervise'), bin('supervise')]]) {
    const dir = makeService(procs, SLEEP_RUN);
    const sup = startSupervise(procs, dir, { prog: first, args: ['svc'], cwd: path.dirname(dir) });
    const pid = await waitUp(dir, { procs });
    await waitFor(() => readLog(dir, 'starts.log').length === 1, 'run started');
    const r = await run(second, ['svc'], { cwd: path.dirname(dir), timeoutMs: 5000 });
    assert.deepEqual({ code: r.code, err: r.stderr, out: r.stdout },
      { code: 111, err: 'supervise: fatal: unable to acquire svc/supervise/lock: temporary failure\n', out: '' },
      `${second} after ${first}`);
    assert.equal(sup.child.exitCode, null);
    assert.equal(status(dir)?.pid, pid);
    assert.equal(readLog(dir, 'starts.log').length, 1);
  }
});

for (const [what, script] of [
  ['closed stderr', 'exec "$0" "$1" 2>&-'],
  ['stderr a pipe nobody reads (EPIPE)', '"$0" "$1" 2>&1 | true'],
] as const) {
  test(`${what}: start failures cannot kill supervise`, async () => {
    const dir = makeService(procs, undefined);
    procs.start('/bin/sh', ['-c', script, bin('supervise'), dir], { detached: true });
    // each failed attempt is a status change
    const seen = new Set<string>();
    await waitFor(() => {
      const st = status(dir);
      if (st) seen.add(`${st.when.sec}.${st.when.nano}`);
      return seen.size >= 4;
    }, 'three failed starts');
    assert.ok(okAnswers(dir), 'supervise still runs');
    writeExecutable(path.join(dir, 'run'), SLEEP_RUN);
    await waitUp(dir, { procs });
  });
}

test('SIGTERM kills supervise (as it does the C one) and leaves the service running', async () => {
  const dir = makeService(procs, SLEEP_RUN);
  const sup = startSupervise(procs, dir);
  const pid = await waitUp(dir, { procs });
  sup.child.kill('SIGTERM');
  assert.deepEqual(await exitOf(sup.child), { code: null, signal: 'SIGTERM' });
  assert.ok(alive(pid), 'service still running');
  assert.equal(okAnswers(dir), false);
});

for (const m of MODES) test(`${m}: permissions: supervise/ 0700, control and ok 0600 even under umask 0; nobody cannot control a root service`, async () => {
  const dir = makeService(procs, SLEEP_RUN);
  // everything above supervise/ open to all, so only supervise's own modes protect it
  fs.chmodSync(path.dirname(dir), 0o755);
  fs.chmodSync(dir, 0o755);
  startSupervise(procs, dir, { mode: m, via: ['/bin/sh', '-c', 'umask 0; exec "$0" "$@"'] });
  const pid = await waitUp(dir, { procs });
  const mode = (f: string): string => (fs.statSync(path.join(dir, 'supervise', f)).mode & 0o7777).toString(8);
  assert.deepEqual([mode('.'), mode('control'), mode('ok'), mode('lock')], ['700', '600', '600', '600']);
  for (const argv of [[cbin('svc'), '-dx', dir], ['/bin/sh', '-c', 'printf dx > "$0"/supervise/control', dir]]) {
    const r = await run('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', ...argv]);
    assert.match(r.stderr, /access denied|Permission denied/, `${argv.join(' ')} as nobody`);
  }
  const s = status(dir);
  assert.deepEqual([s?.pid, s?.want], [pid, 'up']);
  // chmod the FIFO open: then anyone may (the permission is the FIFO's, as in C)
  fs.chmodSync(path.join(dir, 'supervise'), 0o755);
  fs.chmodSync(path.join(dir, 'supervise', 'control'), 0o622);
  const r = await run('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', cbin('svc'), '-d', dir]);
  assert.equal(r.stderr, '');
  await waitStatus(dir, (st) => st.want === 'down' && st.pid === 0, 'down by nobody once allowed');
});

for (const mode of MODES) test(`${mode}: a regular file in place of supervise/control: supervise runs the service and obeys what is appended, as the C one`, async () => {
  for (const { name, opts } of oursAndC(mode)) {
    const dir = makeService(procs, SLEEP_RUN);
    fs.mkdirSync(path.join(dir, 'supervise'));
    fs.writeFileSync(path.join(dir, 'supervise', 'control'), '');
    const sup = startSupervise(procs, dir, opts);
    await waitUp(dir, { procs });
    assert.ok(sup.running(), `${name}: still running`);
    fs.appendFileSync(path.join(dir, 'supervise', 'control'), 'dx');
    assert.deepEqual(await sup.ended(), { code: 0, signal: null }, `${name}: d then x obeyed`);
    assert.equal(status(dir)?.pid, 0);
    assert.equal(sup.stderr(), '');
  }
});
