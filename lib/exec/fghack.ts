// fghack's work: start a child holding 31 copies of a pipe's write end,
// wait until every copy is closed, then for the child's exit status.
import { isUtf8 } from 'node:buffer';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { Diag, SysError, errnoCode } from '../os/errors';
import { launcherRecord, nodeSignalsAsInC, rawEnvironment, searchPath } from './exec';
import { spawnWithLimits } from './limits';
import { trapIgnored } from './pass-on';
import { noPwdPrelude } from './sh-wrap';
import * as sys from '../os/sys';

// the C fghack's child holds 31: the pipe's write end and 30 duplicates
const COPIES = 31;

const ELF = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
// the kernel reads this much of a file to find its `#!` line, and follows at most this many
const HEAD = 256;
const MAX_INTERPRETERS = 5;

/** The interpreter a `#!` head names ('' if none), or undefined if head is not a script. */
function interpreterOf(head: Buffer): string | undefined {
  if (head.length < 2 || head[0] !== 0x23 || head[1] !== 0x21) return undefined;
  const line = head.subarray(2).toString('latin1').split(/[\n\0]/, 1)[0];
  return line.trim().split(/[ \t]/, 1)[0];
}

/**
 * Throws the error execve would give for file (a directory, not executable,
 * neither ELF nor `#!`, an interpreter that cannot run): Node's spawn would
 * run some of these through /bin/sh, or lose the error. A file that cannot
 * be read is given the benefit of the doubt.
 */
function checkExecutable(file: Buffer, depth = 0): void {
  if (fs.statSync(file).isDirectory()) throw new SysError('EACCES', 'execve', 13);
  fs.accessSync(file, fs.constants.X_OK);
  const head = Buffer.alloc(HEAD);
  let n: number;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      n = fs.readSync(fd, head, 0, HEAD, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return;
  }
  if (n >= 4 && head.subarray(0, 4).equals(ELF)) return;
  const interpreter = interpreterOf(head.subarray(0, n));
  if (!interpreter) throw new SysError('ENOEXEC', 'execve', 8);
  if (depth >= MAX_INTERPRETERS) throw new SysError('ELOOP', 'execve', 40);
  checkExecutable(Buffer.from(interpreter, 'latin1'), depth + 1);
}

/**
 * The file exec would run for prog, found as the C tools search PATH, by
 * probing instead of executing (fghack's child is started by Node's spawn).
 * prog and the file are strings of bytes (latin1).
 */
export function findProgram(prog: string): string {
  const pathValue = process.env.PATH === undefined ? undefined : Buffer.from(process.env.PATH);
  let saved: unknown;
  for (const candidate of searchPath(Buffer.from(prog, 'latin1'), pathValue)) {
    try {
      checkExecutable(candidate);
      return candidate.toString('latin1');
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT') continue;
      saved = e;
      if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EISDIR') break;
    }
  }
  throw saved ?? new SysError('ENOENT', 'execve', 2);
}

/**
 * Descriptors 3 and up of the child, as the C fghack's child has them: the
 * inherited ones where they are, the copies of the pipe on the lowest free
 * numbers.
 */
function childFds(writeEnd: number, inherited: readonly number[]): number[] {
  const out: number[] = [];
  let copies = 0;
  for (let fd = 3; copies < COPIES; fd++) {
    if (inherited.includes(fd)) {
      out.push(fd);
    } else {
      out.push(writeEnd);
      copies++;
    }
  }
  return out;
}

const utf8 = (bytes: string): string => Buffer.from(bytes, 'latin1').toString();

/**
 * A /bin/sh script that sets "$@" to exactly these byte strings: Node passes
 * spawn's arguments as UTF-8, the shell's printf makes any byte (a sentinel
 * keeps the trailing newlines command substitution would drop).
 */
function setArgsScript(args: readonly string[]): string {
  return `set --; ${args.map((a) => `a=$(printf '${octal(a)}X'); set -- "$@" "\${a%X}"; `).join('')}`;
}

const octal = (s: string): string => [...Buffer.from(s, 'latin1')].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');

/**
 * The same for variables (`NAME=VALUE` strings of bytes) whose value Node
 * would pass as UTF-8: exported by the shell with their exact bytes. (Names
 * are shell names: the launcher's sh passed no other.)
 */
function exportScript(entries: readonly string[]): string {
  return entries
    .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])
    .filter(([name]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    .map(([name, value]) => `a=$(printf '${octal(value)}X'); export ${name}="\${a%X}"; `)
    .join('');
}

/** Runs args (strings of bytes) as fghack does; resolves to the exit code fghack exits with. */
export async function runHeldOpen(diag: Diag, args: readonly string[]): Promise<number> {
  nodeSignalsAsInC();
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
  const record = launcherRecord();
  const [readEnd, lowWriteEnd] = fds;
  // libuv's child first moves a descriptor numbered below a slot it fills to
  // above the last slot, once per such slot: a write end above every slot is
  // only dup2'ed, so the child needs no more descriptors than the C fghack's
  // (an open-files limit of 35 is enough)
  let writeEnd = lowWriteEnd;
  try {
    writeEnd = sys.fcntl(lowWriteEnd, sys.F_DUPFD_CLOEXEC, 3 + childFds(lowWriteEnd, record.fds).length);
    sys.close(lowWriteEnd);
  } catch {
    // where it is, then
  }
  const command = [file, ...args.slice(1)];
  const rawEnv = rawEnvironment().filter((e) => !isUtf8(e)).map((e) => e.toString('latin1'));
  const exact = rawEnv.length === 0 && command.every((a) => isUtf8(Buffer.from(a, 'latin1')));
  // signals ignored by our caller stay ignored in the child, as through the
  // C fghack's fork and exec (Node's spawn resets them): through sh's trap
  const ignoredTrap = trapIgnored();
  const trap = ignoredTrap ? `${ignoredTrap}; ` : '';
  const noPwd = noPwdPrelude();
  const argv = !exact
    ? ['/bin/sh', '-c', `${noPwd}${trap}${exportScript(rawEnv)}${setArgsScript(command)}exec "$@"`]
    : trap
      ? ['/bin/sh', '-c', `${noPwd}${trap}exec "$@"`, 'sh', ...command.map(utf8)]
      : command.map(utf8);
  let child: ChildProcess;
  try {
    child = spawnWithLimits(argv, (finalArgv) =>
      spawn(finalArgv[0], finalArgv.slice(1), {
        stdio: ['inherit', 'inherit', 'inherit', ...childFds(writeEnd, record.fds)],
        argv0: finalArgv === argv && exact && !trap ? utf8(prog) : finalArgv[0],
      }),
    );
  } catch (e) {
    // Node throws what it does not report as an 'error' event (EINVAL from
    // the child's descriptor moves under a tiny open-files limit)
    diag.fatal(`unable to run ${prog}`, e);
  }
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
