// Byte strings (lib/raw-argv.ts: one char per byte, latin1) where a name
// meets the file system, JSON, or a descriptor.
import fs from 'node:fs';

/** A byte string as fs calls take it: the UTF-8 string when it decodes cleanly, else the bytes. */
export function fsPath(bytes: string): string | Buffer {
  const buf = Buffer.from(bytes, 'latin1');
  const text = buf.toString('utf8');
  return Buffer.from(text).equals(buf) ? text : buf;
}

/** A byte string as readable text (for JSON): invalid bytes become U+FFFD. */
export function displayText(bytes: string): string {
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** Writes a byte string to fd, ignoring every failure (diagnostics must never kill). */
export function writeBytes(fd: number, bytes: string): void {
  try {
    fs.writeSync(fd, Buffer.from(bytes, 'latin1'));
  } catch {
    // nothing to report to
  }
}
