// Every process the benchmark starts, and stopping all of them: at the end,
// on failure and on Ctrl-C. Long-running programs get their own process
// group; every process carries a marker in its environment, and anything
// still marked (or running inside the benchmark's temporary directory) at
// the end is killed and reported.
import { ChildProcess, spawn, spawnSync, SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import { findProcs } from './procinfo';
import { sleepSync } from './util';

export const MARK_NAME = 'DAEMONTOOLS_NODE_BENCH';
export const MARK = `${MARK_NAME}=${process.pid}`;

const CSVC = '/usr/bin/svc';

export class Procs {
  private groups = new Set<number>();
  /** Service directories to take down (svc -dx) before the kill. */
  private services = new Set<string>();

  constructor(readonly root: string) {}

  /** Starts a long-running program in a new process group (and session). */
  start(cmd: string, args: readonly string[], opts: SpawnOptions): ChildProcess {
    const child = spawn(cmd, args, { stdio: 'ignore', ...opts, detached: true });
    child.on('error', () => undefined);
    const pid = child.pid;
    if (pid) {
      // once the leader is reaped its number may be reused: its group is then
      // no longer signalled (what is left of it is found by the marker)
      this.groups.add(pid);
      child.on('exit', () => this.groups.delete(pid));
    }
    child.unref();
    return child;
  }

  addServices(dirs: readonly string[]): void {
    for (const d of dirs) this.services.add(d);
  }

  /**
   * Stops one tree: svscan or supervise `leader` (a group started here) and
   * the services in `dirs`; waits for everything running under `under`.
   */
  stopTree(leader: number | undefined, dirs: readonly string[], under: string): string[] {
    const groups = leader !== undefined && this.groups.has(leader) ? [leader] : [];
    for (const g of groups) signal(g, 'SIGTERM');
    svcDownExit(dirs);
    for (const d of dirs) this.services.delete(d);
    return this.reap(under, groups);
  }

  /** Stops everything; returns descriptions of processes that would not die. */
  stopAll(): string[] {
    for (const g of this.groups) signal(g, 'SIGTERM');
    svcDownExit([...this.services]);
    this.services.clear();
    return this.reap(this.root, [...this.groups]);
  }

  /** TERM the groups and the processes found; KILL what remains after a grace period. */
  private reap(under: string, groups: number[]): string[] {
    const find = (): number[] => findProcs(under, under === this.root ? MARK : undefined);
    for (const g of groups) signal(-g, 'SIGTERM');
    let pids = find();
    for (const p of pids) signal(p, 'SIGTERM');
    const deadline = Date.now() + 3000;
    while (pids.length && Date.now() < deadline) {
      sleepSync(50);
      pids = find();
    }
    for (const g of groups) signal(-g, 'SIGKILL');
    for (const p of pids) signal(p, 'SIGKILL');
    if (pids.length) sleepSync(200);
    return find().map(describe);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function svcDownExit(dirs: readonly string[]): void {
  const existing = dirs.filter((d) => fs.existsSync(`${d}/supervise/control`));
  for (let i = 0; i < existing.length; i += 100) {
    spawnSync(CSVC, ['-dx', ...existing.slice(i, i + 100)], { stdio: 'ignore', timeout: 5000 });
  }
}

function describe(pid: number): string {
  let cmd = '?';
  try {
    cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim();
  } catch {
    // gone
  }
  return `${pid} ${cmd}`;
}
