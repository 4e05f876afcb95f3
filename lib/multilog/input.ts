// Standard input in large blocks, without ever blocking the event loop on a
// pipe (so SIGTERM and SIGALRM are acted on while multilog waits), and
// without creating process.stdin.
//
// A pipe or socket is read through a net.Socket (libuv reads 64 KiB at a
// time); that sets O_NONBLOCK on the shared open file description, so
// restoreBlocking() puts it back before exit for whoever reads it next.
// Anything else (a regular file, /dev/null, a terminal) is read with plain
// blocking reads.
import fs from 'node:fs';
import net from 'node:net';
import * as sys from '../sys';

const BLOCK = 1 << 16;
/** input read ahead of the log directories, at most */
const QUEUE_MAX = 1 << 20;

export type ReadResult = Buffer | null | 'interrupted';

export interface Input {
  /** The next block; null at end of input; 'interrupted' after wake(). */
  read(): Promise<ReadResult>;
  /** Makes a pending read() return 'interrupted' (signal handlers call it). */
  wake(): void;
  restoreBlocking(): void;
  /** Whether input already taken from the descriptor is waiting to be read(). */
  pending(): boolean;
}

class PipeInput implements Input {
  private readonly sock: net.Socket;
  /** blocks as libuv read them, one read(2) each */
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private failure: Error | undefined;
  private waiter: (() => void) | undefined;
  private woken = false;

  constructor() {
    this.sock = new net.Socket({ fd: 0, readable: true, writable: false, allowHalfOpen: true });
    this.sock.on('data', (b: Buffer) => {
      this.queue.push(b);
      this.queued += b.length;
      if (this.queued >= QUEUE_MAX) this.sock.pause();
      this.notify();
    });
    this.sock.on('end', () => {
      this.ended = true;
      this.notify();
    });
    this.sock.on('error', (e) => {
      this.failure = e;
      this.notify();
    });
  }

  private notify(): void {
    const w = this.waiter;
    this.waiter = undefined;
    if (w) w();
  }

  wake(): void {
    this.woken = true;
    this.notify();
  }

  async read(): Promise<ReadResult> {
    for (;;) {
      const b = this.queue.shift();
      if (b) {
        this.queued -= b.length;
        if (this.queued < QUEUE_MAX && this.sock.isPaused()) this.sock.resume();
        return b;
      }
      if (this.ended) return null;
      if (this.failure) throw this.failure;
      if (this.sock.isPaused()) this.sock.resume();
      if (this.woken) {
        this.woken = false;
        return 'interrupted';
      }
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  pending(): boolean {
    return this.queue.length > 0 || this.sock.readableLength > 0;
  }

  restoreBlocking(): void {
    try {
      sys.setNonblock(0, false);
    } catch {
      // nothing more to do
    }
  }
}

class BlockingInput implements Input {
  private readonly buf = Buffer.allocUnsafe(BLOCK);
  private woken = false;

  wake(): void {
    this.woken = true;
  }

  async read(): Promise<ReadResult> {
    // let signal handlers run between blocks
    await new Promise((resolve) => setImmediate(resolve));
    if (this.woken) {
      this.woken = false;
      return 'interrupted';
    }
    for (;;) {
      try {
        const n = fs.readSync(0, this.buf, 0, BLOCK, null);
        return n === 0 ? null : this.buf.subarray(0, n);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  }

  pending(): boolean {
    return false;
  }

  restoreBlocking(): void {
    // never changed
  }
}

/**
 * `interruptible`: a wait for a pipe must let signal handlers run (multilog);
 * a plain filter (tai64n) just blocks in read(2), leaving the pipe as it is.
 */
export function openInput(interruptible = true): Input {
  if (!interruptible) return new BlockingInput();
  let st: fs.Stats | undefined;
  try {
    st = fs.fstatSync(0);
  } catch {
    st = undefined;
  }
  if (st && (st.isFIFO() || st.isSocket())) return new PipeInput();
  return new BlockingInput();
}
