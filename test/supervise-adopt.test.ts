// Adoption (beyond daemontools 0.76): a supervisor that follows one killed
// with SIGKILL while ./run ran takes that ./run over instead of starting a
// second copy: supervise, and svscan --host with its log pipes.
//
// The first supervisor runs under a subreaper of ours (this file, run with
// DTN_SUBREAPER set: it starts the command given and reaps every orphan),
// so that the ./run processes it leaves behind have a parent that reaps
// them, as under svscanboot, and the test can check that no zombie is left.
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, alive, bin, cbin, run, waitFor, exitOf } from './helpers';
import { SLEEPER, makeService, statusPid, waitRecorded, waitUp, status } from './fixtures/service';
import { startSupervise } from './fixtures/supervised';
import { ProcInfo, allProcs, isSuperviseArgv, killUnder, pathFor, pipeFds, startSvscan, supervisesIn, treeRoot, zombieChildren } from './fixtures/tree';
import { setChildSubreaper } from '../lib/os/sys';
import { reapOrphans } from '../lib/os/child-exits';

const harness = process.env.DTN_SUBREAPER;
if (harness) {
  // the subreaper: runs the command, reaps every orphan, lives until killed
  setChildSubreaper();
  const argv = JSON.parse(harness) as string[];
  const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit' });
  reapOrphans((pid) => pid === child.pid, 100);
  setInterval(() => undefined, 1 << 30);
} else {
  tests();
}

function tests(): void {
  const procs = new Procs();
  const roots: string[] = [];
  after(async () => {
    await procs.cleanup();
    killUnder(roots);
  });

  function root(): string {
    return treeRoot(procs, roots, 'dtn-adopt-', []).dir;
  }

  function scanRoot(): { scan: string; logs: string } {
    return treeRoot(procs, roots, 'dtn-adopt-', ['scan', 'logs']);
  }

  /** Starts argv under a subreaper (its own process group, killed at cleanup); returns the subreaper's pid. */
  function underSubreaper(argv: string[], env: NodeJS.ProcessEnv = {}): number {
    const child = procs.start(process.execPath, [__filename], {
      detached: true,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, ...env, DTN_SUBREAPER: JSON.stringify(argv) },
    });
    assert.ok(child.pid);
    return child.pid;
  }

  function info(dir: string): { supervise: number; lastExit: Record<string, unknown> | null } | undefined {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, 'supervise', 'info'), 'latin1'));
    } catch {
      return undefined;
    }
  }

  /** The processes working in dir whose parent does not (a ./run, not its children), supervise aside. */
  function runsIn(dir: string): number[] {
    const real = fs.realpathSync(dir);
    const ps = allProcs();
    const byPid = new Map(ps.map((p) => [p.pid, p]));
    const ours = (p: ProcInfo | undefined): boolean => p !== undefined && p.cwd === real && !isSuperviseArgv(p.argv);
    return ps.filter((p) => ours(p) && !ours(byPid.get(p.ppid))).map((p) => p.pid);
  }

  function ppidOf(pid: number): number {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }

  /** Waits for dir's status to name a live ./run other than old; returns its pid. */
  function waitNew(dir: string, old: number, timeoutMs = 10000): Promise<number> {
    return waitFor(() => {
      const p = statusPid(dir);
      return p !== old && p !== 0 && alive(p) ? p : 0;
    }, `${dir}: a new ./run`, timeoutMs);
  }

  /**
   * A service under supervise under the subreaper, up, its ./run recorded:
   * a supervise killed now leaves it to be adopted.
   */
  async function recordedService(): Promise<{ dir: string; pid: number; reaper: number }> {
    const dir = makeService(path.join(root(), 'svc'), SLEEPER);
    const reaper = underSubreaper([bin('supervise'), dir]);
    const pid = await waitUp(dir);
    procs.adopt(pid);
    await waitRecorded(dir, pid);
    return { dir, pid, reaper };
  }

  function killHard(pid: number): Promise<unknown> {
    process.kill(pid, 'SIGKILL');
    return waitFor(() => !alive(pid), `pid ${pid} to die`);
  }

  test('supervise killed while ./run runs: the next supervise adopts it (status, svstat, svc -t, svc -d), no second copy, no zombie', async () => {
    const { dir, pid, reaper } = await recordedService();
    // the status comes first, supervise/info after it
    const first = (await waitFor(() => info(dir), 'supervise/info'))!.supervise;
    const started = status(dir)!.when;
    // old enough for svstat to show seconds of uptime
    await waitFor(() => Date.now() / 1000 - started.sec >= 2, 'two seconds of uptime');
    await killHard(first);
    assert.ok(alive(pid), './run outlives its supervise');
    // (the last of supervise's threads to exit hands it over)
    await waitFor(() => ppidOf(pid) === reaper, './run re-parented to the subreaper');

    const second = startSupervise(procs, dir);
    await waitFor(() => info(dir)?.supervise === second.child.pid, 'the new supervise to take over');
    const st = status(dir)!;
    assert.equal(st.pid, pid, 'the same ./run in the status');
    assert.ok(Math.abs(st.when.sec + st.when.nano / 1e9 - (started.sec + started.nano / 1e9)) < 1, 'its start time as the status time');
    assert.deepEqual(runsIn(dir), [pid], 'no second ./run');
    assert.equal((info(dir) as { adopted?: number }).adopted, pid, 'info names the adopted ./run');
    for (const svstat of [bin('svstat'), cbin('svstat')]) {
      const out = (await run(svstat, [dir])).stdout;
      const m = /^.*: up \(pid (\d+)\) (\d+) seconds\n$/.exec(out);
      assert.ok(m, `${svstat}: ${out}`);
      assert.equal(Number(m[1]), pid);
      assert.ok(Number(m[2]) >= 2, `${svstat} shows the original uptime: ${out}`);
    }

    execFileSync(bin('svc'), ['-t', dir]);
    const next = await waitNew(dir, pid);
    procs.adopt(next);
    assert.notEqual(next, pid);
    assert.ok(!alive(pid), 'the adopted one is gone');
    assert.deepEqual(runsIn(dir), [next], 'one ./run only');
    assert.equal(ppidOf(next), second.child.pid, 'a child of the new supervise');
    assert.deepEqual(info(dir)!.lastExit && { ...info(dir)!.lastExit, at: undefined }, { at: undefined, code: null, signal: null, adopted: true },
      'info says the exit code of the adopted ./run is unknown');
    await waitFor(() => zombieChildren(reaper).length === 0, 'the subreaper to reap the adopted ./run');
    await waitRecorded(dir, next);
    assert.equal((info(dir) as { adopted?: number }).adopted, undefined, 'nothing adopted any more');

    execFileSync(bin('svc'), ['-d', dir]);
    await waitFor(() => status(dir)?.pid === 0, 'down');
    assert.deepEqual(runsIn(dir), []);
    assert.ok(!fs.existsSync(path.join(dir, 'supervise', 'running')), 'no record once ./run exited');
  });

  test('supervise killed again: an adopted ./run is adopted once more, paused as it was; svc -dx brings it down, its exit seen through the pidfd', async () => {
    const { dir, pid } = await recordedService();
    let sup = info(dir)!.supervise;
    let last: ReturnType<typeof startSupervise> | undefined;
    for (let i = 0; i < 2; i++) {
      if (i === 1) {
        execFileSync(bin('svc'), ['-p', dir]);
        await waitFor(() => status(dir)?.paused && /^T/.test(fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]), 'paused');
      }
      await killHard(sup);
      last = startSupervise(procs, dir);
      await waitFor(() => info(dir)?.supervise === last!.child.pid, 'the new supervise to take over');
      assert.equal(statusPid(dir), pid);
      sup = last.child.pid!;
    }
    assert.equal(status(dir)!.paused, true, 'still paused');
    assert.match((await run(cbin('svstat'), [dir])).stdout, /: up \(pid \d+\) \d+ seconds, paused\n$/);
    execFileSync(bin('svc'), ['-c', dir]);
    await waitFor(() => !status(dir)?.paused && /^S/.test(fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]), 'continued');
    execFileSync(bin('svc'), ['-dx', dir]);
    assert.deepEqual(await exitOf(last!.child), { code: 0, signal: null }, 'supervise exits once the adopted ./run is down');
    assert.equal(status(dir)!.pid, 0);
    assert.ok(!alive(pid));
    assert.equal(info(dir)!.lastExit?.adopted, true);
    assert.equal(status(dir)!.want, 'down');
    assert.deepEqual(runsIn(dir), []);
  });

  test('the one-second rule counts from the start of the adopted ./run', async (t) => {
    const { dir, pid } = await recordedService();
    const started = status(dir)!.when;
    await killHard(info(dir)!.supervise);
    const next = startSupervise(procs, dir);
    await waitFor(() => info(dir)?.supervise === next.child.pid, 'the new supervise to take over');
    execFileSync(bin('svc'), ['-k', dir]);
    const age = Date.now() / 1000 - (started.sec + started.nano / 1e9);
    const again = await waitNew(dir, pid);
    procs.adopt(again);
    const when = status(dir)!.when;
    const gap = when.sec - started.sec + (when.nano - started.nano) / 1e9;
    assert.ok(gap >= 0.99, `a second between the two starts (${gap.toFixed(3)} s)`);
    t.diagnostic(`killed ${age.toFixed(3)} s after its start, started again ${gap.toFixed(3)} s after it`);
  });

  test('a record that names another process (same pid, other start time) or a dead one: ./run is started as usual', async () => {
    const dir = makeService(path.join(root(), 'svc'), SLEEPER);
    fs.mkdirSync(path.join(dir, 'supervise'), { mode: 0o700 });
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
    // this test process: alive, but not with that start time
    fs.writeFileSync(path.join(dir, 'supervise', 'running'), `${process.pid} 1 ${boot}\n`);
    const sup = startSupervise(procs, dir);
    const pid = await waitUp(dir);
    procs.adopt(pid);
    assert.notEqual(pid, process.pid);
    assert.equal(ppidOf(pid), sup.child.pid, 'a child of supervise');
    assert.deepEqual(runsIn(dir), [pid]);
    assert.equal(sup.stderr(), '');
  });

  // a counter that goes on from its last number after a restart, and stops
  // at TERM only between two lines: its log must hold 1, 2, 3, ... exactly
  const COUNTER = '#!/bin/sh\ni=$(cat count 2>/dev/null || echo 0)\nstop=\ntrap \'stop=1\' TERM\n' +
    'while [ -z "$stop" ]; do i=$((i+1)); echo "line $i"; echo $i > count; sleep 0.02; done\n';

  /** Every number logged in dir/log/main, old files first, in order. */
  function logged(svc: string): number[] {
    const main = path.join(svc, 'log', 'main');
    const files = fs.readdirSync(main).filter((f) => f.startsWith('@')).sort();
    files.push('current');
    const out: number[] = [];
    for (const f of files) {
      for (const line of fs.readFileSync(path.join(main, f), 'latin1').split('\n')) {
        const m = / line (\d+)$/.exec(line);
        if (m) out.push(Number(m[1]));
      }
    }
    return out;
  }

  function countOf(svc: string): number {
    try {
      return Number(fs.readFileSync(path.join(svc, 'count'), 'latin1')) || 0;
    } catch {
      return 0;
    }
  }

  test('svscan --host killed: a new host adopts every ./run (20 services, logs), takes the log pipes back; nothing lost, nothing doubled', async (t) => {
    const { scan, logs } = scanRoot();
    const N = 20;
    const withLog = new Set([0, 3, 7, 11, 15, 19]);
    const dirs: string[] = [];
    for (let i = 0; i < N; i++) {
      dirs.push(makeService(path.join(scan, `s${i}`), withLog.has(i) ? COUNTER : SLEEPER, { log: withLog.has(i) ? '#!/bin/sh\nexec multilog t ./main\n' : undefined }));
    }
    const logged_ = dirs.filter((_, i) => withLog.has(i));
    const all = [...dirs, ...logged_.map((d) => path.join(d, 'log'))];
    const reaper = underSubreaper([bin('svscan'), '--host', scan], { PATH: pathFor('ours') });
    const pids = new Map<string, number>();
    for (const d of all) pids.set(d, await waitUp(d, { what: d, timeoutMs: 20000 }));
    for (const d of all) await waitRecorded(d, pids.get(d)!);
    for (const d of logged_) await waitFor(() => logged(d).length >= 5, `lines logged for ${d}`);
    const host1 = info(dirs[0])!.supervise;
    const pipeOf = new Map(logged_.map((d) => [d, pipeFds(pids.get(path.join(d, 'log'))!).get(0)]));

    await killHard(host1);
    const t0 = performance.now();
    const tree = startSvscan(procs, scan, logs, { args: ['--host', scan] });
    await waitFor(() => all.every((d) => info(d)?.supervise === tree.pid), 'the new host to take every service over', 20000);
    const takeover = performance.now() - t0;
    for (const d of all) assert.equal(statusPid(d), pids.get(d), `${d}: the same ./run`);
    for (const d of dirs) assert.deepEqual(runsIn(d), [pids.get(d)], `${d}: no second ./run`);
    const held = new Set(pipeFds(tree.pid).values());
    for (const d of logged_) assert.ok(held.has(pipeOf.get(d)!), `${d}: the new host holds the very pipe`);
    // the first host's output aside, the new one has nothing to say (no lock failure, no multilog failure)
    assert.equal(tree.output(), '');

    // restarts of either side use that same pipe
    const before = new Map(logged_.map((d) => [d, countOf(d)]));
    execFileSync(bin('svc'), ['-t', ...dirs]);
    for (const d of dirs) pids.set(d, await waitNew(d, pids.get(d)!));
    execFileSync(bin('svc'), ['-t', ...logged_.map((d) => path.join(d, 'log'))]);
    for (const d of logged_) {
      const log = path.join(d, 'log');
      const p = await waitNew(log, pids.get(log)!);
      // (read once the exec from sh to multilog is over: /proc/PID/fd is not readable meanwhile)
      const fd0 = await waitFor(() => pipeFds(p).get(0), `${log}: stdin of the new log`);
      assert.equal(fd0, pipeOf.get(d), `${log}: the new log reads the same pipe`);
    }
    for (const d of dirs) assert.equal(runsIn(d).length, 1, `${d}: one ./run`);
    for (const d of logged_) await waitFor(() => countOf(d) >= before.get(d)! + 20, `${d}: lines after the restarts`);
    // the old ./run processes were re-parented to the subreaper and reaped
    await waitFor(() => zombieChildren(reaper).length === 0, 'no zombie left');

    process.kill(tree.pid, 'SIGTERM');
    await waitFor(() => tree.child.exitCode !== null, 'the host to stop the tree', 30000);
    for (const d of logged_) {
      const got = logged(d);
      const last = countOf(d);
      assert.ok(last > 0);
      const gap = got.findIndex((n, i) => n !== i + 1);
      assert.equal(gap, -1, `${d}: lines in order, none lost, none doubled (first wrong at ${gap}: ${got.slice(Math.max(0, gap - 2), gap + 3).join(',')})`);
      assert.equal(got.length, last, `${d}: every line written is logged`);
    }
    t.diagnostic(`a new host took over ${all.length} adopted services in ${takeover.toFixed(0)} ms (its own start included)`);
  });

  test('svscan (a supervise per service) killed: the new one takes the log pipe back; a supervise it starts later adopts ./run and writes into that pipe', async () => {
    const { scan, logs } = scanRoot();
    const m = makeService(path.join(scan, 'm'), COUNTER, { log: '#!/bin/sh\nexec multilog t ./main\n' });
    const log = path.join(m, 'log');
    underSubreaper([bin('svscan'), scan], { PATH: pathFor('ours') });
    const run1 = await waitUp(m);
    const logRun = await waitUp(log);
    await waitRecorded(m, run1);
    await waitRecorded(log, logRun);
    await waitFor(() => logged(m).length >= 5, 'lines logged');
    const pipe = pipeFds(logRun).get(0)!;
    const sup1 = supervisesIn(m)[0];
    await killHard(sup1.ppid); // the first svscan

    const tree = startSvscan(procs, scan, logs);
    await waitFor(() => new Set(pipeFds(tree.pid).values()).has(pipe), 'the new svscan to hold the very pipe');
    await killHard(sup1.pid);
    // started again at the next periodic scan (5 seconds)
    const sup2 = await waitFor(() => supervisesIn(m).find((p) => p.ppid === tree.pid)?.pid, 'a new supervise for m', 15000);
    await waitFor(() => info(m)?.supervise === sup2, 'the new supervise to take over');
    assert.equal(statusPid(m), run1, 'm adopted');
    assert.deepEqual(runsIn(m), [run1]);
    const before = countOf(m);
    execFileSync(bin('svc'), ['-t', m]);
    const run2 = await waitNew(m, run1);
    assert.equal(await waitFor(() => pipeFds(run2).get(1), 'stdout of the new ./run'), pipe, 'the new ./run writes into the same pipe');
    await waitFor(() => countOf(m) >= before + 20, 'lines after the restart');
    process.kill(tree.pid, 'SIGTERM');
    await waitFor(() => tree.child.exitCode !== null, 'svscan to stop the tree', 30000);
    await waitFor(() => !alive(logRun), 'the log to drain and stop', 10000);
    const got = logged(m);
    const gap = got.findIndex((n, i) => n !== i + 1);
    assert.equal(gap, -1, `lines in order, none lost, none doubled (first wrong at ${gap})`);
    assert.equal(got.length, countOf(m), 'every line written is logged');
  });

  test('svscanboot is a child subreaper: what a killed svscan --host leaves running is re-parented to it, adopted by a new host, and reaped', async () => {
    const { scan, logs } = scanRoot();
    const a = makeService(path.join(scan, 'a'), SLEEPER);
    const boot = procs.start(bin('svscanboot'), ['--host', scan], { detached: true });
    const run1 = await waitUp(a);
    await waitRecorded(a, run1);
    const host1 = info(a)!.supervise;
    assert.equal(ppidOf(host1), boot.pid, 'svscan is a child of svscanboot');
    await killHard(host1);
    await waitFor(() => ppidOf(run1) === boot.pid, './run re-parented to svscanboot');
    const tree = startSvscan(procs, scan, logs, { args: ['--host', scan] });
    await waitFor(() => info(a)?.supervise === tree.pid, 'the new host to take over');
    assert.equal(statusPid(a), run1);
    execFileSync(bin('svc'), ['-t', a]);
    await waitNew(a, run1);
    await waitFor(() => !fs.existsSync(`/proc/${run1}`), 'svscanboot to reap the old ./run');
    assert.deepEqual(zombieChildren(boot.pid!), []);
  });
}
