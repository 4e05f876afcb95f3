// A pidfile held under a lock for as long as its process runs. It is
// written whole into a temporary file beside it, locked (flock) before
// anyone can see it, then linked or renamed into place: a reader never sees
// half a pid, and a second instance tells a live owner (the lock is held)
// from a stale file (its process gone, the lock gone with it), which it
// replaces.
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from './errors';
import * as sys from './sys';
import { sleepSync } from './sleep-sync';

/** Another process holds the pidfile's lock. */
export class AlreadyRunning extends Error {
  constructor(public readonly file: string, public readonly pid: number | undefined) {
    super(`already running${pid === undefined ? '' : ` (pid ${pid})`}`);
  }
}

/** A pidfile of ours: release() removes it (if it is still ours) and drops the lock. */
export interface HeldPidfile {
  readonly file: string;
  release(): void;
}

/** Attempts at the race with another instance replacing the same stale file at the same moment. */
const ATTEMPTS = 200;
const RETRY_MS = 10;

function sameFile(a: fs.Stats, b: fs.Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

function lockedByOther(fd: number): boolean {
  try {
    sys.flock(fd, sys.LOCK_EX | sys.LOCK_NB);
    return false;
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'EWOULDBLOCK' || code === 'EAGAIN') return true;
    throw e;
  }
}

function pidIn(fd: number): number | undefined {
  const text = fs.readFileSync(fd, 'latin1');
  return /^[1-9]\d*\n?$/.test(text) ? Number(text) : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}

/** The file at `file` now, without following a symlink; undefined when there is none. */
function lstatOrNone(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Writes `pid` (this process by default) into `file` and keeps it locked
 * (the descriptor is close-on-exec: no child inherits the lock). Throws
 * AlreadyRunning when a live process holds it, a system error otherwise
 * (nothing is left behind either way).
 */
export function holdPidfile(file: string, pid = process.pid): HeldPidfile {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${pid}.tmp`);
  fs.rmSync(tmp, { force: true }); // left by an earlier process with our pid
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
  let placed = false;
  try {
    sys.flock(fd, sys.LOCK_EX | sys.LOCK_NB);
    fs.writeSync(fd, `${pid}\n`);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (attempt) sleepSync(RETRY_MS);
      let old: number;
      try {
        old = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw e;
        try {
          fs.linkSync(tmp, file); // fails if another instance placed its own meanwhile
        } catch (le) {
          if (errnoCode(le) === 'EEXIST') continue;
          throw le;
        }
        placed = true;
        break;
      }
      try {
        const oldStat = fs.fstatSync(old);
        if (!oldStat.isFile()) throw new Error('not a regular file');
        if (lockedByOther(old)) {
          const owner = pidIn(old);
          const now = lstatOrNone(file);
          // still the file we found, naming a live process: that is the owner
          // (a dead pid in a locked file: another instance is replacing it now)
          if (now && sameFile(now, oldStat) && owner !== undefined && alive(owner)) throw new AlreadyRunning(file, owner);
          if (attempt === ATTEMPTS - 1) throw new AlreadyRunning(file, owner);
          continue;
        }
        // stale, and its lock now ours: replace it, unless it was replaced meanwhile
        const now = lstatOrNone(file);
        if (!now || !sameFile(now, oldStat)) continue;
        fs.renameSync(tmp, file);
        placed = true;
        break;
      } finally {
        fs.closeSync(old);
      }
    }
    if (!placed) throw new AlreadyRunning(file, undefined);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  const mine = fs.fstatSync(fd);
  let released = false;
  return {
    file,
    release(): void {
      if (released) return;
      released = true;
      try {
        const now = lstatOrNone(file);
        if (now && sameFile(now, mine)) fs.unlinkSync(file);
      } catch {
        // gone already, or the directory is not ours to change any more
      }
      fs.closeSync(fd);
    },
  };
}
