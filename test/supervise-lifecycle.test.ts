// The service lifecycle beyond 0.76 (./finish, down-signal, timeout-kill,
// notification-fd, back-off), in both modes, and compared with Debian's
// s6-supervise (the reference for these files) on copies of the same
// service directories.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, alive, bin, exitOf, waitFor, writeExecutable } from './helpers';
import { makeService, status, statusPid, waitDown, waitUp } from './fixtures/service';
import { MODES, startSupervise } from './fixtures/supervised';
import { startSvscan } from './fixtures/tree';

const S6 = '/usr/bin';
const procs = new Procs();
after(() => procs.cleanup());

/** Lines a script appended to dir/events. */
function events(dir: string): string[] {
  try {
    return fs.readFileSync(path.join(dir, 'events'), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

function readlinkOr(file: string): string {
  try {
    return fs.readlinkSync(file);
  } catch {
    return '';
  }
}

/** supervise/info ({} while there is none yet). */
function info(dir: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'supervise', 'info'), 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** A fresh service directory with ./run and the given files (name → text; a `#!` text is made executable). */
function service(run: string, files: Record<string, string> = {}): string {
  const dir = makeService(procs, run);
  for (const [name, text] of Object.entries(files)) {
    if (text.startsWith('#!')) writeExecutable(path.join(dir, name), text);
    else fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** A copy of a service directory (without supervise/), for s6-supervise. */
function copyFor(dir: string): string {
  const copy = path.join(procs.tmpdir('dtn-s6-'), 'svc');
  fs.cpSync(dir, copy, { recursive: true, filter: (src) => path.basename(src) !== 'supervise' });
  return copy;
}

/** Runs fn with s6-supervise on dir; stops it (and what it runs: s6 gives ./run a session of its own) afterwards. */
async function underS6<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const sup = procs.start(`${S6}/s6-supervise`, [dir], { detached: true });
  await waitFor(() => fs.existsSync(path.join(dir, 'supervise', 'status')), 's6-supervise to start');
  try {
    return await fn();
  } finally {
    for (const pid of s6Pids(dir)) procs.adopt(pid, true);
    try {
      execFileSync(`${S6}/s6-svc`, ['-dx', dir]);
    } catch {
      // gone already
    }
    await exitOf(sup, 10000);
  }
}

/** The pid s6-svstat gives for dir (0 when down). */
function s6Pid(dir: string): number {
  try {
    // -1 when down
    return Math.max(0, Number(execFileSync(`${S6}/s6-svstat`, ['-p', dir], { encoding: 'utf8' }).trim()) || 0);
  } catch {
    return 0;
  }
}

/** One field of `s6-svstat -o FIELD`. */
function s6Field(dir: string, field: string): string {
  return execFileSync(`${S6}/s6-svstat`, ['-o', field, dir], { encoding: 'utf8' }).trim();
}

function s6Pids(dir: string): number[] {
  const p = s6Pid(dir);
  return p > 0 ? [p] : [];
}

const FINISH_LOG = '#!/bin/sh\necho "finish $# [$1] [$2] [$3]" >> events\n';

describe('./finish: its arguments, as s6-supervise gives them', () => {
  const RUN = '#!/bin/sh\necho run >> events\nif [ -e stop-by-signal ]; then exec sleep 1000; fi\nsleep 0.2\nexit 3\n';

  test('s6-supervise: exit 3, then killed by SIGKILL', async () => {
    const dir = copyFor(service(RUN, { finish: FINISH_LOG, down: '' }));
    await underS6(dir, async () => {
      execFileSync(`${S6}/s6-svc`, ['-o', dir]);
      await waitFor(() => events(dir).includes(`finish 3 [3] [0] [${dir}]`), 's6: finish after exit 3', 10000);
      fs.writeFileSync(path.join(dir, 'stop-by-signal'), '');
      execFileSync(`${S6}/s6-svc`, ['-o', dir]);
      const pid = await waitFor(() => s6Pid(dir), 's6: up');
      process.kill(pid, 'SIGKILL');
      await waitFor(() => events(dir).includes(`finish 3 [256] [9] [${dir}]`), 's6: finish after SIGKILL', 10000);
    });
  });

  for (const mode of MODES) {
    test(`ours (${mode}): the same arguments; the dir as the supervisor was given it`, async () => {
      const dir = service(RUN, { finish: FINISH_LOG, down: '' });
      const sup = await startSupervise(procs, dir, { mode }).ready();
      const label = mode === 'host' ? 'svc' : dir;
      execFileSync(bin('svc'), ['-o', dir]);
      await waitFor(() => events(dir).includes(`finish 3 [3] [0] [${label}]`), 'finish after exit 3', 10000);
      fs.writeFileSync(path.join(dir, 'stop-by-signal'), '');
      execFileSync(bin('svc'), ['-o', dir]);
      const pid = await waitUp(dir, { procs });
      process.kill(pid, 'SIGKILL');
      await waitFor(() => events(dir).includes(`finish 3 [256] [9] [${label}]`), 'finish after SIGKILL', 10000);
      assert.deepEqual(events(dir).filter((l) => l.startsWith('finish')).length, 2, 'once per exit');
      await sup.stop();
    });
  }
});

describe('./finish: when it runs, what it holds up', () => {
  for (const mode of MODES) {
    test(`${mode}: ./run waits for it, svc -d does not kill it, svc -x waits for it; info says finishing`, async () => {
      const finish = '#!/bin/sh\necho finish-start >> events\nwhile [ ! -e release ]; do sleep 0.02; done\necho finish-end >> events\n';
      const dir = service('#!/bin/sh\necho run >> events\nexec sleep 1000\n', { finish });
      const sup = await startSupervise(procs, dir, { mode }).ready();
      const pid = await waitUp(dir, { procs });
      await waitFor(() => events(dir).includes('run'), './run under way');
      process.kill(pid, 'SIGTERM');
      await waitFor(() => events(dir).includes('finish-start'), 'finish to start');
      await waitFor(() => info(dir).finishing === true, 'info: finishing');
      assert.equal(statusPid(dir), 0, 'down while ./finish runs');
      execFileSync(bin('svc'), ['-dx', dir]);
      // ./finish still runs, and holds the supervisor's exit
      await waitFor(() => status(dir)?.want === 'down', 'want down');
      assert.ok(sup.running(), 'x waits for ./finish');
      assert.ok(!events(dir).includes('finish-end'), 'd did not end ./finish');
      assert.deepEqual(events(dir).filter((l) => l === 'run'), ['run'], `not restarted while ./finish runs: ${events(dir).join(' ')}`);
      fs.writeFileSync(path.join(dir, 'release'), '');
      await sup.ended();
      assert.ok(events(dir).includes('finish-end'));
      assert.deepEqual(events(dir).filter((l) => l === 'run'), ['run'], 'no start after d');
    });

    test(`${mode}: ./finish that exits 125 keeps the service down; one that overruns timeout-finish is killed and ./run restarts`, async () => {
      const dir = service('#!/bin/sh\necho run >> events\nsleep 0.1\nexit 1\n', {
        finish: '#!/bin/sh\necho finish >> events\n[ -e hang ] && exec sleep 1000\nexit 125\n',
      });
      const sup = await startSupervise(procs, dir, { mode }).ready();
      await waitFor(() => events(dir).includes('finish') && status(dir)?.want === 'down' && statusPid(dir) === 0, 'down, want down, after 125');
      assert.deepEqual(events(dir), ['run', 'finish']);
      fs.writeFileSync(path.join(dir, 'hang'), '');
      fs.writeFileSync(path.join(dir, 'timeout-finish'), '300\n');
      execFileSync(bin('svc'), ['-u', dir]);
      await waitFor(() => events(dir).filter((l) => l === 'run').length >= 3, './run restarted after a killed ./finish', 10000);
      await sup.stop();
    });

    test(`${mode}: a ./finish that is not executable is skipped with a warning`, async () => {
      const dir = service('#!/bin/sh\necho run >> events\nsleep 0.1\nexit 1\n', { finish: 'echo not a script\n' });
      const sup = await startSupervise(procs, dir, { mode }).ready();
      await waitFor(() => events(dir).length >= 2, './run restarted', 10000);
      assert.match(sup.stderr(), /warning: unable to start [^\n]*\/finish: access denied: skipped/);
      assert.ok(sup.running());
      await sup.stop();
    });
  }

  test('s6-supervise: ./finish that exits 125 keeps the service down', async () => {
    const dir = copyFor(service('#!/bin/sh\necho run >> events\nsleep 0.1\nexit 1\n', { finish: '#!/bin/sh\necho finish >> events\nexit 125\n' }));
    await underS6(dir, async () => {
      await waitFor(() => events(dir).includes('finish') && s6Field(dir, 'wantedup') === 'false' && s6Pid(dir) === 0, 's6: down, not wanted up, after 125', 10000);
      assert.deepEqual(events(dir), ['run', 'finish']);
    });
  });
});

const TRAPS = `#!/bin/sh
echo "run $$" >> events
trap 'echo HUP >> events; exit 3' HUP
trap 'echo TERM >> events' TERM
while :; do sleep 0.05; done
`;

describe('down-signal and timeout-kill', () => {
  test('s6-supervise: down-signal HUP is what -d sends; timeout-kill ends a ./run that ignores TERM', async () => {
    const dir = copyFor(service(TRAPS, { 'down-signal': 'HUP\n' }));
    await underS6(dir, async () => {
      await waitFor(() => s6Pid(dir), 's6: up');
      execFileSync(`${S6}/s6-svc`, ['-d', dir]);
      await waitFor(() => events(dir).includes('HUP') && s6Pid(dir) === 0, 's6: down by HUP');
      fs.writeFileSync(path.join(dir, 'down-signal'), 'TERM\n');
      fs.writeFileSync(path.join(dir, 'timeout-kill'), '300\n');
      execFileSync(`${S6}/s6-svc`, ['-u', dir]);
      const pid = await waitFor(() => s6Pid(dir), 's6: up again');
      execFileSync(`${S6}/s6-svc`, ['-d', dir]);
      await waitFor(() => events(dir).includes('TERM') && !alive(pid), 's6: killed after timeout-kill');
    });
  });

  for (const mode of MODES) {
    test(`${mode}: the same with ours; SIGKILL goes to the process group when ./run leads one`, async () => {
      const dir = service(TRAPS, { 'down-signal': 'SIGHUP\n' });
      const sup = await startSupervise(procs, dir, { mode }).ready();
      await waitUp(dir, { procs });
      execFileSync(bin('svc'), ['-d', dir]);
      await waitFor(() => events(dir).includes('HUP') && statusPid(dir) === 0, 'down by HUP');
      assert.ok(!events(dir).includes('TERM'), 'no TERM');
      // a ./run that leads a process group (pgrphack), with a child that also ignores TERM
      fs.writeFileSync(path.join(dir, 'down-signal'), '15\n');
      fs.writeFileSync(path.join(dir, 'timeout-kill'), '300\n');
      writeExecutable(path.join(dir, 'run'), `#!/bin/sh
exec ${bin('pgrphack')} sh -c 'trap "echo TERM >> events" TERM; sh -c "trap \\"\\" TERM; echo \\$\\$ > child; exec sleep 1000" & while :; do sleep 0.05; done'
`);
      execFileSync(bin('svc'), ['-u', dir]);
      const pid = await waitUp(dir, { procs });
      const child = await waitFor(() => Number(fs.readFileSync(path.join(dir, 'child'), 'utf8')) || 0, 'the child of ./run').catch(() => 0);
      assert.ok(child > 0);
      procs.adopt(child);
      execFileSync(bin('svc'), ['-d', dir]);
      await waitFor(() => statusPid(dir) === 0 && !alive(pid), 'killed after timeout-kill', 10000);
      assert.ok(events(dir).includes('TERM'), 'TERM first');
      await waitFor(() => !alive(child), 'its process group killed too');
      // a host takes the directory again at its next scan: not to start this ./run (a session of its own) again
      fs.writeFileSync(path.join(dir, 'down'), '');
      await sup.stop();
    });
  }
});

describe("svscan's stop honours down-signal and timeout-kill", () => {
  for (const mode of MODES) {
    test(`${mode}: a service that ignores TERM no longer holds the stop for the 20-second grace`, async () => {
      const root = procs.tmpdir('dtn-stop-');
      const scan = path.join(root, 'service');
      fs.mkdirSync(scan);
      const stuck = path.join(scan, 'stuck');
      makeService(stuck, '#!/bin/sh\ntrap "echo TERM >> events" TERM\nwhile :; do sleep 0.05; done\n');
      fs.writeFileSync(path.join(stuck, 'timeout-kill'), '300\n');
      const tree = startSvscan(procs, scan, root, { args: mode === 'host' ? ['--host', scan] : [scan] });
      const pid = await waitUp(stuck, { procs });
      await waitFor(() => events(stuck).length === 0 && alive(pid), './run under way');
      process.kill(tree.pid, 'SIGTERM');
      // bounded well below the grace: the kill comes 300 ms after the stop's d
      const end = await exitOf(tree.child, 10000);
      assert.deepEqual(end, { code: 0, signal: null }, tree.output());
      assert.ok(!alive(pid), './run killed');
      assert.deepEqual(events(stuck), ['TERM'], 'TERM first, then SIGKILL');
      assert.doesNotMatch(tree.output(), /still running/);
    });
  }
});

// a line begun at once, finished later: ready at its newline, not at its first bytes
const READY_RUN = "#!/bin/sh\nprintf 'rea' >&3\n: > begun\nwhile [ ! -e go ]; do sleep 0.02; done\necho dy >&3\nexec sleep 1000\n";

describe('notification-fd: readiness', () => {
  test('s6-supervise: ready only after the newline', async () => {
    const dir = copyFor(service(READY_RUN, { 'notification-fd': '3\n' }));
    await underS6(dir, async () => {
      await waitFor(() => s6Pid(dir), 's6: up');
      assert.equal(s6Field(dir, 'ready'), 'false');
      fs.writeFileSync(path.join(dir, 'go'), '');
      await waitFor(() => s6Field(dir, 'ready') === 'true', 's6: ready');
    });
  });

  for (const mode of MODES) {
    test(`${mode}: ours: readySince in info only after the newline, gone when ./run exits`, async () => {
      const dir = service(READY_RUN, { 'notification-fd': '3\n' });
      const sup = await startSupervise(procs, dir, { mode }).ready();
      const pid = await waitUp(dir, { procs });
      await waitFor(() => info(dir).notification === 3, 'info: notification');
      await waitFor(() => readlinkOr(`/proc/${pid}/fd/3`).startsWith('pipe:'), './run holds the pipe on fd 3');
      await waitFor(() => fs.existsSync(path.join(dir, 'begun')), 'the first bytes of the line written');
      assert.equal(info(dir).readySince, undefined, 'not ready before the newline');
      fs.writeFileSync(path.join(dir, 'go'), '');
      await waitFor(() => typeof info(dir).readySince === 'string', 'ready');
      assert.match(info(dir).readySince as string, /^@[0-9a-f]{24}$/);
      fs.rmSync(path.join(dir, 'go'));
      fs.rmSync(path.join(dir, 'begun'));
      process.kill(pid, 'SIGTERM');
      await waitUp(dir, { not: pid, procs });
      await waitFor(() => info(dir).starts === 2, 'info of the second start');
      assert.equal(info(dir).readySince, undefined, 'a new ./run is not ready yet');
      await sup.stop();
    });
  }
});

describe('back-off and giving up', () => {
  for (const mode of MODES) {
    test(`${mode}: starts 1, 2 seconds apart, given up after start-retries, svc -u starts anew`, async () => {
      const dir = service('#!/bin/sh\ndate +%s%3N >> events\nexit 1\n', { 'backoff-max': '4\n', 'start-retries': '3\n' });
      const sup = await startSupervise(procs, dir, { mode }).ready();
      await waitFor(() => info(dir).gaveUp === 3, 'given up after 3', 15000);
      const s = status(dir)!;
      assert.equal(s.want, 'down');
      assert.equal(s.pid, 0);
      const t = events(dir).map(Number);
      assert.equal(t.length, 3, 'three starts');
      assert.ok(t[1] - t[0] >= 900, `a second between the first two: ${t[1] - t[0]} ms`);
      assert.ok(t[2] - t[1] >= 1900, `two seconds before the third: ${t[2] - t[1]} ms`);
      execFileSync(bin('svc'), ['-u', dir]);
      await waitFor(() => events(dir).length >= 4, 'started again by svc -u');
      assert.equal(info(dir).gaveUp, undefined);
      await waitFor(() => info(dir).failedInRow === 1, 'the count from zero');
      await sup.stop();
    });
  }
});

describe('bad values: a warning naming the file and the value, the feature off', () => {
  for (const mode of MODES) {
    test(`${mode}: timeout-kill abc and -5, down-signal NOSUCH, notification-fd 1 and x`, async () => {
      const dir = service(TRAPS, { 'timeout-kill': 'abc\n', 'down-signal': 'NOSUCH\n', 'notification-fd': '1\n' });
      const sup = await startSupervise(procs, dir, { mode }).ready();
      const pid = await waitUp(dir, { procs });
      await waitFor(() => /bad value in [^\n]*notification-fd: "1": ignored/.test(sup.stderr()), 'notification-fd warned about');
      await waitFor(() => info(dir).starts === 1, 'info of the start');
      assert.equal(info(dir).notification, undefined);
      execFileSync(bin('svc'), ['-d', dir]);
      await waitFor(() => /bad value in [^\n]*down-signal: "NOSUCH": ignored/.test(sup.stderr()), 'down-signal warned about');
      await waitFor(() => events(dir).includes('TERM'), 'TERM sent instead');
      assert.match(sup.stderr(), /bad value in [^\n]*timeout-kill: "abc": ignored/);
      assert.ok(alive(pid), 'no SIGKILL: timeout-kill is off (./run ignores TERM)');
      fs.writeFileSync(path.join(dir, 'timeout-kill'), '-5\n');
      fs.writeFileSync(path.join(dir, 'notification-fd'), 'x\n');
      process.kill(pid, 'SIGKILL');
      await waitDown(dir);
      execFileSync(bin('svc'), ['-u', dir]);
      const next = await waitUp(dir, { not: pid, procs });
      execFileSync(bin('svc'), ['-d', dir]);
      await waitFor(() => /timeout-kill: "-5": ignored/.test(sup.stderr()) && /notification-fd: "x": ignored/.test(sup.stderr()), 'the new values warned about');
      assert.ok(sup.running(), 'the supervisor goes on');
      process.kill(next, 'SIGKILL');
      await sup.stop();
    });
  }
});
