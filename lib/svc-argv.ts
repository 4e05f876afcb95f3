// Directory arguments exactly as given. Node decodes argv as UTF-8 and turns
// bytes that are not UTF-8 into U+FFFD, so a service directory with such a
// name could be neither found nor printed. Here every argument is a "byte
// string" (one char per byte, latin1), taken from /proc/self/cmdline when
// Node's decoding lost something, and written back with latin1. The common
// case costs no system call.
import fs from 'node:fs';

/** `args` (the last args.length words of process.argv) as byte strings. */
export function byteArgs(args: readonly string[]): string[] {
  if (args.some((a) => a.includes('\uFFFD'))) {
    const raw = cmdlineTail(args.length);
    if (raw) return raw;
  }
  return args.map((a) => Buffer.from(a).toString('latin1'));
}

// cmdline is node, its flags, the script, then the arguments, each ended by NUL
function cmdlineTail(n: number): string[] | undefined {
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/cmdline', 'latin1');
  } catch {
    return undefined;
  }
  const words = text.endsWith('\0') ? text.slice(0, -1).split('\0') : text.split('\0');
  if (words.length !== 1 + process.execArgv.length + process.argv.length - 1) return undefined;
  return words.slice(words.length - n);
}

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
