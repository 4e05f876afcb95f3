// Writing a filter's output to fd 1 without process.stdout: whole buffers,
// waiting out EAGAIN if someone made the descriptor non-blocking.
import fs from 'node:fs';

export async function writeAll(fd: number, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
