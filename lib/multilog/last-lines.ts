// The last lines of a log file: read backwards from its end only as far as
// the lines asked for need (or a limit), then cut at line boundaries.
import fs from 'node:fs';

const NEWLINE = 0x0a;
const CHUNK = 64 * 1024;

/** The last n lines of data (a last line without its newline counts), and how many it holds. */
export function lastLinesOf(data: Buffer, n: number): { lines: Buffer; count: number } {
  if (n <= 0 || data.length === 0) return { lines: data.subarray(data.length), count: 0 };
  // lastIndexOf counts a negative offset from the end: never give it one
  let from = data[data.length - 1] === NEWLINE ? data.length - 2 : data.length - 1;
  let start = 0;
  let count = 0;
  while (count < n) {
    const nl = from >= 0 ? data.lastIndexOf(NEWLINE, from) : -1;
    count++;
    start = nl + 1;
    if (nl < 0) break;
    from = nl - 1;
  }
  return { lines: data.subarray(start), count };
}

/**
 * The end of the open file fd as its size is now, read backwards a chunk
 * at a time until what is read holds more than n newlines (enough for n
 * lines), reaches the start of the file, or is maxBytes long: the bytes,
 * the offset they start at, and the size the file had.
 */
export function readEnd(fd: number, n: number, maxBytes = Infinity): { data: Buffer; from: number; size: number } {
  const size = fs.fstatSync(fd).size;
  let from = size;
  const chunks: Buffer[] = [];
  let newlines = 0;
  while (from > 0 && newlines <= n && size - from < maxBytes) {
    const len = Math.min(CHUNK, from);
    from -= len;
    const buf = Buffer.alloc(len);
    const got = fs.readSync(fd, buf, 0, len, from);
    const read = buf.subarray(0, got);
    chunks.unshift(read);
    // indexOf, not a loop over the bytes (a 64 KiB chunk in the interpreter at start-up), and no further than needed
    for (let i = read.indexOf(NEWLINE); i >= 0 && newlines <= n; i = read.indexOf(NEWLINE, i + 1)) newlines++;
  }
  return { data: Buffer.concat(chunks), from, size };
}
