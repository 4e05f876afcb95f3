// svscan and service names that are not UTF-8: the C svscan takes any
// bytes, and so must ours, in both modes (a supervise process per service,
// and --host): the service and its log run with the pipe between them, the
// supervise files are there for the C svstat and svc, supervise gets the
// name's bytes as its argument, the warnings print the bytes, and renaming,
// removing and bringing the name back behave as for any other name. The C
// svscan on an identical tree is the oracle.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, cbin, exitOf, run, waitFor } from './helpers';
import { SLEEPER, okAnswers, statusPid, waitUp } from './fixtures/service';
import { allProcs, killUnder, pathFor, startSvscan, superviseChildren, treeRoot, Tree } from './fixtures/tree';

const procs = new Procs();
const roots: string[] = [];
after(async () => {
  await procs.cleanup();
  killUnder(roots);
});

type Side = 'c' | 'ours' | 'host';
const SIDES: readonly Side[] = ['c', 'ours', 'host'];

/** A byte string (latin1) as a path: the bytes themselves. */
function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

function under(dir: string, name: string): Buffer {
  return Buffer.concat([bytes(dir), bytes('/'), bytes(name)]);
}

const NAME = 'bad\xffname';
const RUN = '#!/bin/sh\necho hi\nexec sleep 1000\n';
const LOG = '#!/bin/sh\nexec cat >> out\n';

/** A service directory at the byte path dir, with ./run and, when given, log/run. */
function makeRawService(dir: Buffer, runText: string | undefined, logText?: string): void {
  fs.mkdirSync(dir, { recursive: true });
  if (runText !== undefined) fs.writeFileSync(Buffer.concat([dir, bytes('/run')]), runText, { mode: 0o755 });
  if (logText === undefined) return;
  fs.mkdirSync(Buffer.concat([dir, bytes('/log')]));
  fs.writeFileSync(Buffer.concat([dir, bytes('/log/run')]), logText, { mode: 0o755 });
}

function root(): { dir: string; scan: string; logs: string; outside: string } {
  return treeRoot(procs, roots, 'dtn-names-', ['scan', 'logs', 'outside']);
}

/** A UTF-8 path to the directory at the byte path target (a symlink `name` in dir), for the fixtures and the C tools. */
function alias(dir: string, name: string, target: Buffer): string {
  const link = path.join(dir, name);
  fs.rmSync(link, { force: true });
  fs.symlinkSync(target, link);
  return link;
}

function start(side: Side, scan: string, logs: string, PATH?: string): Tree {
  if (side === 'c') return startSvscan(procs, scan, logs, { cmd: cbin('svscan'), PATH: PATH ?? pathFor('c') });
  return startSvscan(procs, scan, logs, { args: side === 'host' ? ['--host', scan] : [scan], PATH });
}

/** The raw /proc/PID/cmdline of the supervise of the service itself (not `supervise log`) once it shows `supervise NAME`. */
function mainSuperviseCmdline(tree: Tree): Buffer | undefined {
  for (const sup of superviseChildren(tree.pid)) {
    const cmdline = fs.readFileSync(`/proc/${sup.pid}/cmdline`);
    if (cmdline.subarray(0, 10).equals(bytes('supervise\0')) && !cmdline.equals(bytes('supervise\0log\0'))) return cmdline;
  }
  return undefined;
}

/** The pids of the `sleep 1000` processes whose working directory is the directory dir (by identity). */
function runsIn(dir: string): number[] {
  const id = fs.statSync(dir);
  return allProcs().filter((p) => p.argv.join(' ') === 'sleep 1000').filter((p) => {
    try {
      const cwd = fs.statSync(`/proc/${p.pid}/cwd`);
      return cwd.dev === id.dev && cwd.ino === id.ino;
    } catch {
      return false;
    }
  }).map((p) => p.pid);
}

function logText(svc: string): string {
  try {
    return fs.readFileSync(path.join(svc, 'log', 'out'), 'latin1');
  } catch {
    return '';
  }
}

/** Ends a tree: ours (both modes) on SIGTERM brings every service down; the C svscan is killed and its services told svc -dx. */
async function stopTree(side: Side, tree: Tree, dirs: string[]): Promise<void> {
  process.kill(tree.pid, side === 'c' ? 'SIGKILL' : 'SIGTERM');
  const end = await exitOf(tree.child);
  if (side !== 'c') assert.equal(end?.code, 0, `${side}: svscan stops the tree and exits 0`);
  if (side !== 'c') return;
  await run(cbin('svc'), ['-dx', ...dirs]);
  await waitFor(() => dirs.every((d) => !okAnswers(d)), 'the C supervise processes gone');
}

test('a service whose name is not UTF-8 runs with its log, in both modes as under the C svscan', async () => {
  const cmdlines = new Map<Side, Buffer | undefined>();
  for (const side of SIDES) {
    const { dir, scan, logs } = root();
    const raw = under(scan, NAME);
    makeRawService(raw, RUN, LOG);
    const svc = alias(dir, 'alias', raw);
    const log = path.join(svc, 'log');
    const tree = start(side, scan, logs);
    const pid = await waitUp(svc, { what: `${side}: the service` });
    await waitUp(log, { what: `${side}: its log` });
    await waitFor(() => logText(svc) === 'hi\n', `${side}: the service's line in its log`);
    for (const d of [svc, log]) {
      for (const f of ['lock', 'control', 'ok', 'status']) assert.ok(fs.existsSync(path.join(d, 'supervise', f)), `${side}: ${d}/supervise/${f}`);
    }
    const st = await run(cbin('svstat'), [svc, log]);
    const esc = (p: string): string => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.match(st.stdout, new RegExp(`^${esc(svc)}: up \\(pid ${pid}\\) \\d+ seconds\\n${esc(log)}: up \\(pid \\d+\\) \\d+ seconds\\n$`), `${side}: the C svstat`);
    assert.equal((await run(cbin('svc'), ['-t', svc])).code, 0);
    await waitUp(svc, { not: pid, what: `${side}: the service restarted after svc -t` });
    await waitFor(() => logText(svc) === 'hi\nhi\n', `${side}: the restarted service's line through the same pipe`);
    if (side === 'host') assert.deepEqual(superviseChildren(tree.pid), [], 'host: no supervise process');
    else cmdlines.set(side, await waitFor(() => mainSuperviseCmdline(tree), `${side}: the service's supervise`));
    assert.equal(tree.output(), '', `${side}: no warnings`);
    await stopTree(side, tree, [svc, log]);
  }
  assert.deepEqual(cmdlines.get('c'), bytes(`supervise\0${NAME}\0`), 'the C svscan passes the name\'s bytes');
  assert.deepEqual(cmdlines.get('ours'), cmdlines.get('c'), 'ours passes the same bytes');
});

test('warnings that name such a service print its bytes, as the C svscan and supervise do', async () => {
  const broken = new Map<Side, string>();
  const noSupervise = new Map<Side, string>();
  for (const side of SIDES) {
    const { scan, logs } = root();
    makeRawService(under(scan, 'nor\xfeun'), undefined);
    makeRawService(under(scan, 'nox\xfdec'), SLEEPER);
    fs.chmodSync(under(scan, 'nox\xfdec/run'), 0o644);
    fs.symlinkSync('/nonexistent-dtn', under(scan, 'dang\xfcling'));
    const tree = start(side, scan, logs);
    const want = ['nor\xfeun/run: file does not exist', 'nox\xfdec/run: access denied', 'dang\xfcling: file does not exist'];
    await waitFor(() => want.every((w) => tree.output().includes(w)), `${side}: the warnings`, 15000);
    broken.set(side, [...new Set(tree.output().split('\n').filter(Boolean))].sort().join('\n'));
    process.kill(tree.pid, 'SIGKILL');
    await exitOf(tree.child);
    if (side === 'host') continue;
    // no supervise in PATH: svscan's own warning
    const again = root();
    makeRawService(under(again.scan, NAME), SLEEPER, LOG);
    const t2 = start(side, again.scan, again.logs, '/nonexistent-dtn-bin');
    await waitFor(() => t2.output().includes(`supervise ${NAME}/log:`), `${side}: unable to start supervise`, 15000);
    noSupervise.set(side, [...new Set(t2.output().split('\n').filter(Boolean))].sort().join('\n'));
    process.kill(t2.pid, 'SIGKILL');
    await exitOf(t2.child);
  }
  assert.equal(broken.get('c'), [
    'supervise: fatal: unable to start nor\xfeun/run: file does not exist',
    'supervise: fatal: unable to start nox\xfdec/run: access denied',
    'svscan: warning: unable to stat dang\xfcling: file does not exist',
  ].join('\n'));
  assert.equal(broken.get('ours'), broken.get('c'));
  assert.equal(broken.get('host'), broken.get('c'));
  assert.equal(noSupervise.get('c'), [
    `svscan: warning: unable to start supervise ${NAME}/log: file does not exist`,
    `svscan: warning: unable to start supervise ${NAME}: file does not exist`,
  ].join('\n'));
  assert.equal(noSupervise.get('ours'), noSupervise.get('c'));
});

test('such a service renamed, removed and brought back: as any other name, in both modes as under the C svscan', async () => {
  for (const side of SIDES) {
    const { dir, scan, logs, outside } = root();
    const raw = under(scan, NAME);
    makeRawService(raw, RUN, LOG);
    let svc = alias(dir, 'alias', raw);
    const tree = start(side, scan, logs);
    const pid = await waitUp(svc, { what: `${side}: the service` });
    await waitUp(path.join(svc, 'log'), { what: `${side}: its log` });
    // a service added after a change is started by a scan that has seen the change
    let probes = 0;
    const scanned = async (): Promise<void> => {
      const probe = path.join(scan, `probe${++probes}`);
      fs.mkdirSync(probe);
      fs.writeFileSync(path.join(probe, 'run'), SLEEPER, { mode: 0o755 });
      await waitUp(probe, { what: `${side}: a scan after the change`, timeoutMs: 15000 });
    };

    // renamed: the same service, nothing started twice
    const renamed = under(scan, 'bad\xfename');
    fs.renameSync(raw, renamed);
    svc = alias(dir, 'alias', renamed);
    await scanned();
    assert.equal(statusPid(svc), pid, `${side}: the renamed service keeps its ./run`);
    assert.deepEqual(runsIn(svc), [pid], `${side}: one ./run for the renamed service`);

    // removed, then told to exit: not started again
    const moved = under(outside, NAME);
    fs.renameSync(renamed, moved);
    svc = alias(dir, 'alias', moved);
    await run(cbin('svc'), ['-dx', svc, path.join(svc, 'log')]);
    await waitFor(() => !okAnswers(svc) && !okAnswers(path.join(svc, 'log')), `${side}: the removed service's supervisors gone`);
    await scanned();
    assert.equal(okAnswers(svc), false, `${side}: a removed service is not started again`);
    assert.deepEqual(runsIn(svc), []);

    // back under its name: started again, its log too
    fs.renameSync(moved, raw);
    svc = alias(dir, 'alias', raw);
    await waitUp(svc, { not: pid, what: `${side}: the service back`, timeoutMs: 15000 });
    await waitUp(path.join(svc, 'log'), { what: `${side}: its log back`, timeoutMs: 15000 });
    await waitFor(() => logText(svc) === 'hi\nhi\n', `${side}: the line of the service back in its log`);
    assert.equal(tree.output(), '', `${side}: no warnings`);
    const probeDirs = Array.from({ length: probes }, (_, i) => path.join(scan, `probe${i + 1}`));
    await stopTree(side, tree, [svc, path.join(svc, 'log'), ...probeDirs]);
  }
});
