// Standard input in large blocks, without ever blocking the event loop on a
// pipe (so SIGTERM and SIGALRM are acted on while multilog waits), and
// without creating process.stdin.
//
// A pipe or socket is read through a net.Socket (libuv reads 64 KiB at a
// time); that sets O_NONBLOCK on the shared open file description, so
// restoreBlocking() puts it back before exit for whoever reads it next.
// Anything else (a regular file, /dev/null, a terminal) is read with plain
// blocking reads (blocking-input.ts).
import fs from 'node:fs';
import net from 'node:net';
import * as sys from '../sys';
import { BlockingInput, Input, ReadResult } from './blocking-input';

export type { Input, ReadResult };

/** input read ahead of the log directories, at most */
const QUEUE_MAX = 1 << 20;

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

/**
 * multilog's input: a wait for a pipe must let signal handlers run. (A plain
 * filter, tai64n, just blocks in read(2) through a BlockingInput, leaving
 * the pipe as it is.)
 */
export function openInput(): Input {
  let st: fs.Stats | undefined;
  try {
    st = fs.fstatSync(0);
  } catch {
    st = undefined;
  }
  if (st && (st.isFIFO() || st.isSocket())) return new PipeInput();
  return new BlockingInput();
}
