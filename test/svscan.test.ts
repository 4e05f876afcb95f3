// svscan: the scan (names, symlinks, dot-names, additions, removals), the
// pipes of logged services, restarts, a restarted svscan, SIGTERM, and the
// messages of the C svscan.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, alive, bin, cbin, run, waitFor, exitOf } from './helpers';
import { CATLOG, COUNTER, SLEEPER, makeService, statusPid, waitUp, waitRecorded } from './fixtures/service';
import { allProcs, killUnder, pipeFds, startSvscan, superviseChildren, supervisesIn, treeRoot, zombieChildren } from './fixtures/tree';

const procs = new Procs();
const roots: string[] = [];
after(async () => {
  await procs.cleanup();
  killUnder(roots);
});

function root(): { scan: string; outside: string; logs: string } {
  return treeRoot(procs, roots, 'dtn-svscan-', ['scan', 'outside', 'logs']);
}

/** How many inotify instances pid holds (chokidar's fs.watch opens one). */
function inotifyFds(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:inotify';
    } catch {
      return false;
    }
  }).length;
}

function lineNumbers(file: string): number[] {
  let text = '';
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch {
    return [];
  }
  return text.split('\n').filter((l) => /^line \d+$/.test(l)).map((l) => Number(l.slice(5)));
}

function readCount(dir: string): number {
  try {
    return Number(fs.readFileSync(path.join(dir, 'count'), 'latin1').trim()) || 0;
  } catch {
    return 0;
  }
}

test('svscan: unable to chdir is fatal like the C svscan', async () => {
  const ours = await run(bin('svscan'), ['/nonexistent-dtn']);
  const theirs = await run(cbin('svscan'), ['/nonexistent-dtn']);
  assert.deepEqual({ code: ours.code, err: ours.stderr }, { code: theirs.code, err: theirs.stderr });
  assert.equal(ours.code, 111);
});

test('svscan: services, symlinks, dot-names, files, additions and removals', async (t) => {
  const { scan, outside, logs } = root();
  makeService(path.join(scan, 'a'), SLEEPER);
  makeService(path.join(scan, '.hidden'), SLEEPER);
  fs.writeFileSync(path.join(scan, 'file'), 'not a service\n');
  const shared = makeService(path.join(outside, 'shared'), SLEEPER);
  fs.symlinkSync(shared, path.join(scan, 'link1'));
  fs.symlinkSync(shared, path.join(scan, 'link2'));
  const gone = makeService(path.join(scan, 'gone'), SLEEPER, { log: CATLOG });
  const tree = startSvscan(procs, scan, logs);

  await waitUp(path.join(scan, 'a'));
  await waitUp(shared, { what: 'shared (through two symlinks)' });
  await waitUp(gone);
  await waitUp(path.join(gone, 'log'));
  assert.equal(supervisesIn(shared).length, 1, 'two symlinks to one directory: one supervise');
  assert.equal(fs.existsSync(path.join(scan, '.hidden', 'supervise')), false, 'a dot-named directory is ignored');
  assert.equal(superviseChildren(tree.pid).length, 4, 'a, shared, gone, gone/log');

  // added after start: noticed through the watcher well before the 5-second rescan
  const added = path.join(outside, 'added');
  makeService(added, SLEEPER);
  const t0 = Date.now();
  fs.symlinkSync(added, path.join(scan, 'added'));
  await waitUp(added, { what: 'added service' });
  t.diagnostic(`new service running ${Date.now() - t0} ms after its symlink appeared`);
  assert.equal(inotifyFds(tree.pid), 1, 'svscan watches the scanned directory');

  // removed: once its supervise processes are gone it is forgotten and its pipe closed
  const [, pipe] = [...pipeFds(supervisesIn(gone)[0].pid)].find(([fd]) => fd === 1) ?? [];
  assert.ok(pipe, 'the logged service writes to a pipe');
  assert.ok([...pipeFds(tree.pid).values()].includes(pipe), 'svscan holds the pipe');
  const moved = path.join(outside, 'gone');
  fs.renameSync(gone, moved);
  await run(fs.existsSync(bin('svc')) ? bin('svc') : cbin('svc'), ['-dx', moved, path.join(moved, 'log')]);
  await waitFor(() => ![...pipeFds(tree.pid).values()].includes(pipe), 'the removed service\'s pipe closed by svscan', 15000);
  assert.equal(supervisesIn(moved).length, 0, 'a forgotten service is not started again');
  assert.equal(supervisesIn(path.join(moved, 'log')).length, 0);
  assert.ok(alive(tree.pid));
  assert.equal(tree.output(), '', 'no warnings');
});

test('svscan with SVSCAN_NOWATCH=1: no watcher, the 5-second rescan alone starts a new service', async () => {
  const { scan, outside, logs } = root();
  makeService(path.join(scan, 'first'), SLEEPER);
  const tree = startSvscan(procs, scan, logs, { env: { SVSCAN_NOWATCH: '1' } });
  await waitUp(path.join(scan, 'first'));
  assert.equal(inotifyFds(tree.pid), 0, 'no inotify instance in svscan');
  const added = makeService(path.join(outside, 'added'), SLEEPER);
  fs.symlinkSync(added, path.join(scan, 'added'));
  await waitUp(added, { what: 'service added under a svscan without watcher', timeoutMs: 15000 });
  assert.equal(tree.output(), '', 'no warnings');
});

test('svscan: a logged service reaches its log, also across a restart of the log service, and no descriptor leaks', async () => {
  const { scan, logs } = root();
  const svc = makeService(path.join(scan, 'count'), COUNTER, { log: CATLOG });
  makeService(path.join(scan, 'other'), SLEEPER, { log: CATLOG });
  makeService(path.join(scan, 'plain'), SLEEPER);
  const tree = startSvscan(procs, scan, logs);
  const out = path.join(svc, 'log', 'out');
  const logPid = await waitUp(path.join(svc, 'log'));
  await waitUp(path.join(scan, 'other', 'log'));
  await waitUp(path.join(scan, 'plain'));
  await waitFor(() => lineNumbers(out).length >= 5, 'lines in the log');

  // descriptors: each supervise holds its own service's pipe end only, on the right fd
  const sups = superviseChildren(tree.pid);
  assert.equal(sups.length, 5);
  const held = new Map(sups.map((p) => [p, pipeFds(p.pid)]));
  // what svscan holds, less what it inherited (as the test process has it)
  const inherited = new Set(pipeFds(process.pid).values());
  const svscanPipes = new Set([...pipeFds(tree.pid).values()].filter((ino) => !inherited.has(ino)));
  const servicePipes = new Set([...held.values()].flatMap((m) => [...m.values()]).filter((ino) => svscanPipes.has(ino)));
  assert.equal(servicePipes.size, 2, 'svscan holds one pipe per logged service');
  const ends = new Set<string>();
  for (const [p, fds] of held) {
    const mine = [...fds].filter(([, ino]) => servicePipes.has(ino));
    const isLog = path.basename(p.cwd) === 'log';
    if (path.basename(p.cwd) === 'plain') {
      assert.deepEqual(mine, [], `${p.cwd}: no pipe of another service`);
      continue;
    }
    assert.equal(mine.length, 1, `${p.cwd}: exactly one service pipe end (${JSON.stringify(mine)})`);
    assert.equal(mine[0][0], isLog ? 0 : 1, `${p.cwd}: on ${isLog ? 'stdin' : 'stdout'}`);
    ends.add(`${isLog ? 'r' : 'w'}${mine[0][1]}`);
  }
  assert.equal(ends.size, 4, 'each pipe has one writer supervise and one reader supervise');

  // the log service's run is killed: the pipe stays, nothing written after the restart is lost
  process.kill(logPid, 'SIGKILL');
  const newLog = await waitFor(() => {
    const p = statusPid(path.join(svc, 'log'));
    return p && p !== logPid && alive(p) ? p : 0;
  }, 'log service restarted');
  assert.notEqual(newLog, logPid);
  const restartedAt = readCount(svc);
  await waitFor(() => Math.max(0, ...lineNumbers(out)) >= restartedAt + 20, 'lines after the restart');
  const nums = lineNumbers(out);
  assert.equal(new Set(nums).size, nums.length, 'no line duplicated');
  const after = nums.filter((n) => n > restartedAt);
  const top = Math.max(...after);
  for (let n = restartedAt + 1; n <= top; n++) assert.ok(after.includes(n), `line ${n} (written after the restart) reached the log`);
  assert.deepEqual(after, [...after].sort((x, y) => x - y), 'in order');
});

test('svscan: a killed supervise is started again; a new svscan starts nothing twice', async () => {
  const { scan, logs } = root();
  const a = makeService(path.join(scan, 'a'), SLEEPER);
  const b = makeService(path.join(scan, 'b'), SLEEPER, { log: CATLOG });
  const first = startSvscan(procs, scan, logs);
  const oldRunA = await waitUp(a);
  await waitRecorded(a, oldRunA);
  const supA = supervisesIn(a)[0].pid;
  process.kill(supA, 'SIGKILL');
  const newSupA = await waitFor(() => supervisesIn(a).find((p) => p.pid !== supA && p.ppid === first.pid)?.pid, 'a new supervise for a', 8000);
  // beyond the C supervise, which would start a second ./run: the new one adopts the ./run still running
  await waitFor(() => JSON.parse(fs.readFileSync(path.join(a, 'supervise', 'info'), 'latin1')).supervise === newSupA, 'the new supervise of a to take over');
  const runA = statusPid(a);
  assert.equal(runA, oldRunA, 'a adopted, not started twice');
  assert.ok(alive(runA));
  const runB = await waitUp(b);
  const runBLog = await waitUp(path.join(b, 'log'));

  process.kill(first.pid, 'SIGKILL');
  await exitOf(first.child);
  const before = new Map([a, b, path.join(b, 'log')].map((d) => [d, supervisesIn(d).map((p) => p.pid)]));
  const second = startSvscan(procs, scan, logs);
  // a service added now is started by the new svscan: by then it has scanned everything
  const c = makeService(path.join(scan, 'c'), SLEEPER);
  await waitUp(c);
  await waitFor(() => superviseChildren(second.pid).length === 1, 'the new svscan runs a supervise for c');
  assert.deepEqual(superviseChildren(second.pid).map((p) => p.cwd), [fs.realpathSync(c)], 'no second supervise');
  for (const [d, pids] of before) assert.deepEqual(supervisesIn(d).map((p) => p.pid), pids, `${d}: same supervise`);
  assert.equal(statusPid(a), runA, 'a not restarted');
  assert.equal(statusPid(b), runB, 'b not restarted');
  assert.equal(statusPid(path.join(b, 'log')), runBLog, 'b/log not restarted');
  assert.equal(second.output(), '', 'no lock failures or other warnings');
});

test('svscan: SIGTERM brings every service down, log services last, then exits', async () => {
  const { scan, logs } = root();
  const svc = makeService(path.join(scan, 'count'), COUNTER, { log: CATLOG });
  const plain = makeService(path.join(scan, 'plain'), SLEEPER);
  const tree = startSvscan(procs, scan, logs);
  const runs = [await waitUp(svc), await waitUp(path.join(svc, 'log')), await waitUp(plain)];
  const out = path.join(svc, 'log', 'out');
  await waitFor(() => lineNumbers(out).length >= 10, 'lines in the log');
  const sups = superviseChildren(tree.pid).map((p) => p.pid);
  process.kill(tree.pid, 'SIGTERM');
  assert.equal((await exitOf(tree.child))?.code, 0);
  for (const p of [...sups, ...runs]) assert.equal(alive(p), false, `pid ${p} gone`);
  const nums = lineNumbers(out);
  assert.ok(nums.length > 0);
  assert.deepEqual(nums, nums.map((_, i) => i + 1), 'every line, once, in order');
  assert.ok(nums[nums.length - 1] >= readCount(svc), 'the last line written reached the log');
});

test('svscan: warnings match the C svscan (dangling symlink, supervise not found)', async () => {
  const outputs: string[] = [];
  for (const cmd of [bin('svscan'), cbin('svscan')]) {
    const { scan, logs } = root();
    makeService(path.join(scan, 'a'), SLEEPER);
    makeService(path.join(scan, 'b'), SLEEPER, { log: CATLOG });
    fs.symlinkSync('/nonexistent-dtn', path.join(scan, 'dangling'));
    const tree = startSvscan(procs, scan, logs, { cmd, PATH: '/nonexistent-dtn-bin' });
    const want = ['dangling: file does not exist', 'supervise a:', 'supervise b:', 'supervise b/log:'];
    await waitFor(() => want.every((w) => tree.output().includes(w)), `${cmd}: warnings`);
    process.kill(tree.pid, 'SIGKILL');
    await exitOf(tree.child);
    outputs.push([...new Set(tree.output().split('\n').filter(Boolean))].sort().join('\n'));
  }
  assert.equal(outputs[0], outputs[1]);
  assert.match(outputs[0], /^svscan: warning: unable to start supervise a: file does not exist$/m);
});

test('svscan as PID 1: reaps orphans, and SIGINT brings the tree down', async () => {
  const { scan, logs } = root();
  // 20 orphans re-parented to PID 1 (svscan), which must reap them
  const a = makeService(path.join(scan, 'a'), '#!/bin/sh\nfor i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do (sleep 0.1 &); done\nexec sleep 1000\n');
  const ns = startSvscan(procs, scan, logs, { cmd: 'unshare', args: ['--pid', '--fork', '--mount-proc', bin('svscan'), scan] });
  // pids in supervise/status are the namespace's: find the service by its cwd
  const realA = fs.realpathSync(a);
  const runA = (await waitFor(() => allProcs().find((p) => p.cwd === realA && p.argv.join(' ') === 'sleep 1000'), 'a up'))!.pid;
  const found = await waitFor(() => allProcs().find((p) => p.ppid === ns.pid), 'svscan, PID 1 of its namespace');
  const svscan = { pid: found!.pid };
  await waitFor(() => zombieChildren(svscan.pid).length === 0 && !fs.readdirSync('/proc').some((e) => {
    try {
      return fs.readFileSync(`/proc/${e}/cmdline`, 'latin1') === 'sleep\x000.1\x00';
    } catch {
      return false;
    }
  }), 'every orphan reaped', 10000);
  process.kill(svscan.pid, 'SIGINT');
  assert.equal((await exitOf(ns.child))?.code, 0);
  assert.equal(alive(runA), false, 'the service was brought down');
  assert.equal(supervisesIn(a).length, 0);
});

test('svscan: an unreadable directory is a warning at every scan, like the C svscan', async () => {
  const outputs: string[] = [];
  for (const cmd of [bin('svscan'), cbin('svscan')]) {
    const { scan, logs } = root();
    fs.chmodSync(path.dirname(scan), 0o711);
    fs.chmodSync(scan, 0o311); // nobody may enter it, not list it
    const tree = startSvscan(procs, scan, logs, { cmd: cbin('setuidgid'), args: ['nobody', cmd, scan] });
    await waitFor(() => tree.output().includes('\n'), `${cmd}: a warning`);
    assert.ok(alive(tree.pid), `${cmd} goes on`);
    process.kill(tree.pid, 'SIGKILL');
    await exitOf(tree.child);
    outputs.push(tree.output().split('\n')[0]);
  }
  assert.equal(outputs[0], outputs[1]);
  assert.equal(outputs[0], 'svscan: warning: unable to read directory: access denied');
});
