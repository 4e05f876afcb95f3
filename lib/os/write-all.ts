// Writing all of a buffer to a descriptor that may be non-blocking (svc's
// control FIFO is opened O_NONBLOCK; the stdout of svstat, tai64n and
// tai64nlocal may be a pipe someone made non-blocking). The C svc clears O_NONBLOCK and blocks while the FIFO is
// full; Node cannot clear it without FFI, so EAGAIN is answered by a short
// sleep and a retry, which waits the same way and still ends with EPIPE if
// the reader goes away.
import fs from 'node:fs';
import { sleepSync } from './sleep-sync';

/** Writes every byte of data to fd; throws the first error other than EAGAIN. */
export function writeAllSync(fd: number, data: Buffer): void {
  let off = 0;
  let wait = 1;
  while (off < data.length) {
    try {
      off += fs.writeSync(fd, data, off, data.length - off);
      wait = 1;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      sleepSync(wait);
      wait = Math.min(wait * 2, 50);
    }
  }
}
