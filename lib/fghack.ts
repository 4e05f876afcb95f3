// fghack's work: start a child holding 30 copies of a pipe's write end,
// wait until every copy is closed, then for the child's exit status.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { Diag, SysError, errnoCode } from './errors';
import { searchPath } from './exec';
import { spawnWithLimits } from './limits';
import * as sys from './sys';

const COPIES = 30;

/**
 * Whether the kernel would run file (ELF or `#!`): Node's spawn would run
 * anything else through /bin/sh, where the C tools report ENOEXEC. A file
 * that cannot be read is given the benefit of the doubt.
 */
function looksExecutable(file: string): boolean {
  const head = Buffer.alloc(4);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return true;
  }
  try {
    const n = fs.readSync(fd, head, 0, 4, 0);
    if (n >= 2 && head[0] === 0x23 && head[1] === 0x21) return true;
    return n === 4 && head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } catch {
    return true;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The file exec would run for prog, found as the C tools search PATH, by
 * probing instead of executing (fghack's child is started by Node's spawn).
 */
export function findProgram(prog: string): string {
  const pathValue = process.env.PATH === undefined ? undefined : Buffer.from(process.env.PATH);
  let saved: unknown;
  for (const candidate of searchPath(Buffer.from(prog), pathValue)) {
    const file = candidate.toString();
    try {
      if (fs.statSync(file).isDirectory()) throw new SysError('EACCES', 'execve', 13);
      fs.accessSync(file, fs.constants.X_OK);
      if (!looksExecutable(file)) throw new SysError('ENOEXEC', 'execve', 8);
      return file;
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT') continue;
      saved = e;
      if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EISDIR') break;
    }
  }
  throw saved ?? new SysError('ENOENT', 'execve', 2);
}

/** Runs args as fghack does; resolves to the exit code fghack exits with. */
export async function runHeldOpen(diag: Diag, args: readonly string[]): Promise<number> {
  const prog = args[0];
  let file: string;
  try {
    file = findProgram(prog);
  } catch (e) {
    diag.fatal(`unable to run ${prog}`, e);
  }
  let fds: [number, number];
  try {
    fds = sys.pipe2(sys.O_CLOEXEC);
  } catch (e) {
    diag.fatal('unable to create pipe', e);
  }
  const [readEnd, writeEnd] = fds;
  const argv = [file, ...args.slice(1)];
  const child = spawnWithLimits(argv, (finalArgv) =>
    spawn(finalArgv[0], finalArgv.slice(1), {
      stdio: ['inherit', 'inherit', 'inherit', ...new Array<number>(COPIES).fill(writeEnd)],
      argv0: finalArgv === argv ? prog : finalArgv[0],
    }),
  );
  const exited = new Promise<number>((resolve) => {
    child.on('error', (e) => diag.fatal(`unable to run ${prog}`, e));
    child.on('exit', (code, signal) => {
      if (signal !== null || code === null) diag.fatal('child crashed');
      resolve(code);
    });
  });
  fs.closeSync(writeEnd);
  const buf = Buffer.allocUnsafe(256);
  for (;;) {
    try {
      if (fs.readSync(readEnd, buf, 0, buf.length, null) === 0) break;
    } catch (e) {
      if (errnoCode(e) === 'EAGAIN' || errnoCode(e) === 'EINTR') continue;
      diag.fatal('unable to read pipe', e);
    }
  }
  fs.closeSync(readEnd);
  return exited;
}
