// Readiness (beyond 0.76, s6's notification-fd): ./run gets the write end
// of a pipe as the descriptor the service directory's notification-fd file
// names; the first newline it writes there marks the service ready.
import net from 'node:net';
import * as sys from '../os/sys';

export interface Notification {
  /** Our copy of the write end, for spawnChild's `extra` (close it once the child has its own: given()). */
  readonly writeEnd: number;
  /** Closes our write end: call once ./run is started (or failed to start). */
  given(): void;
  /** Stops listening and closes everything (./run exited, or the supervisor ends). */
  cancel(): void;
}

/** A notification pipe; onReady runs once, at the first newline. */
export function notificationPipe(onReady: () => void): Notification {
  // blocking for the writer; libuv makes our read end non-blocking itself
  const [readEnd, writeEnd] = sys.pipe2(sys.O_CLOEXEC);
  let writeOpen = true;
  const closeWrite = (): void => {
    if (!writeOpen) return;
    writeOpen = false;
    try {
      sys.close(writeEnd);
    } catch {
      // already closed
    }
  };
  const sock = new net.Socket({ fd: readEnd, readable: true, writable: false });
  let done = false;
  const cancel = (): void => {
    closeWrite();
    if (done) return;
    done = true;
    sock.destroy(); // closes readEnd
  };
  sock.on('data', (chunk: Buffer) => {
    if (done || !chunk.includes(0x0a)) return;
    cancel();
    onReady();
  });
  // the service closed it (or exited) without a newline: never ready
  sock.on('end', cancel);
  sock.on('error', cancel);
  return { writeEnd, given: closeWrite, cancel };
}
