// Diagnostics in daemontools' words: errno wording, fatal/warning/usage
// messages on stderr, and the exit codes 111 (temporary/system failure) and
// 100 (usage, or "no" answers).
import fs from 'node:fs';

export const EXIT_USAGE = 100;
export const EXIT_FAIL = 111;

const wording: Record<string, string> = {
  EPERM: 'permission denied',
  ENOENT: 'file does not exist',
  ESRCH: 'no such process',
  EINTR: 'interrupted system call',
  EIO: 'input/output error',
  ENXIO: 'device not configured',
  E2BIG: 'argument list too long',
  ENOEXEC: 'exec format error',
  EBADF: 'file descriptor not open',
  ECHILD: 'no child processes',
  EAGAIN: 'temporary failure',
  EWOULDBLOCK: 'temporary failure',
  ENOMEM: 'out of memory',
  EACCES: 'access denied',
  EFAULT: 'bad address',
  ENOTBLK: 'not a block device',
  EBUSY: 'device busy',
  EEXIST: 'file already exists',
  EXDEV: 'cross-device link',
  ENODEV: 'device does not support operation',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EINVAL: 'invalid argument',
  ENFILE: 'system cannot open more files',
  EMFILE: 'process cannot open more files',
  ENOTTY: 'not a tty',
  ETXTBSY: 'text busy',
  EFBIG: 'file too big',
  ENOSPC: 'out of disk space',
  ESPIPE: 'unseekable descriptor',
  EROFS: 'read-only file system',
  EMLINK: 'too many links',
  EPIPE: 'broken pipe',
  EDOM: 'input out of range',
  ERANGE: 'output out of range',
  EDEADLK: 'deadlock',
  ENOLCK: 'no locks available',
  ENOSYS: 'system call not available',
  ELOOP: 'symbolic link loop',
  ENAMETOOLONG: 'file name too long',
  ENOTEMPTY: 'directory not empty',
  EDQUOT: 'disk quota exceeded',
  ESTALE: 'stale NFS file handle',
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'timed out',
  ENOTSOCK: 'not a socket',
};

/** An error carrying an errno code name, like Node's system errors. */
export class SysError extends Error {
  constructor(public readonly code: string, public readonly syscall: string, public readonly errno: number) {
    super(`${syscall}: ${code}`);
  }
}

export function errnoCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}

/** daemontools' wording for an error (by its errno code). */
export function reason(err: unknown): string {
  const code = errnoCode(err);
  if (code && wording[code]) return wording[code];
  if (code) return 'error';
  return err instanceof Error ? err.message : String(err);
}

/**
 * Write to fd 2 and survive anything (closed stderr, EPIPE, EAGAIN).
 * 'latin1': text is a string of bytes (one character per byte), written as they are.
 */
export function writeStderr(text: string, encoding: 'utf8' | 'latin1' = 'utf8'): void {
  try {
    fs.writeSync(2, text, null, encoding);
  } catch {
    // a supervisor's own diagnostics must never kill it
  }
}

export class Diag {
  /** encoding 'latin1': messages are strings of bytes (names taken from the raw arguments), written as they are. */
  constructor(public readonly prog: string, public readonly encoding: 'utf8' | 'latin1' = 'utf8') {}

  warn(what: string, err?: unknown): void {
    writeStderr(`${this.prog}: warning: ${what}${err === undefined ? '' : `: ${reason(err)}`}\n`, this.encoding);
  }

  fatal(what: string, err?: unknown, code: number = EXIT_FAIL): never {
    writeStderr(`${this.prog}: fatal: ${what}${err === undefined ? '' : `: ${reason(err)}`}\n`, this.encoding);
    process.exit(code);
  }

  /** `PROG: usage: PROG ARGS` then exit (100 unless the C tool uses another code). */
  usage(args: string, code: number = EXIT_USAGE): never {
    writeStderr(`${this.prog}: usage: ${this.prog} ${args}\n`, this.encoding);
    process.exit(code);
  }
}
