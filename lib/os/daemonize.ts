// Becoming a daemon, the classic way, for a program Node cannot fork: the
// caller starts the same program again, detached (libuv's setsid: a session
// of its own, no controlling terminal), from `/`, with stdio on /dev/null
// and a pipe on fd 3 through which the daemon reports: warnings, then
// `ready` or why it failed. The caller relays them and exits 0 only on
// `ready`. The daemon's environment is the launcher's record of limits and
// ignored signals and nothing else (what the program passes on is its own
// business); the caller gives it absolute paths.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { readProc, splitNul } from './raw-argv';
import * as sys from './sys';
import { procStat } from './proc-stat';

/** Set in the daemon's environment by detach(): the descriptor of its report pipe. */
const MARK = 'DAEMONTOOLS_NODE_DAEMON';
const REPORT_FD = 3;
/** The launcher's record (lib/exec/limits.ts), read by the daemon as by the program the caller ran. */
const LIMITS_ENV = 'DAEMONTOOLS_NODE_LIMITS';

export type Outcome = { ok: true } | { ok: false; reason: string };

/** The launcher's record as this process was given it (captureLimits() has removed it from process.env). */
function launcherRecord(): string | undefined {
  const environ = readProc('/proc/self/environ');
  const prefix = `${LIMITS_ENV}=`;
  const entry = environ && splitNul(environ).find((e) => e.toString('latin1').startsWith(prefix));
  return entry?.subarray(prefix.length).toString('latin1');
}

/**
 * Descriptors above 2 that this process was given without close-on-exec
 * (a shell's, a cron daemon's) would pass to the daemon through spawn and
 * stay open for its whole life: marked close-on-exec here (the caller only
 * waits and exits after this).
 */
function keepOwnDescriptors(): void {
  let fds: string[];
  try {
    fds = fs.readdirSync('/proc/self/fd');
  } catch {
    return;
  }
  for (const name of fds) {
    const fd = Number(name);
    if (fd <= 2) continue;
    try {
      sys.setCloexec(fd, true);
    } catch {
      // the directory's own descriptor, closed by now
    }
  }
}

/**
 * In the caller: starts this program again with args as a daemon, passes
 * each warning it reports to onWarning, and returns once it reports ready,
 * or failed (or exited without a word).
 */
export function detach(args: readonly string[], onWarning: (text: string) => void): Outcome {
  keepOwnDescriptors();
  const [r, w] = sys.pipe2(sys.O_CLOEXEC);
  const env: Record<string, string> = { [MARK]: String(REPORT_FD) };
  const record = launcherRecord();
  if (record !== undefined) env[LIMITS_ENV] = record;
  let started = false;
  try {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...args], {
      detached: true,
      cwd: '/',
      env,
      stdio: ['ignore', 'ignore', 'ignore', w],
    });
    child.on('error', () => undefined);
    child.unref();
    started = child.pid !== undefined;
  } finally {
    sys.close(w);
  }
  try {
    if (!started) return { ok: false, reason: `unable to start ${process.execPath}` };
    return readReport(r, onWarning);
  } finally {
    sys.close(r);
  }
}

function readReport(fd: number, onWarning: (text: string) => void): Outcome {
  const buf = Buffer.alloc(4096);
  let pending = '';
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) return { ok: false, reason: 'the daemon exited before it was ready' };
    pending += buf.toString('utf8', 0, n);
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line === 'ready') return { ok: true };
      if (line.startsWith('fatal: ')) return { ok: false, reason: line.slice(7) };
      if (line.startsWith('warning: ')) onWarning(line.slice(9));
    }
  }
}

/** What the daemon tells its caller; after ready() or fatal() the pipe is closed and every call does nothing. */
export interface DaemonReport {
  warn(text: string): void;
  ready(): void;
  fatal(text: string): void;
}

/** Why this process is not a detached session leader, or undefined when it is one. */
export function notDetached(): string | undefined {
  const s = procStat(process.pid);
  if (!s) return 'unable to read /proc/self/stat';
  if (s.session !== process.pid) return `not the leader of its own session (session ${s.session})`;
  if (s.tty !== 0) return 'still has a controlling terminal';
  return undefined;
}

/**
 * In a program started by detach(): its report to the caller (fd 3 taken
 * out of the way of its children), with the marker removed from its
 * environment. undefined when this process was not started so.
 */
export function daemonReport(): DaemonReport | undefined {
  if (process.env[MARK] !== String(REPORT_FD)) return undefined;
  delete process.env[MARK];
  let fd: number | undefined = REPORT_FD;
  try {
    sys.setCloexec(fd, true);
  } catch {
    fd = undefined; // not open: nobody to report to
  }
  const say = (line: string): void => {
    if (fd === undefined) return;
    try {
      fs.writeSync(fd, `${line.replace(/\n/g, ' ')}\n`);
    } catch {
      // the caller is gone: nobody to tell
    }
  };
  const close = (): void => {
    if (fd === undefined) return;
    try {
      sys.close(fd);
    } catch {
      // closed already
    }
    fd = undefined;
  };
  return {
    warn: (text) => say(`warning: ${text}`),
    ready: () => {
      say('ready');
      close();
    },
    fatal: (text) => {
      say(`fatal: ${text}`);
      close();
    },
  };
}
