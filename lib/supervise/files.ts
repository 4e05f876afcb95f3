// The files supervise keeps in DIR/supervise/: the lock, the control and ok
// FIFOs, and the status record. Steps, flags and messages follow the C
// supervise (observed with strace): a failed mkdir or mkfifo is not an error
// by itself, only the open that follows is.
import fs from 'node:fs';
import path from 'node:path';
import * as sys from '../os/sys';

const { O_RDONLY, O_WRONLY, O_CREAT, O_APPEND, O_TRUNC, O_NONBLOCK } = fs.constants;

/** A setup step that failed: `what` in the C tool's words, `cause` the system error. */
export class SetupError extends Error {
  /** `bare`: the C tool prints this one without its "supervise: fatal: " prefix. */
  constructor(public readonly what: string, public readonly cause: unknown, public readonly bare = false) {
    super(what);
  }
}

/** Longest symlink target the C supervise reads (its buffer is 256 bytes, one kept for the NUL). */
const LINK_MAX = 255;

/**
 * Debian's supervise (patch 0002): when supervise/ exists as a symlink, the
 * directory it names is made (one level, mode 0700, relative to the
 * service directory), so that a dangling supervise -> /run/... link works.
 * A target too long for its buffer is fatal, in its own bare words.
 */
function makeLinkTarget(dir: string, sup: string): void {
  let target: Buffer;
  try {
    target = fs.readlinkSync(sup, { encoding: 'buffer' });
  } catch {
    return; // not a symlink (or gone): the lock below tells
  }
  if (target.length > LINK_MAX) throw new SetupError('unable to readlink ./supervise', 'unknown error', true);
  const at = target[0] === 0x2f ? target : Buffer.concat([Buffer.from(dir + '/'), target]);
  try {
    fs.mkdirSync(at, 0o700);
  } catch {
    // exists already, or the lock below fails with the reason
  }
}

export interface SuperviseFds {
  lock: number;
  controlRead: number;
  /** Held so that the control FIFO never reads end-of-file. */
  controlWrite: number;
  ok: number;
}

function fifo(file: string): void {
  try {
    sys.mkfifo(file, 0o600);
  } catch {
    // EEXIST, or an error the open below reports
  }
}

function attempt<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new SetupError(what, e);
  }
}

/**
 * Steps 2 and 3 of supervise up to the first status write: supervise/ and
 * its lock, then the control FIFO. `dir` is where the files are, `label`
 * how the directory is named in messages. Every fd is close-on-exec (Node
 * opens with O_CLOEXEC), so no child inherits one.
 */
export function openLockAndControl(dir: string, label: string): Omit<SuperviseFds, 'ok'> {
  const sup = path.join(dir, 'supervise');
  try {
    fs.mkdirSync(sup, 0o700);
  } catch {
    // exists already, or the lock below fails with the reason
    makeLinkTarget(dir, sup);
  }
  const lock = attempt(`unable to acquire ${label}/supervise/lock`, () => {
    const fd = fs.openSync(path.join(sup, 'lock'), O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK, 0o600);
    try {
      sys.flock(fd, sys.LOCK_EX | sys.LOCK_NB);
    } catch (e) {
      closeQuietly(fd);
      throw e;
    }
    return fd;
  });
  const control = path.join(sup, 'control');
  fifo(control);
  try {
    const controlRead = attempt(`unable to read ${label}/supervise/control`, () =>
      fs.openSync(control, O_RDONLY | O_NONBLOCK),
    );
    try {
      const controlWrite = attempt(`unable to write ${label}/supervise/control`, () =>
        fs.openSync(control, O_WRONLY | O_NONBLOCK),
      );
      return { lock, controlRead, controlWrite };
    } catch (e) {
      closeQuietly(controlRead);
      throw e;
    }
  } catch (e) {
    closeQuietly(lock);
    throw e;
  }
}

/** Step 3, after the first status write: the ok FIFO, held open for reading. */
export function openOk(dir: string, label: string): number {
  const ok = path.join(dir, 'supervise', 'ok');
  fifo(ok);
  return attempt(`unable to read ${label}/supervise/ok`, () => fs.openSync(ok, O_RDONLY | O_NONBLOCK));
}

/**
 * Replaces supervise/NAME atomically (NAME.new, then rename). Returns a
 * warning in the C tool's words when a step fails, undefined otherwise.
 */
function replaceFile(dir: string, label: string, name: string, data: Buffer): { what: string; cause: unknown } | undefined {
  const fresh = path.join(dir, 'supervise', `${name}.new`);
  let fd: number;
  try {
    fd = fs.openSync(fresh, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK, 0o644);
  } catch (e) {
    return { what: `unable to open ${label}/supervise/${name}.new`, cause: e };
  }
  try {
    if (fs.writeSync(fd, data) !== data.length) throw Object.assign(new Error('short write'), { code: 'EIO' });
  } catch (e) {
    closeQuietly(fd);
    return { what: `unable to write ${label}/supervise/${name}.new`, cause: e };
  }
  closeQuietly(fd);
  try {
    fs.renameSync(fresh, path.join(dir, 'supervise', name));
  } catch (e) {
    return { what: `unable to rename ${label}/supervise/${name}.new to ${name}`, cause: e };
  }
  return undefined;
}

/** Replaces supervise/status with an 18-byte record (encodeStatus: the format shared with the C tools). */
export function writeStatusFile(dir: string, label: string, record: Buffer): { what: string; cause: unknown } | undefined {
  return replaceFile(dir, label, 'status', record);
}

/** Beyond 0.76: what the 18 bytes cannot say, in supervise/info (one JSON object). */
export interface ServiceInfo {
  /** pid of the supervise process */
  supervise: number;
  /** successful starts of ./run since supervise started */
  starts: number;
  /** start attempts that failed (./run missing, not executable, ...) */
  failures: number;
  /**
   * how ./run ended last time: TAI64N label, exit code or signal name.
   * `adopted: true`: that ./run was adopted (started by a supervisor before
   * this one, see lib/supervise/adopt.ts), so its exit code and signal are
   * unknown (both null).
   */
  lastExit: { at: string; code: number | null; signal: string | null; adopted?: true } | null;
  /** while it runs: the pid of the ./run adopted from a supervisor before this one (not its child) */
  adopted?: number;
  /** the descriptor of notification-fd, while the service has one (readiness is meaningful for it) */
  notification?: number;
  /** TAI64N label of the moment the current ./run said it was ready (first newline on its notification-fd) */
  readySince?: string;
  /** true while ./finish runs */
  finishing?: true;
  /** failed starts in a row (runs shorter than start-secs, or not started at all) */
  failedInRow?: number;
  /** TAI64N label of the next start, while back-off delays it beyond the one-second rule */
  restartAt?: string;
  /** the supervisor gave up after this many failed starts in a row (start-retries); `svc -u` starts anew */
  gaveUp?: number;
}

/** Replaces supervise/info; failures are not reported (nothing depends on it). */
export function writeInfoFile(dir: string, info: ServiceInfo): void {
  replaceFile(dir, '', 'info', Buffer.from(JSON.stringify(info) + '\n'));
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // nothing to do about it
  }
}

export function closeFds(fds: readonly (number | undefined)[]): void {
  for (const fd of fds) if (fd !== undefined) closeQuietly(fd);
}
