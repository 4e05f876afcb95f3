// Shared by the multilog tests: TAI64N labels masked, a directory tree as
// comparable lines, and a run of the C multilog and ours on the same case.
import assert from 'node:assert/strict';
import { ChildProcess, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bin, cbin, endOf, Procs } from './helpers';

const LABEL = /@[0-9a-f]{24}/g;

/** Text (a Buffer as latin1) with every @TAI64N label replaced by @LABEL. */
export function mask(b: Buffer | string): string {
  return (typeof b === 'string' ? b : b.toString('latin1')).replace(LABEL, '@LABEL');
}

/** Every file under dir: masked name, type, mode, masked contents (in name order). */
export function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const name of fs.readdirSync(d).sort()) {
      const full = path.join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(full);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.push(`${mask(r)} -> ${fs.readlinkSync(full)}`);
      else if (st.isDirectory()) {
        out.push(`${mask(r)}/ ${mode}`);
        walk(full, r);
      } else if (st.isFIFO()) out.push(`${mask(r)} fifo ${mode}`);
      else out.push(`${mask(r)} ${mode} ${st.size} ${mask(fs.readFileSync(full))}`);
    }
  };
  walk(dir, '');
  return out;
}

export interface Case {
  args: readonly string[];
  input: Buffer | string;
  /** prepares the working directory (the same for both programs) */
  setup?: (work: string) => void;
  /** the run pauses forever: stop it once stderr has this many lines, compare those (and the files then) */
  stopAfterLines?: number;
  /** runs the program as nobody (through the C setuidgid) */
  asNobody?: boolean;
}

export interface Outcome {
  code: number | null;
  stderr: string;
  tree: string[] | undefined;
}

/** Runs prog on the case's input (a regular file, so the C tool's reads are deterministic) in a fresh working directory. */
function runCase(procs: Procs, prog: string, c: Case): Promise<Outcome> {
  const dir = procs.tmpdir('ml-');
  fs.chmodSync(dir, 0o755);
  const inFile = path.join(dir, '.input');
  fs.writeFileSync(inFile, c.input);
  const work = path.join(dir, 'w');
  fs.mkdirSync(work);
  c.setup?.(work);
  if (c.asNobody) fs.chownSync(work, 65534, 65534);
  const fd = fs.openSync(inFile, 'r');
  const [cmd, args] = c.asNobody ? [cbin('setuidgid'), ['nobody', prog, ...c.args]] : [prog, [...c.args]];
  return new Promise((resolve, reject) => {
    const child: ChildProcess = procs.start(cmd, args, { cwd: work, stdio: [fd, 'ignore', 'pipe'] });
    fs.closeSync(fd);
    let err = '';
    const lines = (): number => err.split('\n').length - 1;
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString('latin1');
      if (c.stopAfterLines !== undefined && lines() >= c.stopAfterLines) child.kill('SIGKILL');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (c.stopAfterLines !== undefined) {
        resolve({ code: null, stderr: err.split('\n').slice(0, c.stopAfterLines).join('\n'), tree: snapshot(work) });
      } else {
        resolve({ code, stderr: err, tree: snapshot(work) });
      }
    });
  });
}

/** Runs the case with the C multilog and ours; returns the C outcome after checking ours is the same. */
export async function compareWithC(procs: Procs, c: Case): Promise<Outcome> {
  const [theirs, ours] = await Promise.all([runCase(procs, cbin('multilog'), c), runCase(procs, bin('multilog'), c)]);
  const what = `multilog ${c.args.join(' ')}`;
  assert.equal(mask(ours.stderr), mask(theirs.stderr), `${what}: stderr`);
  assert.equal(ours.code, theirs.code, `${what}: exit code`);
  assert.deepEqual(ours.tree, theirs.tree, `${what}: directory contents`);
  return theirs;
}

// ---- for the tests of the actions beyond 0.76 (S, a, T) ----

const ISO = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9}/g;

/** Text with every @TAI64N label and every `T` stamp (YYYY-MM-DD HH:MM:SS.NNNNNNNNN) masked. */
export function maskAll(b: Buffer | string): string {
  return mask(b).replace(ISO, 'ISO');
}

/** Numbered lines `TAG NNNNNN` padded with `q` to `width` bytes (newline included). */
export function numbered(from: number, to: number, tag: string, width = 100): string {
  let s = '';
  for (let i = from; i < to; i++) {
    const head = `${tag} ${String(i).padStart(6, '0')} `;
    s += `${head}${'q'.repeat(Math.max(0, width - head.length - 1))}\n`;
  }
  return s;
}

/** The archived files (@…) of a log directory, oldest first. */
export function archivedNames(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.startsWith('@')).sort();
}

/** Everything a log directory holds, oldest first: the @… files by name, then current. */
export function logged(dir: string): string {
  const names = archivedNames(dir);
  if (fs.existsSync(path.join(dir, 'current'))) names.push('current');
  return names.map((n) => fs.readFileSync(path.join(dir, n), 'latin1')).join('');
}

/** Bytes taken by the archived files (@…, previous, processed). */
export function archivedBytes(dir: string): number {
  return fs.readdirSync(dir)
    .filter((n) => n.startsWith('@') || n === 'previous' || n === 'processed')
    .reduce((sum, n) => sum + fs.statSync(path.join(dir, n)).size, 0);
}

/** `current`'s text, or undefined while there is none. */
export function currentOf(dir: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, 'current'), 'latin1');
  } catch {
    return undefined;
  }
}

/** The @… files (names masked) and current, with their (masked) contents: what two loggers must agree on. */
export function archiveView(dir: string, unpack: (b: Buffer) => Buffer = (b) => b): string[] {
  const out = archivedNames(dir).map((n) => `${mask(n)} ${maskAll(unpack(fs.readFileSync(path.join(dir, n))))}`);
  out.push(`current ${maskAll(fs.readFileSync(path.join(dir, 'current')))}`);
  return out;
}

/** A logger reading a pipe (ours, the C multilog, s6-log), driven line by line by a test. */
export class Logger {
  readonly child: ChildProcess;
  stderr = '';

  constructor(procs: Procs, cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.child = procs.start(cmd, args, { ...opts, stdio: ['pipe', 'ignore', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString('latin1')));
  }

  get pid(): number {
    return this.child.pid!;
  }

  write(text: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.child.stdin!.write(text, (e) => (e ? reject(e) : resolve())));
  }

  /** Closes its input and waits for its exit; resolves with the exit code. */
  async end(): Promise<number | null | undefined> {
    this.child.stdin!.end();
    return (await endOf(this.child))?.code;
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }
}

/** The main thread's voluntary context switches (its wakeups), from /proc. */
export function wakeups(pid: number): number {
  const m = /voluntary_ctxt_switches:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
  assert.ok(m, 'voluntary_ctxt_switches in /proc/PID/status');
  return Number(m[1]);
}

/** A small tmpfs (size in kB) mounted on a fresh directory; unmount with unmountAll. */
export function smallDisk(mounts: string[], prefix: string, kb: number): string {
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', mnt]);
  mounts.push(mnt);
  return mnt;
}

export function unmountAll(mounts: string[]): void {
  for (const m of mounts) {
    try {
      execFileSync('umount', [m]);
    } catch {
      try {
        execFileSync('umount', ['-l', m]);
      } catch {
        // not mounted
      }
    }
    fs.rmSync(m, { recursive: true, force: true });
  }
}

/** Fills the file system of `file` to the last byte with that file; returns it (unlink it to free the space). */
export function fillUp(file: string): string {
  const fd = fs.openSync(file, 'w');
  const block = Buffer.alloc(4096, 0x66);
  try {
    for (;;) fs.writeSync(fd, block);
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
  }
  for (;;) {
    try {
      fs.writeSync(fd, block.subarray(0, 1));
    } catch {
      break;
    }
  }
  fs.closeSync(fd);
  return file;
}

/** A log directory whose `current` was finished (mode 0744) by an earlier run, holding text. */
export function finishedCurrent(dir: string, text: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'current'), text);
  fs.chmodSync(path.join(dir, 'current'), 0o744);
}
