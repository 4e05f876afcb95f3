// Adoption (beyond daemontools 0.76): a supervisor that starts after another
// one died (SIGKILL, a crash of the host) takes over the ./run still
// running instead of starting a second copy.
//
// - When ./run starts, supervise/running gets `PID STARTTIME BOOTID\n`
//   (STARTTIME: field 22 of /proc/PID/stat, clock ticks since boot; BOOTID:
//   /proc/sys/kernel/random/boot_id), written atomically like status; it is
//   removed when the supervisor sees ./run exit.
// - The next supervisor of the directory reads it: the process is the same
//   one when it is alive (not a zombie), has that start time, and the
//   system has not been rebooted since (a boot that runs the same things
//   in the same order can give another process the same pid and start
//   time). Its working directory is not checked: a ./run may chdir (the C
//   multilog works in its log directory). It is then watched through
//   a pidfd (pidfd_open: readable once the process exits, parent or not),
//   all pidfds of the process in one poll(2) run in a libuv pool thread
//   (ARCHITECTURE.md pitfall 11), re-armed through a pipe of our own when
//   the set changes.
// - svscan takes the service-to-log pipe back from the running processes
//   (/proc/PID/fd/0 of the log's ./run, or /proc/PID/fd/1 of the service's).
import fs from 'node:fs';
import path from 'node:path';
import * as sys from '../os/sys';
import { ProcStat, parseProcStat, procStat } from '../os/proc-stat';
import { decodeStatus, Status } from './status';
import { now, Tai64n } from '../tai64';

/** The record's name in supervise/. */
export const RECORD = 'running';

/** What identifies a process: its pid and its start time (clock ticks after boot), in this boot. */
export interface ProcessId {
  pid: number;
  start: string;
}

let bootId: string | undefined;

/** This boot's id (a UUID); '-' where the kernel does not tell. */
function currentBoot(): string {
  if (bootId === undefined) {
    try {
      bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim() || '-';
    } catch {
      bootId = '-';
    }
  }
  return bootId;
}

/**
 * Writes supervise/running for ./run just started (atomically), once its
 * start time can be read: /proc/PID/stat of a process in the middle of an
 * exec cannot be read before the exec is over (the read waits, 1 to 4 ms
 * here, and a shell script's `exec` is a second one), so it is read in
 * libuv's thread pool, after the status names the pid. A supervisor killed
 * in between finds no record and starts ./run anew, as the C one would.
 * `current()` says whether pid is still the service when the time arrives.
 * A failure only costs the adoption later.
 */
export function recordWhenStarted(dir: string, pid: number, current: () => boolean): void {
  fs.readFile(`/proc/${pid}/stat`, 'latin1', (err, text) => {
    const st = err ? undefined : parseProcStat(text);
    if (!st || !current()) return;
    const fresh = path.join(dir, 'supervise', `${RECORD}.new`);
    try {
      fs.writeFileSync(fresh, `${pid} ${st.start} ${currentBoot()}\n`, { mode: 0o644 });
      fs.renameSync(fresh, path.join(dir, 'supervise', RECORD));
    } catch {
      // no record: a supervisor after us starts ./run anew, as the C one does
    }
  });
}

/** Removes supervise/running (./run exited and was seen to). */
export function clearRecord(dir: string): void {
  try {
    fs.unlinkSync(path.join(dir, 'supervise', RECORD));
  } catch {
    // none
  }
}

export function readRecord(dir: string): ProcessId | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, 'supervise', RECORD), 'latin1');
  } catch {
    return undefined;
  }
  const m = /^(\d+) (\d+) (\S+)\n$/.exec(text);
  if (!m || m[3] !== currentBoot()) return undefined;
  const pid = Number(m[1]);
  return pid > 0 ? { pid, start: m[2] } : undefined;
}

/** Whether id (read in this boot) is a live process (not a zombie) with that start time. Returns its stat. */
function identify(id: ProcessId): ProcStat | undefined {
  const st = procStat(id.pid);
  if (!st || st.state === 'Z' || st.state === 'X' || st.start !== id.start) return undefined;
  return st;
}

/** The ./run recorded in dir/supervise/running, if that very process still runs; undefined otherwise. */
export function findRunning(dir: string): ProcessId | undefined {
  const id = readRecord(dir);
  return id && identify(id) ? id : undefined;
}

/** How long ago (ms) a process started, from its start time in ticks and /proc/uptime (both since boot). */
function ageMs(start: string): number {
  try {
    const up = Number(fs.readFileSync('/proc/uptime', 'latin1').split(' ')[0]);
    return Math.max(0, (up - Number(start) / sys.clockTicks()) * 1000);
  } catch {
    return 0;
  }
}

/** A process taken over: the service while it runs. */
export interface Adopted {
  pid: number;
  /** When it started (the status time). */
  when: Tai64n;
  /** How long ago it started, in ms. */
  ageMs: number;
  /** Stopped (SIGSTOP) at the moment of the takeover. */
  stopped: boolean;
  /** What the status said of it, when the status names this pid. */
  status?: Status;
  /** Stops watching (the process is left alone). */
  cancel(): void;
}

/**
 * Takes over the ./run recorded in dir/supervise/running if that very
 * process still runs: onExit is called (once, on the event loop) when it
 * exits, unless cancel() was called first. Undefined when there is nothing
 * to adopt (the record is then removed).
 */
export function adoptRunning(dir: string, onExit: () => void): Adopted | undefined {
  const id = readRecord(dir);
  if (!id) return undefined;
  // the pidfd first, then the identity: the pidfd then names the process checked, whatever happens to the pid
  let pidfd = -1;
  try {
    pidfd = sys.pidfdOpen(id.pid);
  } catch {
    // ESRCH: gone; ENOSYS (Linux before 5.3): watched by polling /proc below
  }
  const st = identify(id);
  if (!st) {
    if (pidfd >= 0) sys.close(pidfd);
    clearRecord(dir);
    return undefined;
  }
  let status: Status | undefined;
  try {
    status = decodeStatus(fs.readFileSync(path.join(dir, 'supervise', 'status')));
    if (status?.pid !== id.pid) status = undefined;
  } catch {
    status = undefined;
  }
  const age = ageMs(id.start);
  const t = now();
  const ms = t.sec * 1000 + t.nano / 1e6 - age;
  const sec = Math.floor(ms / 1000);
  const when: Tai64n = { sec, nano: Math.min(999999999, Math.floor((ms - sec * 1000) * 1e6)) };
  const cancel = pidfd >= 0 ? watcher().watch(pidfd, onExit) : pollExit(id, onExit);
  return { pid: id.pid, when, ageMs: age, stopped: st.state === 'T', status, cancel };
}

/** Without pidfds: whether the process is still the same one, once a second. */
function pollExit(id: ProcessId, onExit: () => void): () => void {
  const timer = setInterval(() => {
    const st = procStat(id.pid);
    if (st && st.start === id.start && st.state !== 'Z' && st.state !== 'X') return;
    clearInterval(timer);
    onExit();
  }, 1000);
  return () => clearInterval(timer);
}

/**
 * Every pidfd this process watches, in one poll(2) in a pool thread. The
 * set changes through a wake-up pipe: the poll returns and is armed again
 * with the new set. Nothing is polled while the set is empty.
 */
class PidfdWatcher {
  private readonly watched = new Map<number, () => void>();
  /** Removed while a poll held them: closed once it returns. */
  private readonly toClose: number[] = [];
  private wake: [number, number] | undefined;
  private polling = false;
  private retry: NodeJS.Timeout | undefined;

  watch(pidfd: number, onExit: () => void): () => void {
    this.watched.set(pidfd, onExit);
    this.changed();
    return () => {
      if (!this.watched.delete(pidfd)) return;
      if (this.polling) {
        this.toClose.push(pidfd);
        this.changed();
      } else {
        closeQuietly(pidfd);
      }
    };
  }

  private changed(): void {
    if (!this.polling) {
      this.arm();
      return;
    }
    try {
      fs.writeSync(this.wake![1], Buffer.from([1]));
    } catch {
      // full (EAGAIN): a wake-up is pending anyway
    }
  }

  private arm(): void {
    if (this.polling || this.retry || this.watched.size === 0) return;
    try {
      this.wake ??= sys.pipe2(sys.O_CLOEXEC | sys.O_NONBLOCK);
    } catch {
      this.retryLater();
      return;
    }
    const set = sys.pollSet([this.wake[0], ...this.watched.keys()]);
    this.polling = true;
    try {
      sys.pollAsync(set, -1, (result) => this.returned(set, result));
    } catch {
      this.polling = false;
      this.retryLater();
    }
  }

  private returned(set: Buffer, result: number): void {
    this.polling = false;
    this.drainWake();
    for (const fd of this.toClose.splice(0)) closeQuietly(fd);
    if (result < 0) {
      // EINTR, or ENOMEM: try again shortly
      this.retryLater();
      return;
    }
    for (let off = 8; off < set.length; off += 8) {
      if (set.readInt16LE(off + 6) === 0) continue;
      const fd = set.readInt32LE(off);
      const onExit = this.watched.get(fd);
      if (!onExit) continue;
      this.watched.delete(fd);
      closeQuietly(fd);
      try {
        onExit();
      } catch {
        // the supervisor's own fault: never the watcher's end
      }
    }
    this.arm();
  }

  private retryLater(): void {
    if (this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.arm();
    }, 100);
  }

  private drainWake(): void {
    if (!this.wake) return;
    const buf = Buffer.alloc(64);
    try {
      while (fs.readSync(this.wake[0], buf, 0, buf.length, null) > 0);
    } catch {
      // EAGAIN: empty
    }
  }
}

let shared: PidfdWatcher | undefined;

/** The watcher of this process (one poll for every supervisor in it). */
function watcher(): PidfdWatcher {
  shared ??= new PidfdWatcher();
  return shared;
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
}

/**
 * The service-to-log pipe of a service whose log's ./run (or whose own
 * ./run) still runs from before: opened again through /proc/PID/fd/0 of
 * the log's ./run, or /proc/PID/fd/1 of the service's. [read end, write
 * end], two new descriptions of that very pipe (close-on-exec, blocking);
 * undefined when neither runs or neither is a pipe.
 */
export function recoverLogPipe(serviceDir: string): [number, number] | undefined {
  const candidates: Array<[string, number]> = [[path.join(serviceDir, 'log'), 0], [serviceDir, 1]];
  for (const [dir, fdNum] of candidates) {
    const id = findRunning(dir);
    if (!id) continue;
    const link = `/proc/${id.pid}/fd/${fdNum}`;
    let target: string;
    try {
      target = fs.readlinkSync(link);
    } catch {
      continue;
    }
    const m = /^pipe:\[(\d+)\]$/.exec(target);
    if (!m) continue;
    let r = -1;
    let w = -1;
    try {
      // a reader first, so that opening the writer without blocking works
      r = fs.openSync(link, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      w = fs.openSync(link, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      if (String(fs.fstatSync(r).ino) !== m[1] || String(fs.fstatSync(w).ino) !== m[1]) throw new Error('another pipe');
      sys.setNonblock(r, false);
      sys.setNonblock(w, false);
      // still the same process (it could have exited meanwhile and its pid gone to another)
      if (!findRunning(dir)) throw new Error('gone');
      return [r, w];
    } catch {
      if (r >= 0) closeQuietly(r);
      if (w >= 0) closeQuietly(w);
    }
  }
  return undefined;
}
