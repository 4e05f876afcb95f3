// Service directories for the benchmark, and reading their state.
import fs from 'node:fs';
import path from 'node:path';
import { readStatus } from '../lib/control/service';
import { writeExecutable } from './util';

/** A service that runs forever doing nothing (and ignores SIGHUP, for svc -h). */
export const IDLE_RUN = "#!/bin/sh\ntrap '' HUP\nexec sleep 100000\n";
/** Marks the moment the run script starts, then idles. */
export const MARKING_RUN = '#!/bin/sh\n: > started\nexec sleep 100000\n';

export function makeService(dir: string, run = IDLE_RUN): string {
  fs.mkdirSync(dir, { recursive: true });
  writeExecutable(path.join(dir, 'run'), run);
  return dir;
}

export function makeServices(parent: string, n: number, prefix = 's', run = IDLE_RUN): string[] {
  return Array.from({ length: n }, (_, i) => makeService(path.join(parent, `${prefix}${i}`), run));
}

/** The pid supervise reports for dir (0: down); undefined while there is no status. */
export function statusPid(dir: string): number | undefined {
  try {
    return readStatus(dir)?.pid;
  } catch {
    return undefined;
  }
}

export function isUp(dir: string): boolean {
  return (statusPid(dir) ?? 0) !== 0;
}
