// The arguments exactly as given. Node decodes argv as UTF-8 and turns bytes
// that are not UTF-8 into U+FFFD, so a name made of such bytes could be
// neither found nor printed as the C tools do. Here the arguments come back
// as their bytes (Buffers, or "byte strings": latin1, one char per byte),
// from /proc/self/cmdline when Node's decoding lost something; the common
// case costs no system call. Also: byte strings as fs paths, as libc's
// C strings and as text, and /proc's NUL-separated lists.
import fs from 'node:fs';

/** The entries of a NUL-separated /proc file (cmdline, environ). */
export function splitNul(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  // indexOf, not a loop over the bytes: at start-up a loop runs in the interpreter (0.3-0.8 ms for 1.5 kB)
  for (let i = data.indexOf(0); i >= 0; i = data.indexOf(0, start)) {
    out.push(data.subarray(start, i));
    start = i + 1;
  }
  if (start < data.length) out.push(data.subarray(start));
  return out;
}

export function readProc(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

let argvBytes: Buffer[] | undefined;

/**
 * The raw bytes of process.argv.slice(1), worked out once: Node decodes
 * argv as UTF-8, turning bytes that are not into U+FFFD, so only then is
 * /proc/self/cmdline read (and used when it matches what Node parsed);
 * otherwise Node's strings re-encoded are the same bytes.
 */
function argvRaw(): Buffer[] {
  if (argvBytes) return argvBytes;
  const args = process.argv.slice(1);
  if (args.some((a) => a.includes('\uFFFD'))) {
    const cmdline = readProc('/proc/self/cmdline');
    const words = cmdline ? splitNul(cmdline) : [];
    // cmdline is node, its flags, the script, then process.argv.slice(2)
    const offset = 1 + process.execArgv.length;
    if (words.length === offset + args.length) argvBytes = words.slice(offset);
  }
  argvBytes ??= args.map((a) => Buffer.from(a));
  return argvBytes;
}

/** The raw bytes of process.argv.slice(from) (from >= 1). */
export function rawArgs(from: number): Buffer[] {
  return argvRaw().slice(from - 1);
}

/**
 * process.argv.slice(from) as strings of bytes (latin1: one character per
 * byte): names the C tools would use and print exactly as given, UTF-8 or not.
 */
export function byteArgs(from: number): string[] {
  return rawArgs(from).map((b) => b.toString('latin1'));
}

/** A byte string as fs calls take it: the UTF-8 string when it decodes cleanly, else the bytes. */
export function fsPath(bytes: string): string | Buffer {
  const buf = Buffer.from(bytes, 'latin1');
  const text = buf.toString('utf8');
  return Buffer.from(text).equals(buf) ? text : buf;
}

/**
 * A byte string as a `const char *` of a libc call through koffi: as it is
 * when it is ASCII (koffi's UTF-8 is then the same bytes), else its bytes,
 * NUL-terminated.
 */
export function cBytes(bytes: string): string | Buffer {
  // as many UTF-8 bytes as characters: ASCII
  return Buffer.byteLength(bytes) === bytes.length ? bytes : Buffer.from(`${bytes}\0`, 'latin1');
}

/** A byte string as readable text (for JSON): invalid bytes become U+FFFD. */
export function displayText(bytes: string): string {
  return Buffer.from(bytes, 'latin1').toString('utf8');
}
