// svscan --host: every service supervised inside svscan, through the same
// supervise/ files, so that the C svc, svstat and svok (and ours) cannot
// tell; no supervise process; the log pipe; svc -x; a directory another
// supervise holds; faults of one service kept to it; 200 services.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, alive, bin, cbin, run, waitFor, exitOf } from './helpers';
import { COUNTER, SLEEPER, makeService, statusPid, waitRecorded, waitUp, waitDown } from './fixtures/service';
import { allProcs, killUnder, pathFor, startSvscan, superviseChildren, treeRoot } from './fixtures/tree';

const procs = new Procs();
const roots: string[] = [];
after(async () => {
  await procs.cleanup();
  killUnder(roots);
});

function root(): { scan: string; logs: string } {
  return treeRoot(procs, roots, 'dtn-host-', ['scan', 'logs']);
}

function host(scan: string, logs: string, env: NodeJS.ProcessEnv = {}): ReturnType<typeof startSvscan> {
  return startSvscan(procs, scan, logs, { args: ['--host', scan], env });
}

/** The C svstat line of dir with the seconds and pid masked. */
async function cSvstat(dir: string): Promise<string> {
  const r = await run(cbin('svstat'), [dir]);
  return r.stdout.replace(/\(pid \d+\)/, '(pid P)').replace(/ \d+ seconds/, ' S seconds');
}

function cSvc(opts: string, ...dirs: string[]): void {
  execFileSync(cbin('svc'), [opts, ...dirs]);
}

async function stopTree(tree: ReturnType<typeof startSvscan>): Promise<void> {
  process.kill(tree.pid, 'SIGTERM');
  assert.equal((await exitOf(tree.child))?.code, 0, 'the host stops the tree and exits 0');
}

test('svscan --host: services and their logs run as children of svscan, no supervise process, the same supervise/ files', async () => {
  const { scan, logs } = root();
  const a = makeService(path.join(scan, 'a'), SLEEPER);
  const b = makeService(path.join(scan, 'b'), COUNTER, { log: '#!/bin/sh\nexec multilog t ./main\n' });
  const tree = host(scan, logs);
  const pa = await waitUp(a);
  const pb = await waitUp(b);
  const pl = await waitUp(path.join(b, 'log'));
  for (const pid of [pa, pb, pl]) assert.equal(allProcs().find((p) => p.pid === pid)?.ppid, tree.pid, 'a child of the host');
  assert.deepEqual(superviseChildren(tree.pid), [], 'no supervise process');
  for (const d of [a, b, path.join(b, 'log')]) {
    const sup = path.join(d, 'supervise');
    assert.equal(fs.statSync(sup).mode & 0o777, 0o700);
    for (const f of ['control', 'ok']) {
      const st = fs.statSync(path.join(sup, f));
      assert.ok(st.isFIFO(), `${f} is a FIFO`);
      assert.equal(st.mode & 0o777, 0o600, `${f} is 0600`);
    }
    assert.equal(fs.statSync(path.join(sup, 'status')).size, 18);
    assert.equal((await run(cbin('svok'), [d])).code, 0, `the C svok sees ${d} supervised`);
    // the lock is held: a C supervise cannot take the directory
    const r = await run(cbin('supervise'), [d], { timeoutMs: 5000 });
    assert.equal(r.code, 111);
    assert.match(r.stderr, /unable to acquire .*supervise\/lock: temporary failure/);
  }
  // the counter's lines reach its log through the pipe
  const current = path.join(b, 'log', 'main', 'current');
  await waitFor(() => fs.existsSync(current) && /line 5\n/.test(fs.readFileSync(current, 'latin1')), 'lines logged');
  await stopTree(tree);
  assert.equal(fs.statSync(current).mode & 0o777, 0o744, 'the log finished its current when the tree stopped');
  for (const pid of [pa, pb, pl]) assert.ok(!alive(pid), 'every service stopped');
});

test('svscan --host: every letter of the C svc acts as under supervise, and the C svstat shows the same lines', async () => {
  const { scan, logs } = root();
  const hosted = makeService(path.join(scan, 'hosted'), SLEEPER);
  // the same service under the C supervise, outside the scanned directory
  const alone = makeService(path.join(path.dirname(scan), 'alone'), SLEEPER);
  const tree = host(scan, logs);
  const sup = procs.start(cbin('supervise'), [alone]);
  await waitUp(hosted);
  await waitUp(alone);
  const steps: Array<[string, (d: string) => Promise<unknown>]> = [
    ['-d', waitDown],
    ['-u', (d) => waitUp(d)],
    ['-p', async () => undefined],
    ['-c', async () => undefined],
    ['-o', async () => undefined],
    ['-t', async (d) => waitFor(() => statusPid(d) === 0, 'the once service to end')],
    ['-u', (d) => waitUp(d)],
    ['-k', async () => undefined],
    ['-d', waitDown],
    ['-pu', (d) => waitUp(d)],
  ];
  for (const [opts, settle] of steps) {
    for (const d of [hosted, alone]) {
      const before = statusPid(d);
      cSvc(opts, d);
      await settle(d);
      if (opts === '-k') await waitFor(() => statusPid(d) !== before && statusPid(d) !== 0, 'a restart after KILL');
    }
    // paused or running states settle at once; allow the status write to land
    let lines: string[] = [];
    await waitFor(async () => {
      lines = [(await cSvstat(hosted)).replace(hosted, 'X'), (await cSvstat(alone)).replace(alone, 'X')];
      return lines[0] === lines[1];
    }, `the same svstat line after svc ${opts}`, 5000).catch((e: Error) => assert.fail(`${e.message}: ${lines.join(' / ')}`));
  }
  cSvc('-dx', alone);
  assert.equal((await exitOf(sup))?.code, 0);
  await stopTree(tree);
});

test('svscan --host: svc -x ends that service\'s supervisor only; the next scan takes the directory again', async () => {
  const { scan, logs } = root();
  const a = makeService(path.join(scan, 'a'), SLEEPER);
  const b = makeService(path.join(scan, 'b'), SLEEPER);
  const tree = host(scan, logs);
  await waitUp(a);
  const pb = await waitUp(b);
  execFileSync(bin('svc'), ['-dx', a]);
  await waitFor(async () => (await run(bin('svok'), [a])).code === 100, 'the supervisor of a to end');
  assert.ok(alive(tree.pid), 'the host goes on');
  assert.equal(statusPid(b), pb, 'b is untouched');
  // as svscan starts an exited supervise again at its next scan (5 seconds)
  await waitUp(a, { what: 'a again', timeoutMs: 12000 });
  await stopTree(tree);
});

test('svscan --host: a directory another supervise holds is left to it, with one warning at most', async () => {
  const { scan, logs } = root();
  const a = makeService(path.join(scan, 'a'), SLEEPER);
  const b = makeService(path.join(scan, 'b'), SLEEPER);
  const sup = procs.start(cbin('supervise'), [a]);
  const pa = await waitUp(a);
  const tree = host(scan, logs);
  await waitUp(b);
  // two periodic scans
  await new Promise((r) => setTimeout(r, 11000));
  assert.equal(statusPid(a), pa, 'the C supervise keeps its service');
  assert.ok(alive(sup.pid!), 'and runs on');
  assert.ok((tree.output().match(/a\/supervise\/lock/g) ?? []).length <= 1, `no warning at every scan: ${tree.output()}`);
  cSvc('-dx', a);
  await exitOf(sup);
  // once it is gone, the host takes the directory at its next scan
  await waitFor(() => statusPid(a) !== 0 && statusPid(a) !== pa, 'the host to take a over', 12000);
  await stopTree(tree);
});

test('svscan --host: a service with an unwritable status, in a crash loop or flooding its log does not disturb the others', async () => {
  const { scan, logs } = root();
  const bad = makeService(path.join(scan, 'bad'), SLEEPER);
  const crash = makeService(path.join(scan, 'crash'), '#!/bin/sh\nexit 1\n');
  const flood = makeService(path.join(scan, 'flood'), '#!/bin/sh\nexec yes flooding\n', { log: '#!/bin/sh\nexec cat > /dev/null\n' });
  const good = makeService(path.join(scan, 'good'), SLEEPER);
  // status.new a directory: every status write of `bad` fails
  fs.mkdirSync(path.join(bad, 'supervise', 'status.new'), { recursive: true, mode: 0o700 });
  const tree = host(scan, logs);
  const pg = await waitUp(good);
  await waitFor(() => /unable to open bad\/supervise\/status.new: is a directory/.test(tree.output()), 'the warning about bad');
  await waitFor(() => /"starts":[2-9]/.test(fs.readFileSync(path.join(crash, 'supervise', 'info'), 'latin1')), 'the crash loop');
  await waitUp(flood);
  for (let i = 0; i < 5; i++) {
    execFileSync(bin('svc'), ['-d', good]);
    await waitDown(good);
    execFileSync(bin('svc'), ['-u', good]);
    await waitUp(good);
  }
  assert.notEqual(statusPid(good), pg);
  // bad's service runs although its status cannot be written, and obeys svc
  const badPid = allProcs().find((p) => p.ppid === tree.pid && p.cwd === fs.realpathSync(bad))?.pid;
  assert.ok(badPid, 'bad runs');
  execFileSync(bin('svc'), ['-d', bad]);
  await waitFor(() => !alive(badPid), 'bad to stop on svc -d');
  assert.ok(alive(tree.pid), 'the host runs on');
  execFileSync(bin('svc'), ['-d', flood]);
  await waitDown(flood);
  await stopTree(tree);
});

test('svscan --host: ./run gets what it gets from supervise: descriptors, no signal ignored or blocked, the caller\'s limits, its directory, its environment', async () => {
  const REPORT = '#!/bin/sh\n' +
    'ls /proc/self/fd > fds\n' +
    'grep -E "^Sig(Ign|Blk)" /proc/self/status > sigs\n' +
    'ulimit -Sn > nofile\n' +
    'pwd > cwd\n' +
    'env | sort > env\n' +
    'exec sleep 1000\n';
  const reports: Record<string, string>[] = [];
  for (const mode of [['--host'], []]) {
    const { scan, logs } = root();
    const a = makeService(path.join(scan, 'a'), REPORT);
    const file = path.join(logs, 'out');
    const fd = fs.openSync(file, 'w');
    const tree = procs.start('sh', ['-c', `ulimit -Sn 1024; exec ${bin('svscan')} ${mode.join(' ')} ${scan}`], {
      detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, PATH: pathFor('ours') },
    });
    fs.closeSync(fd);
    await waitUp(a);
    await waitFor(() => fs.existsSync(path.join(a, 'env')) && fs.readFileSync(path.join(a, 'env'), 'utf8').length > 0, 'the report');
    const report: Record<string, string> = {};
    for (const f of ['fds', 'sigs', 'nofile', 'cwd', 'env']) report[f] = fs.readFileSync(path.join(a, f), 'utf8').replaceAll(fs.realpathSync(a), 'DIR');
    reports.push(report);
    process.kill(tree.pid!, 'SIGTERM');
    assert.equal((await exitOf(tree))?.code, 0);
  }
  const [hosted, supervised] = reports;
  assert.deepEqual(hosted, supervised, 'the same as under a supervise process');
  // 0-2, ls's own handle, and whatever svscan's caller passed on (as through the C tools)
  for (const fd of ['0', '1', '2', '3']) assert.ok(hosted.fds.split('\n').includes(fd), `fd ${fd}: ${hosted.fds}`);
  assert.equal(hosted.sigs, 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
  assert.equal(hosted.nofile.trim(), '1024');
  assert.equal(hosted.cwd.trim(), 'DIR');
});

test('svscan --host: 200 services come up, obey svc, and go down with the tree', async () => {
  const { scan, logs } = root();
  const dirs: string[] = [];
  for (let i = 0; i < 200; i++) dirs.push(makeService(path.join(scan, `s${String(i).padStart(3, '0')}`), SLEEPER));
  const tree = host(scan, logs);
  await waitFor(() => dirs.every((d) => statusPid(d) !== 0), 'all 200 up', 30000);
  assert.deepEqual(superviseChildren(tree.pid), []);
  assert.equal(allProcs().filter((p) => p.ppid === tree.pid).length, 200, '200 children: the services');
  execFileSync(bin('svc'), ['-d', ...dirs]);
  await waitFor(() => dirs.every((d) => statusPid(d) === 0), 'all 200 down', 30000);
  cSvc('-u', ...dirs);
  await waitFor(() => dirs.every((d) => statusPid(d) !== 0), 'all 200 up again', 30000);
  const lines = (await run(cbin('svstat'), dirs)).stdout.trim().split('\n');
  assert.equal(lines.filter((l) => / up \(pid \d+\) \d+ seconds$/.test(l)).length, 200, 'the C svstat: 200 up');
  await stopTree(tree);
});

test('svscanboot --host passes the mode on to svscan', async () => {
  const { scan } = root();
  const a = makeService(path.join(scan, 'a'), SLEEPER);
  const boot = procs.start(bin('svscanboot'), ['--host', scan], { detached: true });
  await waitUp(a);
  const svscan = await waitFor(() => allProcs().find((p) => p.ppid === boot.pid && p.argv.includes('--host')), 'svscan --host');
  assert.ok(svscan);
  assert.deepEqual(superviseChildren(svscan.pid), []);
  assert.equal(allProcs().find((p) => p.pid === statusPid(a))?.ppid, svscan.pid);
  process.kill(boot.pid!, 'SIGTERM');
  await exitOf(boot);
});

test('svscan (both modes) under nohup survives SIGHUP, as the C one, and its services get HUP ignored too', async () => {
  for (const mode of [['--host'], []]) {
    const { scan, logs } = root();
    const a = makeService(path.join(scan, 'a'), '#!/bin/sh\ngrep SigIgn /proc/self/status > sigign\nexec sleep 1000\n');
    const file = path.join(logs, 'out');
    const fd = fs.openSync(file, 'w');
    const tree = procs.start('nohup', [bin('svscan'), ...mode, scan], {
      detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, PATH: pathFor('ours') },
    });
    fs.closeSync(fd);
    await waitUp(a);
    const sigign = await waitFor(() => fs.readFileSync(path.join(a, 'sigign'), 'utf8'), 'the service\'s SigIgn');
    // bit 0: SIGHUP
    assert.equal(BigInt(`0x${sigign.split('\t')[1].trim()}`) & 1n, 1n, `HUP ignored by ./run (${mode.join(' ')})`);
    process.kill(tree.pid!, 'SIGHUP');
    // the HUP has been handled once svscan still answers a later signal: SIGTERM stops the tree and exits 0
    await new Promise((r) => setImmediate(r));
    assert.ok(alive(tree.pid!), `svscan ${mode.join(' ')} survives HUP`);
    process.kill(tree.pid!, 'SIGTERM');
    assert.equal((await exitOf(tree))?.code, 0, 'then stops the tree on SIGTERM (signals are delivered in order)');
  }
});

test('svscan --host: a supervise/ removed or a control FIFO deleted under one service leaves the host and the others working', async () => {
  const { scan, logs } = root();
  const gone = makeService(path.join(scan, 'gone'), SLEEPER);
  const nofifo = makeService(path.join(scan, 'nofifo'), SLEEPER);
  const good = makeService(path.join(scan, 'good'), SLEEPER);
  const tree = host(scan, logs);
  const pGone = await waitUp(gone);
  await waitUp(nofifo);
  await waitUp(good);
  // the last file the host writes there on its own, a moment after the start
  await waitRecorded(gone, pGone);
  fs.rmSync(path.join(gone, 'supervise'), { recursive: true, force: true });
  fs.unlinkSync(path.join(nofifo, 'supervise', 'control'));
  // gone's ./run is killed: its supervisor cannot write a status any more, and says so, and restarts it
  process.kill(pGone, 'SIGKILL');
  await waitFor(() => /unable to open gone\/supervise\/status.new: file does not exist/.test(tree.output()), 'the warning about gone');
  for (let i = 0; i < 3; i++) {
    execFileSync(bin('svc'), ['-d', good]);
    await waitDown(good);
    execFileSync(bin('svc'), ['-u', good]);
    await waitUp(good);
  }
  const r = await run(cbin('svc'), ['-d', nofifo]);
  assert.match(r.stderr, /unable to control .*nofifo: file does not exist/, 'no control FIFO: svc says so, as with the C supervise');
  assert.ok(alive(tree.pid), 'the host runs on');
  // the host tells its own supervisors to stop without their FIFOs: nothing is left for the grace time
  await stopTree(tree);
  assert.doesNotMatch(tree.output(), /still running/);
});
