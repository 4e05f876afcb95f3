// Test support for the service-tree tests (svscan, svscanboot): building
// service directories, finding the processes of a tree through /proc, and
// stopping every one of them whatever happens.
import { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, CBIN, Procs, alive, waitFor, writeExecutable } from './helpers';

export const SLEEPER = '#!/bin/sh\nexec sleep 1000\n';
/** Writes numbered lines to stdout, and the last number written to ./count. */
export const COUNTER = '#!/bin/sh\ni=0\nwhile :; do i=$((i+1)); echo "line $i"; echo $i > count; sleep 0.02; done\n';
/** A log service: appends its input to ./out. */
export const CATLOG = '#!/bin/sh\nexec cat >> out\n';

/** PATH with our programs first ('ours') or the C daemontools first ('c'). */
export function pathFor(first: 'ours' | 'c'): string {
  const rest = (process.env.PATH ?? '/usr/bin:/bin').split(':').filter((d) => d !== BIN && d !== CBIN);
  return (first === 'ours' ? [BIN, CBIN, ...rest] : [CBIN, BIN, ...rest]).join(':');
}

export function makeService(dir: string, run = SLEEPER, logRun?: string): string {
  fs.mkdirSync(dir, { recursive: true });
  writeExecutable(path.join(dir, 'run'), run);
  if (logRun !== undefined) {
    fs.mkdirSync(path.join(dir, 'log'), { recursive: true });
    writeExecutable(path.join(dir, 'log', 'run'), logRun);
  }
  return dir;
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  argv: string[];
  cwd: string;
}

export function procInfo(pid: number): ProcInfo | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z') return undefined;
    // as ps shows it: our supervise and svscan rewrite their title to `supervise NAME` (test paths have no spaces)
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split(/[\0 ]/).filter((a) => a !== '');
    return { pid, ppid: Number(rest[1]), pgrp: Number(rest[2]), argv, cwd: fs.readlinkSync(`/proc/${pid}/cwd`) };
  } catch {
    return undefined;
  }
}

export function allProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const p = procInfo(Number(e));
    if (p) out.push(p);
  }
  return out;
}

/** The zombie children of ppid: exited, not reaped (yet). */
export function zombieChildren(ppid: number): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'latin1');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (rest[0] === 'Z' && Number(rest[1]) === ppid) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

/** Whether argv is a supervise: the C one or ours (`supervise NAME`; `node .../supervise.js NAME` before its title is set). */
export function isSuperviseArgv(argv: string[]): boolean {
  return argv.slice(0, 2).some((a) => path.basename(a) === 'supervise' || path.basename(a) === 'supervise.js');
}

/** The supervise processes whose parent is pid. */
export function superviseChildren(pid: number): ProcInfo[] {
  return allProcs().filter((p) => p.ppid === pid && isSuperviseArgv(p.argv));
}

/** Every live supervise process running in dir (its cwd). */
export function supervisesIn(dir: string): ProcInfo[] {
  const real = fs.realpathSync(dir);
  return allProcs().filter((p) => p.cwd === real && isSuperviseArgv(p.argv));
}

/** The pid in dir/supervise/status (0 when down or unreadable). */
export function statusPid(dir: string): number {
  try {
    const b = fs.readFileSync(path.join(dir, 'supervise', 'status'));
    return b.length >= 18 ? b.readUInt32LE(12) : 0;
  } catch {
    return 0;
  }
}

export async function waitUp(dir: string, what = dir, timeoutMs = 10000): Promise<number> {
  return waitFor(() => {
    const pid = statusPid(dir);
    return pid && alive(pid) ? pid : 0;
  }, `${what} up`, timeoutMs);
}

/**
 * Waits until dir/supervise/running names pid: our supervisors write it
 * once ./run's exec is over (lib/supervise/adopt.ts), a moment after the
 * status names it. Only then can a supervisor killed adopt it.
 */
export async function waitRecorded(dir: string, pid: number, timeoutMs = 5000): Promise<void> {
  await waitFor(() => {
    try {
      return fs.readFileSync(path.join(dir, 'supervise', 'running'), 'latin1').startsWith(`${pid} `);
    } catch {
      return false;
    }
  }, `${dir}: the record of ./run ${pid}`, timeoutMs);
}

/** The pipe inodes among the open descriptors of pid: fd number → inode. */
export function pipeFds(pid: number): Map<number, string> {
  const out = new Map<number, string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^pipe:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.set(Number(fd), m[1]);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/**
 * Kills (SIGKILL) every process whose cwd is under one of roots: the
 * supervise processes and services of a test tree, wherever they ended up
 * (a killed svscan's children are re-parented).
 */
export function killUnder(roots: string[]): void {
  const reals = roots.map((r) => {
    try {
      return fs.realpathSync(r);
    } catch {
      return r;
    }
  });
  for (const p of allProcs()) {
    if (p.pid === process.pid) continue;
    if (reals.some((r) => p.cwd === r || p.cwd.startsWith(r + '/'))) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

export interface Tree {
  child: ChildProcess;
  pid: number;
  /** svscan's stderr (and stdout), as written so far. */
  output(): string;
}

let outputs = 0;

/** Starts `svscan dir` (cmd: ours by default) in its own process group, with output to a file in logDir. */
export function startSvscan(procs: Procs, dir: string, logDir: string, opts: { cmd?: string; args?: string[]; PATH?: string; env?: NodeJS.ProcessEnv } = {}): Tree {
  const file = path.join(logDir, `svscan-${process.pid}-${++outputs}.out`);
  const fd = fs.openSync(file, 'w');
  const child = procs.start(opts.cmd ?? path.join(BIN, 'svscan'), opts.args ?? [dir], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...opts.env, PATH: opts.PATH ?? pathFor('ours') },
  });
  fs.closeSync(fd);
  if (!child.pid) throw new Error('svscan did not start');
  return { child, pid: child.pid, output: () => fs.readFileSync(file, 'latin1') };
}

/** Resolves with the exit of child (immediately if it already exited). */
export function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/**
 * A fresh directory for one test's tree (`dir`, removed by procs.cleanup) with the
 * subdirectories named, remembered in `roots` so that killUnder(roots)
 * finds whatever the test left running there.
 */
export function treeRoot<K extends string>(procs: Procs, roots: string[], prefix: string, subdirs: readonly K[]): Record<K | 'dir', string> {
  const r = procs.tmpdir(prefix);
  roots.push(r);
  const out = { dir: r } as Record<K | 'dir', string>;
  for (const d of subdirs) {
    out[d] = path.join(r, d === 'scan' ? 'service' : d);
    fs.mkdirSync(out[d]);
  }
  return out;
}
