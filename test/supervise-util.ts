// Shared by the supervise tests: a service directory, a supervise started
// in its own session (so cleanup kills it and ./run by process group), and
// reading supervise/status.
import { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { bin, Procs, waitFor, writeExecutable } from './helpers';
import { decodeStatus, Status } from '../lib/supervise/status';
import { okAnswers, rawStatus } from './svc-fixtures';

/**
 * How a service is supervised: by a supervise process (`process`), or by
 * `svscan --host` on a directory holding only a link to it (`host`).
 */
export type Mode = 'process' | 'host';
export const MODES: readonly Mode[] = ['process', 'host'];

export interface Supervised {
  /** The supervise process, or in host mode the svscan holding the supervisor. */
  child: ChildProcess;
  dir: string;
  mode: Mode;
  /** Everything supervise (or the host) wrote to stderr so far. */
  stderr(): string;
  /** Whether the supervisor of dir still runs. */
  running(): boolean;
  /** When the supervisor ended (x): a supervise process's exit; a hosted one's end (ok no longer answers). */
  ended(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined>;
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
  mode?: Mode;
}

/** Starts PROG dir (ours by default) in a new session, or in host mode svscan --host; stderr collected. */
export function startSupervise(procs: Procs, dir: string, opts: StartOptions = {}): Supervised {
  const mode = opts.mode ?? 'process';
  let argv = [opts.prog ?? bin('supervise'), ...(opts.args ?? [dir])];
  if (mode === 'host') {
    const scan = procs.tmpdir('dtn-host-sup-');
    fs.symlinkSync(dir, path.join(scan, 'svc'));
    argv = [bin('svscan'), '--host', scan];
  }
  const child = procs.start(argv[0], argv.slice(1), {
    detached: true,
    cwd: opts.cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const err: Buffer[] = [];
  child.stderr!.on('data', (d: Buffer) => err.push(d));
  return {
    child,
    dir,
    mode,
    stderr: () => Buffer.concat(err).toString('latin1'),
    running: () => (mode === 'host' ? okAnswers(dir) : child.exitCode === null && child.signalCode === null),
    ended: async (timeoutMs = 10000) => {
      if (mode === 'process') return exitOf(child, timeoutMs);
      // svscan takes the directory again at its next scan, 5 seconds on
      await waitFor(() => !okAnswers(dir), 'the hosted supervisor to end', timeoutMs, 5);
      return { code: 0, signal: null };
    },
  };
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
