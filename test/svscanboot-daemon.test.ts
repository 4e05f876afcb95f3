// svscanboot --daemon [--pidfile FILE] [dir]: started from a shell on a
// terminal that then exits, the tree runs detached (its own session, no
// terminal, cwd /, stdio on /dev/null) with a locked pidfile; a second one
// is refused, a stale pidfile replaced, SIGTERM stops everything; as root
// and as nobody.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, alive, bin, cbin, run, waitFor, writeExecutable } from './helpers';
import { CATLOG, SLEEPER, makeService, okAnswers, statusPid, waitUp } from './fixtures/service';
import { allProcs, killUnder, startSvscan, treeRoot } from './fixtures/tree';
import { unsupervised } from '../lib/scan/tree-ready';

const procs = new Procs();
const roots: string[] = [];
/** The daemons' pids (each a session of its own), killed with everything in their session at the end. */
const daemons = new Set<number>();

interface StatFields {
  ppid: number;
  pgrp: number;
  session: number;
  tty: number;
}

/** Fields 4 to 7 of /proc/PID/stat; undefined for a process gone (or a zombie). */
function statOf(pid: number): StatFields | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z') return undefined;
    return { ppid: Number(rest[1]), pgrp: Number(rest[2]), session: Number(rest[3]), tty: Number(rest[4]) };
  } catch {
    return undefined;
  }
}

/** The live processes of session sid. */
function sessionMembers(sid: number): number[] {
  return fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((p) => statOf(p)?.session === sid);
}

function killSession(sid: number): void {
  for (const p of sessionMembers(sid)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

after(async () => {
  for (const d of daemons) killSession(d);
  killUnder(roots);
  await procs.cleanup();
});

function pidIn(file: string): number {
  const text = fs.readFileSync(file, 'latin1');
  assert.match(text, /^[1-9]\d*\n$/, `${file} holds a pid and a newline`);
  return Number(text);
}

/** Reads the pidfile the daemon wrote and records the daemon for cleanup. */
function daemonOf(file: string): number {
  const pid = pidIn(file);
  daemons.add(pid);
  return pid;
}

/**
 * Runs `svscanboot ARGS...` from a sh on a terminal of its own (script(1)),
 * which exits right after: the sh's terminal, and svscanboot's exit code.
 */
async function startFromTerminal(dir: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<{ callerTty: number; code: number; output: string }> {
  const script = path.join(dir, 'start.sh');
  writeExecutable(script, '#!/bin/sh\nread -r _ _ _ _ _ _ tty _ < /proc/$$/stat\necho "caller tty $tty"\n"$@"\necho "exit $?"\n');
  const words = [script, bin('svscanboot'), ...args];
  assert.ok(words.every((w) => /^[\w./=-]+$/.test(w)), 'words script(1) passes to sh as they are');
  const r = await run('script', ['-qec', words.join(' '), '/dev/null'], { env, timeoutMs: 30000 });
  const tty = /caller tty (\d+)/.exec(r.stdout);
  const code = /exit (\d+)/.exec(r.stdout);
  assert.ok(tty && code, `the script ran: ${JSON.stringify(r)}`);
  return { callerTty: Number(tty[1]), code: Number(code[1]), output: r.stdout };
}

async function stopAndCheck(pid: number, pidfile: string, services: readonly number[]): Promise<void> {
  const members = sessionMembers(pid);
  process.kill(pid, 'SIGTERM');
  await waitFor(() => !alive(pid), 'the daemon exited after SIGTERM', 30000);
  for (const p of [...members, ...services]) assert.equal(alive(p), false, `pid ${p} of the tree stopped`);
  assert.deepEqual(sessionMembers(pid), [], 'nothing left in its session');
  assert.equal(fs.existsSync(pidfile), false, 'the pidfile removed');
  daemons.delete(pid);
}

test('svscanboot --daemon: detached from the terminal of a shell that exits; tree up before it returns; a second one refused; SIGTERM stops it all', async () => {
  const t = treeRoot(procs, roots, 'dtn-bootd-', ['scan', 'run']);
  const svc = makeService(path.join(t.scan, 'a'), SLEEPER, { log: CATLOG });
  const pidfile = path.join(t.run, 'svscanboot.pid');

  const started = await startFromTerminal(t.dir, ['--daemon', '--pidfile', pidfile, t.scan], { ...process.env, DTN_CALLER_MARK: '1' });
  assert.notEqual(started.callerTty, 0, 'the caller had a controlling terminal');
  assert.equal(started.code, 0, started.output);
  const pid = daemonOf(pidfile);
  // exit 0 only once the tree runs: supervised at once, nothing to wait for
  assert.ok(okAnswers(svc) && okAnswers(path.join(svc, 'log')), 'the service and its log supervised when svscanboot returned');
  assert.deepEqual(fs.readdirSync(t.run), ['svscanboot.pid'], 'no temporary file left beside the pidfile');

  const st = statOf(pid);
  assert.ok(st, 'the daemon runs');
  assert.equal(st.session, pid, 'a session of its own');
  assert.equal(st.pgrp, pid, 'a process group of its own');
  assert.equal(st.tty, 0, 'no controlling terminal');
  assert.equal(fs.readFileSync(`/proc/${pid}/comm`, 'latin1'), 'svscanboot\n');
  assert.equal(fs.readlinkSync(`/proc/${pid}/cwd`), '/');
  for (const fd of [0, 1, 2]) assert.equal(fs.readlinkSync(`/proc/${pid}/fd/${fd}`), '/dev/null', `fd ${fd} on /dev/null`);
  assert.match(fs.readFileSync(`/proc/${pid}/status`, 'latin1'), /^Umask:\s+0022$/m);

  const runA = await waitUp(svc, { what: 'a' });
  const tree = allProcs().filter((p) => statOf(p.pid)?.session === pid);
  const svscan = tree.find((p) => p.argv[0] === 'svscan');
  assert.ok(svscan, 'svscan runs in the session');
  assert.equal(svscan.ppid, pid);
  assert.deepEqual(svscan.argv, ['svscan', t.scan]);
  assert.ok(tree.some((p) => p.argv[0] === 'readproctitle' && p.ppid === pid), 'readproctitle runs beside it');
  const env = fs.readFileSync(`/proc/${svscan.pid}/environ`, 'latin1');
  assert.equal(env.includes('DTN_CALLER_MARK'), false, 'the caller\'s environment does not reach the tree');
  assert.equal(statOf(runA)?.session, pid, 'the service runs in the daemon\'s session');

  // a second one: refused, and the running tree left alone
  const second = await run(bin('svscanboot'), ['--daemon', '--pidfile', pidfile, t.scan]);
  assert.equal(second.code, 111);
  assert.equal(second.stderr, `svscanboot: fatal: already running (pid ${pid})\n`);
  assert.equal(pidIn(pidfile), pid, 'the pidfile unchanged');
  assert.equal(statusPid(svc), runA, 'the service not restarted');
  assert.equal(alive(runA), true);

  await stopAndCheck(pid, pidfile, [runA]);
});

test('svscanboot --daemon: a stale pidfile replaced (its process gone, or a live one without the lock); --host passed on', async () => {
  const t = treeRoot(procs, roots, 'dtn-bootd-', ['scan', 'run']);
  const svc = makeService(path.join(t.scan, 'a'), SLEEPER);
  const pidfile = path.join(t.run, 'boot.pid');

  // a pid that is gone: a process started and waited for
  const gone = await run('sh', ['-c', 'echo $$']);
  const deadPid = Number(gone.stdout.trim());
  await waitFor(() => !alive(deadPid), 'the pid gone');
  fs.writeFileSync(pidfile, `${deadPid}\n`);
  const first = await run(bin('svscanboot'), ['--daemon', '--pidfile', pidfile, t.scan]);
  assert.equal(first.code, 0, first.stderr);
  const pid = daemonOf(pidfile);
  assert.notEqual(pid, deadPid);
  const runA = await waitUp(svc);
  await stopAndCheck(pid, pidfile, [runA]);

  // a live process that holds no lock on it (this test's own pid)
  fs.writeFileSync(pidfile, `${process.pid}\n`);
  const again = await run(bin('svscanboot'), ['--host', '--daemon', `--pidfile=${pidfile}`, t.scan]);
  assert.equal(again.code, 0, again.stderr);
  const pid2 = daemonOf(pidfile);
  assert.notEqual(pid2, process.pid);
  const svscan = allProcs().find((p) => p.ppid === pid2 && p.argv[0] === 'svscan');
  assert.deepEqual(svscan?.argv, ['svscan', '--host', t.scan]);
  const runA2 = await waitUp(svc);
  assert.equal(statOf(runA2)?.ppid, svscan?.pid, 'svscan --host runs the service itself');
  await stopAndCheck(pid2, pidfile, [runA2]);
});

test('svscanboot --daemon: two started at the same moment, one tree: the other exits 111 naming the first', async () => {
  const t = treeRoot(procs, roots, 'dtn-bootd-', ['scan', 'run']);
  const svc = makeService(path.join(t.scan, 'a'), SLEEPER);
  const pidfile = path.join(t.run, 'boot.pid');
  const both = await Promise.all([0, 1].map(() => run(bin('svscanboot'), ['--daemon', '--pidfile', pidfile, t.scan])));
  const won = both.filter((r) => r.code === 0);
  const lost = both.filter((r) => r.code !== 0);
  assert.equal(won.length, 1, JSON.stringify(both));
  const pid = daemonOf(pidfile);
  assert.equal(lost[0].code, 111);
  assert.equal(lost[0].stderr, `svscanboot: fatal: already running (pid ${pid})\n`);
  assert.equal(allProcs().filter((p) => p.argv[0] === 'svscan' && p.argv[1] === t.scan).length, 1, 'one svscan');
  const runA = await waitUp(svc);
  await stopAndCheck(pid, pidfile, [runA]);
});

test('svscanboot --daemon: a service no supervisor can take does not hold the caller for ever: exit 0 with a warning naming it', async () => {
  const t = treeRoot(procs, roots, 'dtn-bootd-', ['scan', 'run']);
  const a = makeService(path.join(t.scan, 'a'), SLEEPER);
  const b = makeService(path.join(t.scan, 'b'), SLEEPER);
  fs.writeFileSync(path.join(b, 'log'), 'a file, not a service\n'); // svscan starts `supervise log` in b, which cannot enter it
  const pidfile = path.join(t.run, 'boot.pid');
  const r = await run(bin('svscanboot'), ['--daemon', '--pidfile', pidfile, t.scan]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, 'svscanboot: warning: no supervisor answers yet for b/log\n');
  const pid = daemonOf(pidfile);
  assert.ok(okAnswers(a) && okAnswers(b), 'the others supervised');
  await stopAndCheck(pid, pidfile, [await waitUp(a), await waitUp(b)]);
});

test('svscanboot --daemon: SIGTERM before the tree runs: no svscan started, the pidfile removed, the caller exits 111 saying so', async () => {
  const t = treeRoot(procs, roots, 'dtn-bootd-', ['scan', 'run']);
  // a supervise left from a "previous boot" whose service ignores TERM: svscanboot waits for it (5 seconds at most)
  const a = makeService(path.join(t.scan, 'a'), "#!/bin/sh\ntrap '' TERM\nexec sleep 1000\n");
  procs.start(cbin('supervise'), [a], { detached: true });
  await waitUp(a, { procs });
  const pidfile = path.join(t.run, 'boot.pid');
  const caller = run(bin('svscanboot'), ['--daemon', '--pidfile', pidfile, t.scan]);
  const pid = await waitFor(() => (fs.existsSync(pidfile) ? daemonOf(pidfile) : 0), 'the pidfile');
  process.kill(pid, 'SIGTERM');
  const r = await caller;
  assert.equal(r.code, 111);
  assert.equal(r.stderr, 'svscanboot: fatal: stopped (SIGTERM) before the tree was running\n');
  await waitFor(() => !alive(pid), 'the daemon gone');
  assert.equal(fs.existsSync(pidfile), false, 'the pidfile removed');
  assert.equal(allProcs().some((p) => p.argv[0] === 'svscan' && p.argv[1] === t.scan), false, 'no svscan started');
  daemons.delete(pid);
});

test('svscanboot --daemon as an ordinary user: the default pidfile under $HOME, the tree runs as that user', async () => {
  const t = treeRoot(procs, roots, 'dtn-bootd-', ['scan', 'home']);
  const svc = makeService(path.join(t.scan, 'a'), SLEEPER);
  const NOBODY = 65534;
  const own = (p: string): void => {
    fs.chownSync(p, NOBODY, NOBODY);
    if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) own(path.join(p, e));
  };
  own(t.dir);
  const pidfile = path.join(t.home, '.local/state/daemontools-node/svscanboot.pid');
  const r = await run(bin('setuidgid'), ['nobody', bin('svscanboot'), '--daemon', t.scan], { env: { ...process.env, HOME: t.home } });
  assert.equal(r.code, 0, r.stderr);
  const pid = daemonOf(pidfile);
  const owner = fs.statSync(pidfile);
  assert.equal(owner.uid, NOBODY, 'the pidfile is the user\'s');
  assert.equal(owner.mode & 0o777, 0o644);
  assert.match(fs.readFileSync(`/proc/${pid}/status`, 'latin1'), new RegExp(`^Uid:\\s+${NOBODY}\\s`, 'm'));
  assert.equal(statOf(pid)?.session, pid);
  assert.ok(okAnswers(svc), 'supervised when svscanboot returned');
  const runA = await waitUp(svc);
  assert.match(fs.readFileSync(`/proc/${runA}/status`, 'latin1'), new RegExp(`^Uid:\\s+${NOBODY}\\s`, 'm'));

  const second = await run(bin('setuidgid'), ['nobody', bin('svscanboot'), '--daemon', t.scan], { env: { ...process.env, HOME: t.home } });
  assert.equal(second.code, 111);
  assert.equal(second.stderr, `svscanboot: fatal: already running (pid ${pid})\n`);
  await stopAndCheck(pid, pidfile, [runA]);
});

test('svscanboot --daemon: errors before anything starts (exit 111, nothing left), usage errors (exit 100)', async () => {
  const t = treeRoot(procs, roots, 'dtn-bootd-', ['run']);
  const pidfile = path.join(t.run, 'boot.pid');
  const missing = path.join(t.dir, 'nonexistent');
  const r = await run(bin('svscanboot'), ['--daemon', '--pidfile', pidfile, missing]);
  assert.equal(r.code, 111);
  assert.equal(r.stderr, `svscanboot: fatal: unable to chdir to ${missing}: file does not exist\n`);
  assert.deepEqual(fs.readdirSync(t.run), [], 'no pidfile written');
  await waitFor(() => !allProcs().some((p) => p.argv.includes(missing)), 'no daemon left');

  const noDir = await run(bin('svscanboot'), ['--daemon', '--pidfile', path.join(t.dir, 'no/such/dir/boot.pid'), t.run]);
  assert.equal(noDir.code, 111);
  assert.match(noDir.stderr, /^svscanboot: fatal: unable to write .*boot\.pid: file does not exist\n$/);

  for (const args of [['--pidfile'], ['--daemon', '--pidfile'], ['--daemon', '--pidfile='], ['--pidfile', pidfile, t.run], ['--bogus'], ['--daemon', t.run, t.run]]) {
    const u = await run(bin('svscanboot'), args);
    assert.equal(u.code, 100, `${args.join(' ')}: ${u.stderr}`);
    assert.match(u.stderr, /svscanboot: usage: svscanboot \[--host\] \[--daemon \[--pidfile FILE\]\] \[dir\]\n$/);
  }
  assert.deepEqual(fs.readdirSync(t.run), [], 'nothing written by a usage error');

  const help = await run(bin('svscanboot'), ['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--daemon/);
  assert.match(help.stdout, /--pidfile FILE/);
});

test('svscanboot --daemon on a directory another svscan already scans: refused (111) before svc -dx, that tree untouched', async () => {
  const t = treeRoot(procs, roots, 'dtn-bootd-', ['scan', 'run', 'logs']);
  const svc = makeService(path.join(t.scan, 'a'), SLEEPER);
  const other = startSvscan(procs, t.scan, t.logs);
  const runA = await waitUp(svc);
  const pidfile = path.join(t.run, 'boot.pid');
  const r = await run(bin('svscanboot'), ['--daemon', '--pidfile', pidfile, t.scan]);
  assert.equal(r.code, 111, r.stderr);
  assert.equal(r.stderr, `svscanboot: fatal: an svscan (pid ${other.pid}) already scans ${t.scan}\n`);
  assert.deepEqual(fs.readdirSync(t.run), [], 'its pidfile removed');
  assert.equal(statusPid(svc), runA, 'the service of the other tree still runs, not restarted');
  assert.ok(alive(runA) && alive(other.pid));
  assert.equal(allProcs().filter((p) => p.argv[0] === 'svscan' && p.cwd === fs.realpathSync(t.scan)).length, 1, 'no second svscan');
});

test('the readiness wait of --daemon sees a service whose name is not UTF-8, and its supervisor once one answers', async () => {
  const t = treeRoot(procs, roots, 'dtn-bootd-', ['scan']);
  const name = Buffer.from('x\xff\xfey', 'latin1');
  const svc = Buffer.concat([Buffer.from(`${t.scan}/`), name]);
  fs.mkdirSync(Buffer.concat([svc, Buffer.from('/supervise')]), { recursive: true });
  fs.mkdirSync(path.join(t.scan, 'plain'));
  assert.deepEqual(unsupervised(t.scan), ['plain', 'x\xff\xfey']);
  // a supervisor answers: supervise/ok is a FIFO with a reader
  const ok = Buffer.concat([svc, Buffer.from('/supervise/ok')]);
  // spawn's arguments are strings (UTF-8): the bytes of the name come from printf
  const made = await run('sh', ['-c', `mkfifo "$1/$(printf 'x\\377\\376y')/supervise/ok"`, 'sh', t.scan]);
  assert.equal(made.code, 0, made.stderr);
  assert.equal(fs.statSync(ok).isFIFO(), true, 'the FIFO under the name of bytes');
  const reader = fs.openSync(ok, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    assert.deepEqual(unsupervised(t.scan), ['plain']);
  } finally {
    fs.closeSync(reader);
  }
});
