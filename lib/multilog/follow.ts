// Following a multilog directory's `current` across rotations: multilog
// renames a full `current` to `@LABEL.s` and starts a new one, so the
// reader finishes the file it has open (the same inode, now under its new
// name) and goes on with the new `current` from its start. Driven by a
// watch of the directory, with a look every so often in case an event was
// missed (or no watch could be set, as on a directory not made yet).
import fs from 'node:fs';
import path from 'node:path';

const NEWLINE = 0x0a;
const CHUNK = 64 * 1024;

/** Where a reader of `current` stands: its descriptor, the inode it has open, and how far it has read. */
export interface Position {
  fd: number;
  ino: number;
  pos: number;
}

/** The log directory's `current` opened at offset pos (without blocking, should it be a FIFO). Throws as open(2) does. */
export function openCurrent(logDir: string, pos = 0): Position {
  const fd = fs.openSync(path.join(logDir, 'current'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    return { fd, ino: fs.fstatSync(fd).ino, pos };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

export interface FollowOptions {
  /** How often (ms) the log is looked at whatever the directory watch says. */
  pollMs: number;
  /** Whether the watch and the poll keep the process running. */
  keepAlive: boolean;
  /**
   * Whole lines only: a partial line waits for its newline, and is dropped
   * when its file is rotated before it gets one. Otherwise the blocks are
   * handed on as read.
   */
  wholeLines: boolean;
}

/** Where a follower's reading goes: each block read, the end of one look's reading, a switch to a new file. */
interface Sink {
  block(data: Buffer): void;
  flush(): void;
  newFile(): void;
}

function rawBlocks(out: (block: Buffer) => void): Sink {
  return { block: out, flush: () => undefined, newFile: () => undefined };
}

/** Hands on the whole lines of each look's reading at once, keeping the partial last line. */
function wholeLines(out: (block: Buffer) => void): Sink {
  let pending: Buffer[] = [];
  return {
    block: (data) => {
      pending.push(data);
    },
    flush: () => {
      const all = Buffer.concat(pending);
      const nl = all.lastIndexOf(NEWLINE);
      pending = [all.subarray(nl + 1)];
      if (nl >= 0) out(all.subarray(0, nl + 1));
    },
    newFile: () => {
      pending = [];
    },
  };
}

/** The inode `current` has now, or undefined when there is none (between a rename and the new current). */
function inodeOfCurrent(logDir: string): number | undefined {
  try {
    return fs.statSync(path.join(logDir, 'current')).ino;
  } catch {
    return undefined;
  }
}

class Follower {
  private readonly buf = Buffer.alloc(CHUNK);
  private watcher: fs.FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly logDir: string,
    private at: Position | undefined,
    private readonly sink: Sink,
    private readonly failed: (e: unknown) => void,
  ) {}

  start(options: FollowOptions): void {
    try {
      this.watcher = fs.watch(this.logDir, { persistent: options.keepAlive }, () => this.look());
      this.watcher.on('error', () => undefined);
    } catch {
      // no inotify, not allowed, or no directory yet: the poll alone
    }
    this.timer = setInterval(() => this.look(), options.pollMs);
    if (!options.keepAlive) this.timer.unref();
    this.look();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.watcher?.close();
    clearInterval(this.timer);
    if (this.at) {
      try {
        fs.closeSync(this.at.fd);
      } catch {
        // closed already
      }
    }
  }

  private look(): void {
    if (this.stopped) return;
    try {
      this.lookOnce();
    } catch (e) {
      this.stop();
      this.failed(e);
    }
  }

  private lookOnce(): void {
    if (this.at) this.drain(this.at);
    const ino = inodeOfCurrent(this.logDir);
    if (ino === undefined || this.at?.ino === ino) return;
    // rotated: what was written to the old file before the rename is all there now
    if (this.at) {
      this.drain(this.at);
      fs.closeSync(this.at.fd);
      this.at = undefined;
    }
    this.sink.newFile();
    try {
      this.at = openCurrent(this.logDir);
    } catch {
      return; // gone again: the next look
    }
    this.drain(this.at);
  }

  private drain(p: Position): void {
    for (;;) {
      const n = fs.readSync(p.fd, this.buf, 0, this.buf.length, p.pos);
      if (n === 0) break;
      p.pos += n;
      this.sink.block(Buffer.from(this.buf.subarray(0, n)));
    }
    this.sink.flush();
  }
}

/**
 * Hands what is appended to the log directory's `current` to out, from
 * position on (or from the start of the first `current` to appear), across
 * rotations, until the returned function is called. An error reading the
 * log stops the following and goes to failed.
 */
export function follow(logDir: string, position: Position | undefined, out: (block: Buffer) => void, failed: (e: unknown) => void, options: FollowOptions): () => void {
  const follower = new Follower(logDir, position, options.wholeLines ? wholeLines(out) : rawBlocks(out), failed);
  follower.start(options);
  return () => follower.stop();
}
