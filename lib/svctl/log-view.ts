// `svctl logs`: the end of a service's multilog directory (log/main), its
// TAI64N labels shown in local time as tai64nlocal shows them, and with -f
// what comes next, across rotations (lib/multilog/follow.ts), as it comes:
// a partial line shows as far as written, as tail -f shows it.
import fs from 'node:fs';
import path from 'node:path';
import { follow as followCurrent, openCurrent, type Position } from '../multilog/follow';
import { lastLinesOf, readEnd } from '../multilog/last-lines';
import { LocalTimer } from '../multilog/localtime';

/** A service's multilog directory, as svctl add writes log/run. */
export function logDirOf(serviceDir: string): string {
  return path.join(serviceDir, 'log', 'main');
}

/** The old files of a log directory (`@LABEL.s`, `@LABEL.u`), oldest first: their labels sort as their times. */
function oldFiles(logDir: string): string[] {
  try {
    return fs.readdirSync(logDir).filter((f) => f.startsWith('@')).sort();
  } catch (e) {
    // multilog has not made it yet: nothing logged
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** `current` opened, or undefined when there is none yet. */
function currentIfAny(logDir: string): Position | undefined {
  try {
    return openCurrent(logDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The last n lines of the open file fd, and how many it holds. */
function lastLinesOfFd(fd: number, n: number): { lines: Buffer; count: number; size: number } {
  const end = readEnd(fd, n);
  return { ...lastLinesOf(end.data, n), size: end.size };
}

function lastLinesOfFile(file: string, n: number): { lines: Buffer; count: number } {
  const fd = fs.openSync(file, 'r');
  try {
    return lastLinesOfFd(fd, n);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The last n lines of the log (from older files too when `current` holds
 * fewer), and the position after them in `current` for follow(); the
 * position is undefined when there is no `current` yet.
 */
export function tail(logDir: string, n: number): { text: Buffer; position?: Position } {
  const position = currentIfAny(logDir);
  const parts: Buffer[] = [];
  let count = 0;
  if (position) {
    try {
      const last = lastLinesOfFd(position.fd, n);
      position.pos = last.size;
      parts.push(last.lines);
      count = last.count;
    } catch (e) {
      fs.closeSync(position.fd);
      throw e;
    }
  }
  const old = oldFiles(logDir);
  for (let i = old.length - 1; i >= 0 && count < n; i--) {
    const more = lastLinesOfFile(path.join(logDir, old[i]), n - count);
    parts.unshift(more.lines);
    count += more.count;
  }
  return { text: Buffer.concat(parts), position };
}

/** Local times for the labels, as tai64nlocal writes them (state kept across blocks). */
export function localTimes(): (block: Buffer) => Buffer {
  const timer = new LocalTimer();
  return (block) => timer.feed(block);
}

/**
 * Hands each new block of the log to out, from position on (or from the
 * start of the first `current` to appear), across rotations, until the
 * returned function is called. An error reading the log stops the
 * following and goes to failed.
 */
export function follow(logDir: string, position: Position | undefined, out: (block: Buffer) => void, failed: (e: unknown) => void): () => void {
  return followCurrent(logDir, position, out, failed, { pollMs: 500, keepAlive: true, wholeLines: false });
}
