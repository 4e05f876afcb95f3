// svwait, svc -W and the lifecycle lines of svstat: service scripts whose
// readiness and ./finish the test releases (by creating a file), s6's
// supervisor beside ours, and when a waiting program is listening.
import fs from 'node:fs';
import path from 'node:path';
import { Procs, run, waitFor, writeExecutable } from './helpers';
import { makeService } from './fixtures/service';

/** Debian's s6 (the reference for beyond-0.76 features). */
export const S6 = '/usr/bin';

export function s6(name: string): string {
  const p = path.join(S6, name);
  if (!fs.existsSync(p)) throw new Error(`s6 is not installed (${p}): apt-get install -y s6`);
  return p;
}

/** ./run that tells readiness on fd 3 (notification-fd) once ./go exists, then sleeps. */
export const READY_RUN = '#!/bin/sh\nwhile [ ! -e go ]; do sleep 0.02; done\necho >&3\nexec sleep 1000\n';
/** ./finish that ends once ./finish-go exists. */
export const HELD_FINISH = '#!/bin/sh\nwhile [ ! -e finish-go ]; do sleep 0.02; done\n';

export interface LifecycleOptions {
  /** notification-fd 3 and READY_RUN (else a sleeper) */
  ready?: boolean;
  /** ./finish held until finish-go exists */
  finish?: boolean;
}

/** A service dir `name` under root with the lifecycle files asked for. */
export function lifecycleService(root: string, name: string, opts: LifecycleOptions = {}): string {
  const dir = makeService(path.join(root, name), opts.ready ? READY_RUN : '#!/bin/sh\nexec sleep 1000\n');
  if (opts.ready) fs.writeFileSync(path.join(dir, 'notification-fd'), '3\n');
  if (opts.finish) {
    writeExecutable(path.join(dir, 'finish'), HELD_FINISH);
    // not killed after the 5 s default while a test holds it
    fs.writeFileSync(path.join(dir, 'timeout-finish'), '60000\n');
  }
  return dir;
}

/** Releases what a lifecycle service holds back: readiness (go) or ./finish (finish-go). */
export function release(dir: string, what: 'go' | 'finish-go'): void {
  fs.writeFileSync(path.join(dir, what), '');
}

/** The pid s6-svstat gives for dir (0 when down). */
export async function s6Pid(dir: string): Promise<number> {
  const r = await run(s6('s6-svstat'), ['-o', 'pid', dir]);
  const pid = Number(r.stdout.trim());
  return pid > 0 ? pid : 0;
}

/**
 * s6-supervise on dir in a session of its own; its ./run (a session
 * leader of its own under s6) is registered for cleanup once up.
 */
export async function startS6(procs: Procs, dir: string, up = true): Promise<void> {
  procs.start(s6('s6-supervise'), [dir], { detached: true });
  await waitFor(() => fs.existsSync(path.join(dir, 'supervise', 'status')), `s6-supervise ${dir}`);
  if (!up) return;
  const pid = await waitFor(() => s6Pid(dir), `${dir} up under s6`);
  procs.adopt(pid);
  procs.adopt(pid, true);
}

/** Whether process pid has an inotify descriptor (a waiter's watch is set). */
export function watching(pid: number): boolean {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:inotify';
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}
