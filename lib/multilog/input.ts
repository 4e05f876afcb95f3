// Standard input in large blocks, without ever blocking the event loop on a
// pipe (so SIGTERM and SIGALRM are acted on while multilog waits), and
// without creating process.stdin.
//
// A pipe or socket is read through a net.Socket in its `onread` form: libuv
// reads straight into buffers handed to it, and a callback that returns
// false stops reading at once, so what has been taken from the pipe is
// exactly what the queue holds (a plain readable stream would go on reading
// into its own buffer after pause()). That sets O_NONBLOCK on the shared
// open file description, so restoreBlocking() puts it back before exit for
// whoever reads it next. Anything else (a regular file, /dev/null, a
// terminal) is read with plain blocking reads (blocking-input.ts).
import fs from 'node:fs';
import net from 'node:net';
import * as sys from '../os/sys';
import { BLOCK, BlockingInput, Input, NEWLINE, ReadResult } from './blocking-input';

export type { Input, ReadResult };

/**
 * Input is read in blocks of at most the smallest `current` size of the
 * script (so what was read ahead when SIGTERM comes, and must then be
 * written without a rotation, is at most about one file's worth), and two
 * such blocks are read ahead at most.
 */
export function readSize(sizes: readonly number[]): number {
  return Math.min(BLOCK, ...sizes);
}

class PipeInput implements Input {
  private readonly sock: net.Socket;
  /** blocks read ahead, one read(2) each */
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private readonly queueMax: number;
  /** after stopAfterLine(): the bytes of the line in progress, one read(2) each */
  private readonly line: Buffer[] = [];
  private lineLen = 0;
  private lineOnly = false;
  private lineEnded = false;
  private reading = true;
  private ended = false;
  private failure: Error | undefined;
  private waiter: (() => void) | undefined;
  private woken = false;

  constructor(private readonly block: number) {
    this.queueMax = 2 * block;
    // Node takes `onread` in the constructor too (its types know it only for connect())
    const options: net.SocketConstructorOpts & { onread: net.OnReadOpts } = {
      fd: 0,
      readable: true,
      writable: false,
      allowHalfOpen: true,
      onread: {
        // the buffer for the next read(2), made when the last one returned: a
        // byte when reading stopped, as the next one may be past a SIGTERM
        buffer: () => Buffer.allocUnsafe(this.lineOnly || !this.reading ? 1 : this.block),
        callback: (n: number, buf: Uint8Array) => this.took(Buffer.from(buf.buffer, buf.byteOffset, n)),
      },
    };
    this.sock = new net.Socket(options);
    this.sock.on('end', () => {
      this.ended = true;
      this.notify();
    });
    this.sock.on('error', (e) => {
      this.failure = e;
      this.notify();
    });
  }

  /** What one read(2) returned; false stops reading. */
  private took(b: Buffer): boolean {
    if (this.lineOnly) {
      this.line.push(b);
      this.lineLen += b.length;
      if (b[b.length - 1] === NEWLINE) this.lineEnded = true;
      if (this.lineEnded || this.lineLen >= this.block) return this.pause();
      return true;
    }
    this.queue.push(b);
    this.queued += b.length;
    this.notify();
    return this.queued < this.queueMax || this.pause();
  }

  private pause(): false {
    this.reading = false;
    this.notify();
    return false;
  }

  private resume(): void {
    if (this.reading || this.ended) return;
    this.reading = true;
    this.sock.resume();
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

  /**
   * A read the socket was waiting for (reading) still lands in a block-sized
   * buffer: that block is handed over too (nothing read is lost), and the
   * line is finished a byte at a time from its end.
   */
  stopAfterLine(): void {
    if (this.lineOnly) return;
    this.lineOnly = true;
    if (this.reading) {
      this.reading = false;
      this.sock.pause();
    }
  }

  async read(): Promise<ReadResult> {
    for (;;) {
      const b = this.queue.shift();
      if (b) {
        this.queued -= b.length;
        if (!this.lineOnly && this.queued < this.queueMax) this.resume();
        return b;
      }
      if (this.lineOnly && (this.lineEnded || this.lineLen >= this.block || (this.ended && this.lineLen > 0))) return this.takeLine();
      if (this.ended) return null;
      if (this.failure) throw this.failure;
      if (this.woken) {
        this.woken = false;
        return 'interrupted';
      }
      this.resume();
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  private takeLine(): Buffer {
    const b = this.line.length === 1 ? this.line[0] : Buffer.concat(this.line, this.lineLen);
    this.line.length = 0;
    this.lineLen = 0;
    this.lineEnded = false;
    return b;
  }

  pending(): boolean {
    return this.queue.length > 0 || this.lineLen > 0;
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
export function openInput(block: number): Input {
  let st: fs.Stats | undefined;
  try {
    st = fs.fstatSync(0);
  } catch {
    st = undefined;
  }
  if (st && (st.isFIFO() || st.isSocket())) return new PipeInput(block);
  return new BlockingInput();
}
