// Shared test utilities: paths, running programs, waiting on conditions
// (never fixed sleeps), temporary directories and process cleanup.
import { spawn, ChildProcess, SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { resetReservedSignals } from '../lib/os/sys';

// GNU make (`make test`) leaves glibc's signals 32 and 33 ignored in what it
// starts, and libuv's spawn resets only 1-31: every program a test starts,
// ours and the C ones alike, would inherit them. Tests start from what a
// shell gives.
resetReservedSignals();

export const ROOT = path.resolve(__dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin');
/** Where Debian's daemontools puts the C programs (the oracle). */
export const CBIN = '/usr/bin';

export function bin(name: string): string {
  return path.join(BIN, name);
}

export function cbin(name: string): string {
  const p = path.join(CBIN, name);
  if (!fs.existsSync(p)) throw new Error(`the C daemontools is not installed (${p}): apt-get install -y daemontools`);
  return p;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions extends SpawnOptions {
  input?: string | Buffer;
  timeoutMs?: number;
}

/** Runs a program to completion (killed after timeoutMs) and collects its output. */
export function run(cmd: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('latin1'), stderr: Buffer.concat(err).toString('latin1') });
    });
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(opts.input ?? '');
  });
}

/** Polls `cond` until it returns a truthy value, or fails after timeoutMs. */
export async function waitFor<T>(cond: () => T | Promise<T>, what: string, timeoutMs = 10000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A fresh temporary directory, removed by cleanup(). */
export function tmpdir(prefix = 'dtn-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Keeps track of the processes a test starts so that they are stopped even
 * when the test fails: `const procs = new Procs(); after(() => procs.cleanup())`.
 */
export class Procs {
  private children: ChildProcess[] = [];
  private pids = new Set<number>();
  private groups = new Set<number>();
  private dirs: string[] = [];

  start(cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn(cmd, args, { stdio: 'ignore', ...opts });
    child.on('error', () => undefined);
    this.children.push(child);
    if (opts.detached && child.pid) this.groups.add(child.pid);
    return child;
  }

  /** A pid (or process group, when group is true) to kill at cleanup. */
  adopt(pid: number, group = false): void {
    (group ? this.groups : this.pids).add(pid);
  }

  tmpdir(prefix?: string): string {
    const d = tmpdir(prefix);
    this.dirs.push(d);
    return d;
  }

  async cleanup(): Promise<void> {
    for (const g of this.groups) {
      try {
        process.kill(-g, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const p of this.pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const waits = this.children
      .filter((c) => c.exitCode === null && c.signalCode === null)
      .map((c) => new Promise<void>((r) => {
        c.once('exit', () => r());
        try {
          c.kill('SIGKILL');
        } catch {
          r();
        }
        setTimeout(r, 3000);
      }));
    await Promise.all(waits);
    for (const d of this.dirs) fs.rmSync(d, { recursive: true, force: true });
    this.children = [];
    this.pids.clear();
    this.groups.clear();
    this.dirs = [];
  }
}

export interface Ending {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Resolves with the exit code (or signal) of a child, or undefined after timeoutMs. */
export function exitOf(child: ChildProcess, timeoutMs = 30000): Promise<Ending | undefined> {
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

/**
 * exitOf, then the child's stdout and stderr read to their end: 'exit' can
 * come before the last of what it wrote is read. Bounded by drainMs, as a
 * descendant that outlives it holds the pipes open.
 */
export async function endOf(child: ChildProcess, timeoutMs = 30000, drainMs = 2000): Promise<Ending | undefined> {
  const ending = await exitOf(child, timeoutMs);
  const open = [child.stdout, child.stderr].filter((s): s is Readable => s !== null && !s.closed);
  if (ending && open.length > 0) {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs)));
    await Promise.race([Promise.all(open.map((s) => new Promise((resolve) => s.once('close', resolve)))), bound]);
    clearTimeout(timer);
  }
  return ending;
}

/** Whether a pid is alive and not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

export function writeExecutable(file: string, text: string): void {
  fs.writeFileSync(file, text, { mode: 0o755 });
}

/** Everything that can be read from a non-blocking descriptor now (until EAGAIN or end of file). */
export function readAvailable(fd: number): Buffer {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    let n = 0;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
      throw e;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks);
}
