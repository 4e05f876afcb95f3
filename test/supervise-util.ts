// Shared by the supervise tests: a service directory, a supervise started
// in its own session (so cleanup kills it and ./run by process group), and
// reading supervise/status.
import { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { bin, Procs, waitFor, writeExecutable } from './helpers';
import { decodeStatus, Status } from '../lib/supervise/status';
import { rawStatus } from './svc-fixtures';

export interface Supervised {
  child: ChildProcess;
  dir: string;
  /** Everything supervise wrote to stderr so far. */
  stderr(): string;
}

/** A service directory with `run` (a script text) and optional extra files. */
export function makeService(procs: Procs, run: string | undefined, extra: Record<string, string> = {}): string {
  const dir = path.join(procs.tmpdir('dtn-sup-'), 'svc');
  fs.mkdirSync(dir);
  if (run !== undefined) writeExecutable(path.join(dir, 'run'), run);
  for (const [name, text] of Object.entries(extra)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

export interface StartOptions {
  prog?: string;
  args?: string[];
  cwd?: string;
}

/** Starts PROG dir (ours by default) in a new session; stderr collected. */
export function startSupervise(procs: Procs, dir: string, opts: StartOptions = {}): Supervised {
  const child = procs.start(opts.prog ?? bin('supervise'), opts.args ?? [dir], {
    detached: true,
    cwd: opts.cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const err: Buffer[] = [];
  child.stderr!.on('data', (d: Buffer) => err.push(d));
  return { child, dir, stderr: () => Buffer.concat(err).toString('latin1') };
}

export function status(dir: string): Status | undefined {
  try {
    return decodeStatus(rawStatus(dir));
  } catch {
    return undefined;
  }
}

/** Waits until supervise/status satisfies pred; returns it. */
export function waitStatus(dir: string, pred: (s: Status) => boolean, what: string, timeoutMs = 10000): Promise<Status> {
  return waitFor<Status | undefined>(() => {
    const s = status(dir);
    return s && pred(s) ? s : undefined;
  }, what, timeoutMs) as Promise<Status>;
}

/** Waits for the service to be up with a pid different from `not`; registers the pid for cleanup. */
export async function waitUp(procs: Procs, dir: string, not = 0, timeoutMs = 10000): Promise<number> {
  const s = await waitStatus(dir, (st) => st.pid !== 0 && st.pid !== not, `service up in ${dir}`, timeoutMs);
  procs.adopt(s.pid);
  return s.pid;
}

/** Writes bytes to supervise/control directly (like svc, without blocking). */
export function control(dir: string, bytes: string | Buffer): void {
  const fd = fs.openSync(path.join(dir, 'supervise', 'control'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  try {
    fs.writeSync(fd, typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  } finally {
    fs.closeSync(fd);
  }
}

/** Resolves with the exit code (or signal) of a child, or undefined after timeoutMs. */
export function exitOf(child: ChildProcess, timeoutMs = 10000): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/** A run script (sh) that logs every catchable signal it gets to sig.log and keeps running. */
export const TRAP_RUN = `#!/bin/sh
for s in HUP INT QUIT USR1 USR2 ALRM TERM CONT WINCH; do trap "echo $s >> sig.log" $s; done
echo "start $$" >> sig.log
while :; do sleep 60 & wait $!; done
`;

export function readLog(dir: string, name = 'sig.log'): string[] {
  try {
    return fs.readFileSync(path.join(dir, name), 'utf8').split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}

/** The entries of a supervise/ directory (our info and running, and NAME.new, aside): name, file type and mode in octal, one a line. */
export function superviseListing(dir: string): string {
  return fs.readdirSync(dir).filter((f) => f !== 'info' && f !== 'running' && !f.endsWith('.new')).sort().map((f) => {
    const st = fs.lstatSync(path.join(dir, f));
    return `${f} ${(st.mode & 0o170000).toString(8)} ${(st.mode & 0o7777).toString(8)}`;
  }).join('\n');
}
