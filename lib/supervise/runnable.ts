// Whether the kernel would run ./run: the checks supervise makes before a
// start, so that a file execve refuses is reported in execve's words (libuv's
// exec, like glibc's execvp, would run it through /bin/sh instead).
import fs from 'node:fs';
import os from 'node:os';

const ELF = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** e_machine values (with their EI_CLASS) the kernel runs on each Node arch; others are not judged. */
const MACHINES: Partial<Record<string, Array<[number, number]>>> = {
  x64: [[2, 62], [1, 62], [1, 3]], // x86-64, x32, i386
  ia32: [[1, 3]],
  arm64: [[2, 183], [1, 40]], // AArch64, arm
  arm: [[1, 40]],
};

/**
 * Whether the kernel's ELF loader could take this header (zero-padded, as
 * it reads it): type executable or shared object, a machine of this host.
 * A truncated file or a binary for another architecture gets ENOEXEC from
 * execve, which libuv's exec would answer by running it through /bin/sh.
 */
function runnableElf(head: Buffer): boolean {
  const le = os.endianness() === 'LE';
  const type = le ? head.readUInt16LE(16) : head.readUInt16BE(16);
  if (type !== 2 && type !== 3) return false;
  const machines = MACHINES[process.arch];
  if (!machines) return true;
  const machine = le ? head.readUInt16LE(18) : head.readUInt16BE(18);
  return machines.some(([cls, m]) => cls === head[4] && m === machine);
}

/**
 * libuv's exec, like glibc's execvp, runs a file the kernel refuses with
 * ENOEXEC (no `#!`, not ELF, or a `#!` interpreter so refused) through
 * /bin/sh; the C supervise's plain execve reports "exec format error"
 * instead, and so do we. Anything this check cannot read, or that a
 * binfmt_misc handler might run, is left for the exec to judge.
 */
export function checkFormat(dir: string, prefixed: boolean, program = 'run'): void {
  if (refusedFormat(dir, `${dir}/${program}`, 0, prefixed) && !binfmtMiscHandlers()) {
    throw Object.assign(new Error('exec format error'), { code: 'ENOEXEC' });
  }
}

/** How many `#!` interpreters deep the kernel follows (it fails beyond, with ELOOP). */
const SCRIPT_DEPTH = 4;

/**
 * Whether execve of file (cwd dir) would fail with ENOEXEC, as far as can be
 * told; false when unsure. `prefixed`: ./run goes through a shell, whose
 * exec would report a missing or unusable `#!` interpreter in its own words;
 * that error is thrown here instead, as execve gives it.
 */
function refusedFormat(dir: string, file: string | Buffer, depth: number, prefixed: boolean): boolean {
  if (prefixed && depth > 0) checkExecutable(file);
  const head = readHead(file);
  if (!head) return false;
  if (head.length >= 2 && head[0] === 0x23 && head[1] === 0x21) {
    if (depth >= SCRIPT_DEPTH) return false;
    const interp = interpreter(head.subarray(2));
    if (interp.length === 0) return true;
    const next = interp[0] === 0x2f ? interp : Buffer.concat([Buffer.from(`${dir}/`), interp]);
    return refusedFormat(dir, next, depth + 1, prefixed);
  }
  const elf = Buffer.alloc(BINPRM_BUF); // zero-padded, as the kernel reads it
  head.copy(elf);
  return head.length < 4 || !elf.subarray(0, 4).equals(ELF) || !runnableElf(elf);
}

/** The first bytes of an executable regular file; undefined when it is not one or cannot be read. */
function readHead(file: string | Buffer): Buffer | undefined {
  let fd: number;
  try {
    fs.accessSync(file, fs.constants.X_OK);
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch {
    return undefined;
  }
  try {
    if (!fs.fstatSync(fd).isFile()) return undefined;
    const head = Buffer.alloc(BINPRM_BUF);
    return head.subarray(0, fs.readSync(fd, head, 0, BINPRM_BUF, 0));
  } catch {
    return undefined; // unreadable: the exec decides
  } finally {
    fs.closeSync(fd);
  }
}

/** What the kernel reads of a file to judge it. */
const BINPRM_BUF = 256;

/** The interpreter named on a `#!` line (what follows `#!`): blanks skipped, up to a blank, newline or NUL. */
function interpreter(line: Buffer): Buffer {
  let i = 0;
  while (i < line.length && (line[i] === 0x20 || line[i] === 0x09)) i++;
  let j = i;
  while (j < line.length && line[j] !== 0x20 && line[j] !== 0x09 && line[j] !== 0x0a && line[j] !== 0) j++;
  return line.subarray(i, j);
}

/** Whether the kernel has extra binary formats registered (then it may run what we would refuse). */
function binfmtMiscHandlers(): boolean {
  try {
    return fs.readdirSync('/proc/sys/fs/binfmt_misc').some((f) => f !== 'register' && f !== 'status');
  } catch {
    return false;
  }
}

/** Throws what execve would for a file it cannot run at all (missing, not executable, not a regular file). */
export function checkExecutable(file: string | Buffer): void {
  fs.accessSync(file, fs.constants.X_OK);
  if (!fs.statSync(file).isFile()) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
}
