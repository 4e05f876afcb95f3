// svscanboot [dir]: starts the service tree at boot. Stops the supervise
// processes a previous boot left (svc -dx dir/* dir/*/log), then runs
// `svscan dir 2>&1 | readproctitle service errors: .....`, everything with a
// fixed PATH and stdio on /dev/null. No shell ever sees a file name.
// svscanboot --daemon [--pidfile FILE] [dir] (beyond the C one): the same
// tree, started from a caller that returns once it runs (a crontab @reboot
// line, a container without an init): lib/os/daemonize.ts detaches it,
// lib/os/pidfile.ts keeps one per pidfile.
import { ignoreForOurselves } from '../lib/exec/pass-on';
import { spawn, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { answerHelp } from '../lib/os/help';
import { captureLimits, spawnWithLimits } from '../lib/exec/limits';
import { isSupervised } from '../lib/control/service';
import { reapOrphans } from '../lib/os/child-exits';
import { DaemonReport, daemonReport, detach, notDetached } from '../lib/os/daemonize';
import { Diag, reason, writeStderr } from '../lib/os/errors';
import { AlreadyRunning, HeldPidfile, holdPidfile } from '../lib/os/pidfile';
import * as sys from '../lib/os/sys';
import { showAs } from '../lib/os/proctitle';
import { rawArgs } from '../lib/os/raw-argv';
import { unsupervised } from '../lib/scan/tree-ready';
import { svscanIn } from '../lib/scan/running';

captureLimits();
const ROOT_PIDFILE = '/run/svscanboot.pid';
const USER_PIDFILE = '$HOME/.local/state/daemontools-node/svscanboot.pid';
const args = process.argv.slice(2);
const USAGE = '[--host] [--daemon [--pidfile FILE]] [dir]';
answerHelp('svscanboot', args, {
  usage: `svscanboot ${USAGE}`,
  description:
    'Starts the service tree at boot: runs `svc -dx dir/* dir/*/log` (supervise left from a previous boot), then ' +
    '`svscan dir` with its output piped into `readproctitle service errors: ...`, with PATH set to a default that ' +
    'includes the daemontools-node commands and stdio on /dev/null. dir defaults to /service. SIGTERM is passed to ' +
    'svscan, which brings every service down. --host is passed on to svscan (one process supervises every service). ' +
    'With --daemon, for a system or a user without an init to start it, svscanboot detaches: the tree runs in a ' +
    'session of its own without a terminal, from /, and the command exits 0 once every service is supervised ' +
    '(111 with the reason if it could not start, if another svscanboot --daemon holds the pidfile, or if another svscan ' +
    'already scans dir).',
  options: [
    ['--host', 'pass --host on to svscan'],
    ['--daemon', 'detach, write a pidfile and hold a lock on it while the tree runs; exit once it runs'],
    ['--pidfile FILE', `with --daemon: the pidfile (default ${ROOT_PIDFILE} for root, ${USER_PIDFILE} for other users)`],
  ],
});

process.on('SIGUSR1', () => undefined);
// signals our caller ignored (nohup) stay ignored for us too, as for the C one
ignoreForOurselves();
// ps, pidof, pgrep see `svscanboot dir` (the C one, a sh script, is `/bin/sh /usr/bin/svscanboot`, comm svscanboot)
showAs('svscanboot', rawArgs(2));
const diag: Diag = new Diag('svscanboot');

interface Options {
  host: boolean;
  daemon: boolean;
  pidfile?: string;
  dir: string;
}

function badUsage(problem: string): never {
  writeStderr(`svscanboot: ${problem}\n`);
  diag.usage(USAGE);
}

function parseOptions(words: readonly string[]): Options {
  let host = false;
  let daemon = false;
  let pidfile: string | undefined;
  let i = 0;
  for (; i < words.length; i++) {
    const w = words[i];
    if (w === '--') {
      i++;
      break;
    }
    if (w.length < 2 || !w.startsWith('-')) break;
    if (w === '--host') host = true;
    else if (w === '--daemon') daemon = true;
    else if (w === '--pidfile' || w.startsWith('--pidfile=')) {
      pidfile = w === '--pidfile' ? words[++i] : w.slice('--pidfile='.length);
      if (!pidfile) badUsage('--pidfile needs a file name');
    } else badUsage(`unknown option ${w}`);
  }
  const rest = words.slice(i);
  if (rest.length > 1) badUsage(`one directory at most (${rest.length} given)`);
  if (pidfile !== undefined && !daemon) badUsage('--pidfile goes with --daemon');
  return { host, daemon, pidfile, dir: rest[0] ?? '/service' };
}

function defaultPidfile(): string {
  if (process.getuid?.() === 0) return ROOT_PIDFILE;
  return path.join(process.env.HOME || os.userInfo().homedir, '.local', 'state', 'daemontools-node', 'svscanboot.pid');
}

const opts = parseOptions(args);
const host = opts.host;
const dir = opts.dir;
const report = opts.daemon ? daemonReport() : undefined;

if (opts.daemon && !report) {
  // the caller: start the daemon and wait for its word
  let pidfile: string;
  if (opts.pidfile !== undefined) {
    pidfile = path.resolve(opts.pidfile);
  } else {
    pidfile = path.resolve(defaultPidfile());
    try {
      fs.mkdirSync(path.dirname(pidfile), { recursive: true, mode: 0o755 });
    } catch (e) {
      diag.fatal(`unable to create ${path.dirname(pidfile)}`, e);
    }
  }
  const outcome = detach([...(host ? ['--host'] : []), '--daemon', '--pidfile', pidfile, path.resolve(dir)], (text) => diag.warn(text));
  if (!outcome.ok) diag.fatal(outcome.reason);
  process.exit(0);
}

let svscan: ChildProcess | undefined;
let stopped = false;
/** SIGTERM: passed to svscan; before svscan runs, none is started. */
function forward(): void {
  stopped = true;
  try {
    if (svscan?.pid) process.kill(svscan.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

/** In the daemon: tells the caller why it failed, and exits 111 (its own stderr is /dev/null). */
function failDaemon(daemon: DaemonReport, text: string): never {
  daemon.fatal(text);
  diag.fatal(text);
}

if (report) {
  const problem = notDetached();
  if (problem) failDaemon(report, problem);
  process.umask(0o022);
  process.chdir('/');
  try {
    // what svscan will do first: a directory it cannot enter is reported now, before anything starts
    process.chdir(dir);
    process.chdir('/');
  } catch (e) {
    failDaemon(report, `unable to chdir to ${dir}: ${reason(e)}`);
  }
  // the daemon takes SIGTERM from the start (its pidfile may be read at once): stopped before svscan runs, it starts none
  process.on('SIGTERM', forward);
  const file = opts.pidfile ?? defaultPidfile();
  let held: HeldPidfile | undefined;
  try {
    held = holdPidfile(file);
  } catch (e) {
    failDaemon(report, e instanceof AlreadyRunning ? e.message : `unable to write ${file}: ${reason(e)}`);
  }
  process.on('exit', () => held?.release());
  // its first step, svc -dx dir/*, would stop the services of a tree another svscan runs there
  // (another pidfile's, the systemd unit's); the svscan of this daemon is not started yet
  let other: number | undefined;
  try {
    other = svscanIn(fs.statSync(dir)).pid;
  } catch (e) {
    failDaemon(report, `unable to stat ${dir}: ${reason(e)}`);
  }
  if (other !== undefined) failDaemon(report, `an svscan (pid ${other}) already scans ${dir}`);
}

const DOTS = '.'.repeat(400);
const STALE_WAIT_MS = 5000;
const STANDARD_PATH = ['/command', '/usr/local/bin', '/usr/local/sbin', '/bin', '/sbin', '/usr/bin', '/usr/sbin'];

/** Where our own commands are: beside dist/ in a build tree, PREFIX/bin for an install under PREFIX/lib/daemontools-node. */
function ourBinDirs(): string[] {
  const candidates = [path.resolve(__dirname, '..', 'bin'), path.resolve(__dirname, '..', '..', '..', 'bin')];
  return [...new Set(candidates)].filter((d) => fs.existsSync(path.join(d, 'svscan')));
}

const env = { PATH: [...ourBinDirs(), ...STANDARD_PATH].filter((d, i, all) => all.indexOf(d) === i).join(':') };
const devnull = fs.openSync('/dev/null', 'r+');

/** The children Node waits for itself; every other child is an orphan re-parented here. */
const ours = new Set<number>();

function start(argv: readonly string[], stdio: [number, number, number]): ChildProcess {
  const child = spawnWithLimits(argv, (a) => spawn(a[0], a.slice(1), { env, stdio }));
  child.on('error', () => undefined);
  if (child.pid) ours.add(child.pid);
  return child;
}

// Beyond the C svscanboot: a child subreaper. What svscan leaves running
// when it is killed (the services a new svscan adopts) is re-parented here,
// not to init, and reaped here when it exits: no zombie is left behind.
try {
  sys.setChildSubreaper();
  reapOrphans((pid) => ours.has(pid), 5000);
} catch {
  // not Linux 3.4+: orphans go to init, as under the C svscanboot
}

function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? 111);
    child.once('exit', (code) => resolve(code ?? 111));
    child.once('error', () => resolve(111));
  });
}

/** The sh globs `dir/*` and `dir/*\/log`: sorted, no dot-names, only what exists. */
function staleTargets(): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
  } catch {
    return [];
  }
  const logs = names.map((n) => path.join(dir, n, 'log')).filter((p) => {
    try {
      fs.lstatSync(p);
      return true;
    } catch {
      return false;
    }
  });
  return [...names.map((n) => path.join(dir, n)), ...logs];
}

const READY_POLL_MS = 50;
/** A supervise that failed at once is started again at svscan's next scan, 5 seconds later. */
const READY_STALL_MS = 6000;

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Whether svscan has entered dir (so its first scan is under way). */
function inDir(svscan: ChildProcess): boolean {
  try {
    return fs.readlinkSync(`/proc/${svscan.pid}/cwd`) === fs.realpathSync(dir);
  } catch {
    return false;
  }
}

/**
 * In the daemon: ready once svscan is in dir and every service there (and
 * log service) has a supervisor answering; when some still have none after
 * READY_STALL_MS without progress, ready with a warning naming them.
 */
async function reportWhenUp(svscan: ChildProcess, daemon: DaemonReport): Promise<void> {
  let left = unsupervised(dir);
  let progressAt = Date.now();
  while (running(svscan) && (left.length > 0 || !inDir(svscan))) {
    if (Date.now() - progressAt > READY_STALL_MS) {
      daemon.warn(left.length ? `no supervisor answers yet for ${left.join(' ')}` : 'svscan has not entered its directory yet');
      break;
    }
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
    const now = unsupervised(dir);
    if (now.length < left.length) progressAt = Date.now();
    left = now;
  }
  if (running(svscan)) daemon.ready();
  else daemon.fatal(`svscan exited (${svscan.signalCode ?? `code ${svscan.exitCode}`}) before the tree was running`);
}

async function main(): Promise<void> {
  const targets = staleTargets();
  if (targets.length) {
    await exited(start(['svc', '-dx', ...targets], [devnull, devnull, devnull]));
    // svscan starts no supervise where one still answers: give the stale
    // ones a moment to see their service down and exit
    const deadline = Date.now() + STALE_WAIT_MS;
    while (!stopped && Date.now() < deadline && targets.some((t) => isSupervised(t))) await new Promise((r) => setTimeout(r, 50));
  }
  if (report && stopped) failDaemon(report, 'stopped (SIGTERM) before the tree was running');
  const [r, w] = sys.pipe2(sys.O_CLOEXEC);
  svscan = start(['svscan', ...(host ? ['--host'] : []), dir], [devnull, w, w]);
  const title = start(['readproctitle', 'service', 'errors:', DOTS], [r, devnull, devnull]);
  sys.close(r);
  sys.close(w);
  if (report) {
    void reportWhenUp(svscan, report);
  } else {
    process.on('SIGTERM', forward);
  }
  await exited(svscan);
  // the daemon keeps its handler to the end: its pidfile is removed at exit
  if (!report) process.off('SIGTERM', forward);
  process.exit(await exited(title));
}

main().catch(() => process.exit(111));
