// How ps, pidof, pgrep and killall see a long-running program: as they see
// the C tool, whose /proc/PID/cmdline is its argv (`supervise\0sv/a\0`) and
// whose /proc/PID/comm is its name; not `node .../dist/supervise.js sv/a`.
//
// - The argv memory area [arg_start, arg_end) (from /proc/self/stat) is free
//   once libuv has copied argv at start: the C argv goes there, written
//   through /proc/self/mem as exact bytes (process.title would write one
//   string, spaces for NULs, and re-encode bytes that are not UTF-8), then
//   NULs over the rest. It always fits: the area held node's path, the
//   bundle's path and the same arguments.
// - The kernel shows the whole area while its last byte is NUL, so those
//   NULs would read as empty trailing arguments: arg_end moves to the end
//   of the new argv with prctl(PR_SET_MM, PR_SET_MM_MAP) (koffi, lib/os/sys.ts),
//   which needs no capability (unlike PR_SET_MM_ARG_END) where the kernel
//   has CONFIG_CHECKPOINT_RESTORE. Where it fails, cmdline keeps the NULs:
//   argv[0] and comm are still right, so pidof, pgrep -x, ps -C, killall
//   and `ps -o args` are unaffected; only a reader of the argument count
//   (or `pgrep -f 'x$'`) sees empty arguments at the end.
// - comm (ps -o comm, pgrep, ps -C) is written to /proc/self/comm: Node's
//   process.title setter would name the process after the title's start.
// Nothing here may stop a program: every failure leaves things as they were.
// Call it once at start-up, after lib/os/raw-argv.ts has the arguments (it may
// read them from /proc/self/cmdline, which this rewrites).
import fs from 'node:fs';

/** When the end of the argument area moves (the prctl needs koffi, about 4 ms to load where not loaded anyway). */
export type EndFix = 'now' | 'never';

// /proc/PID/stat fields (1-based, as in proc(5)) that struct prctl_mm_map needs
const START_CODE = 26;
const END_CODE = 27;
const START_STACK = 28;
const START_DATA = 45;
const END_DATA = 46;
const START_BRK = 47;
const ARG_START = 48;
const ARG_END = 49;
const ENV_START = 50;
const ENV_END = 51;

/**
 * Fields 1..51 of /proc/self/stat as numbers (index = field number), parsed
 * from the bytes: start-up cost counts, and a first toString or split would
 * cost more than the rest together. undefined if unreadable.
 */
function readStat(): number[] | undefined {
  // open, read, close: the calls the other two files need too
  const buf = new Uint8Array(1024);
  let n = 0;
  let fd = -1;
  try {
    fd = fs.openSync('/proc/self/stat', 'r');
    n = fs.readSync(fd, buf, 0, buf.length, null);
  } catch {
    return undefined;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
  // fields after `(comm)` (which may hold anything) start with field 3
  let i = n - 1;
  while (i >= 0 && buf[i] !== 0x29) i--;
  if (i < 0) return undefined;
  const fields: number[] = [0, 0, 0];
  let value = 0;
  for (i += 3; i < n && fields.length <= ENV_END; i++) {
    const c = buf[i];
    if (c === 0x20 || c === 0x0a) {
      fields.push(value);
      value = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      // user-space addresses are below 2^47 (2^56 with 5-level paging): exact as numbers
      value = value * 10 + (c - 0x30);
    } else {
      value = NaN; // state letter, a negative number: not an address
    }
  }
  if (fields.length <= ENV_END) return undefined;
  return fields[ARG_START] > 0 && fields[ARG_END] > fields[ARG_START] ? fields : undefined;
}

/** Where this process's argv area starts (/proc/self/stat, field 48) and how long it is; undefined if unreadable. */
export function argArea(): { start: number; size: number } | undefined {
  const f = readStat();
  return f ? { start: f[ARG_START], size: f[ARG_END] - f[ARG_START] } : undefined;
}

/** Writes bytes at position in file (opened for writing); false if it cannot. */
function writeAt(file: string, bytes: Buffer | string, position: number | null): boolean {
  let fd = -1;
  try {
    fd = fs.openSync(file, 'r+');
    const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    return fs.writeSync(fd, data, 0, data.length, position) === data.length;
  } catch {
    return false;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/**
 * The argv area of size bytes holding prog and args as the C tool's argv
 * (each NUL-terminated, NULs after them), and the length of that argv;
 * undefined if it does not fit.
 */
export function argvArea(prog: string, args: readonly Buffer[], size: number): { area: Buffer; length: number } | undefined {
  const name = Buffer.from(prog);
  let length = name.length + 1;
  for (const a of args) length += a.length + 1;
  if (length > size) return undefined;
  const area = Buffer.alloc(size);
  let at = name.copy(area) + 1;
  for (const a of args) at += a.copy(area, at) + 1;
  return { area, length };
}

/** Moves arg_end (prctl PR_SET_MM_MAP, every other field as it is); false if refused. */
function setArgEnd(f: number[], argEnd: number): boolean {
  // struct prctl_mm_map: 11 u64 addresses, the auxv pointer, u32 auxv_size, u32 exe_fd
  // (as 32-bit halves, little-endian: plain arithmetic, no BigInt at start-up)
  const words = new Uint32Array(26);
  const values = [f[START_CODE], f[END_CODE], f[START_DATA], f[END_DATA], f[START_BRK], 0 /* brk: filled in by sys */,
    f[START_STACK], f[ARG_START], argEnd, f[ENV_START], f[ENV_END]];
  for (let i = 0; i < values.length; i++) {
    if (!Number.isSafeInteger(values[i])) return false;
    words[2 * i] = values[i] % 0x100000000;
    words[2 * i + 1] = Math.floor(values[i] / 0x100000000);
  }
  // auxv NULL, auxv_size 0: the auxiliary vector stays; exe_fd -1: /proc/PID/exe stays (that one would need a capability)
  words[25] = 0xffffffff;
  const map = Buffer.from(words.buffer);
  try {
    // loaded here only: the filters never load lib/sys otherwise
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('./sys') as typeof import('./sys')).prctlSetMmMap(map);
    return true;
  } catch {
    return false;
  }
}

/**
 * Shows this process as the C tool `prog args...` (args: the raw bytes, as
 * lib/os/raw-argv.ts gives them, read before this call). end 'never' leaves
 * arg_end (and koffi) alone: cmdline then ends with empty arguments.
 */
export function showAs(prog: string, args: readonly Buffer[], end: EndFix = 'now'): void {
  setComm(prog);
  const f = readStat();
  if (!f) return;
  const start = f[ARG_START];
  const size = f[ARG_END] - start;
  const argv = argvArea(prog, args, size);
  if (!argv) return; // cannot happen (see above): keep Node's own
  // the bytes first: the end moves over bytes already in place
  if (!writeAt('/proc/self/mem', argv.area, start)) return;
  if (end === 'now' && argv.length < size) setArgEnd(f, start + argv.length);
}

/** Names the process prog (/proc/PID/comm, 15 bytes at most): what ps -o comm, ps -C, pgrep and killall match. */
export function setComm(prog: string): void {
  // no /proc: cosmetic only
  writeAt('/proc/self/comm', prog, null);
}

/** After each change of process.title: the command name back to prog (Node sets it to the title's start). */
export const restoreComm = setComm;

/**
 * For a filter (tai64n, tai64nlocal): 'never' when stdin is a regular file
 * or a memory device such as /dev/null, which end (loading koffi, about 4
 * ms, would only slow a run that ends with them), else 'now'.
 */
const MEM_MAJOR = 1;

export function endFixForInput(): EndFix {
  try {
    const st = fs.fstatSync(0);
    // a regular file ends with the file, and so is /dev/null read (a memory
    // device, major 1: null, zero, full, random): not worth koffi's load
    if (st.isFile()) return 'never';
    if (st.isCharacterDevice() && Math.floor(st.rdev / 256) % 4096 === MEM_MAJOR) return 'never';
    return 'now';
  } catch {
    return 'now';
  }
}
