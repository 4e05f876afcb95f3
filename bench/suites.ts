// The two implementations measured side by side: this suite (./bin) and the
// C daemontools from Debian (/usr/bin). Each runs with its own directory
// first in PATH, so that svscan finds its own supervise and chain-loaders
// find their own successors.
import fs from 'node:fs';
import path from 'node:path';
import { MARK_NAME } from './procs';

export const ROOT = path.resolve(__dirname, '..');

export interface Suite {
  name: 'ours' | 'C';
  dir: string;
  env: NodeJS.ProcessEnv;
}

function pathWithout(dirs: string[]): string[] {
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').filter((d) => d && !dirs.includes(path.resolve(d)));
}

function suite(name: Suite['name'], dir: string): Suite {
  const PATH = [dir, ...pathWithout([path.join(ROOT, 'bin'), dir])].join(':');
  return { name, dir, env: { ...process.env, PATH, [MARK_NAME]: String(process.pid) } };
}

export const OURS = suite('ours', path.join(ROOT, 'bin'));

/** Measures the programs of another directory as "ours" (to check the benchmark itself). */
export function setOursDir(dir: string): void {
  Object.assign(OURS, suite('ours', path.resolve(dir)));
}
export const C = suite('C', '/usr/bin');
export const SUITES: readonly Suite[] = [OURS, C];

export function prog(s: Suite, name: string): string {
  return path.join(s.dir, name);
}

/** Why a program cannot be measured (undefined if it can). */
export function missing(s: Suite, name: string): string | undefined {
  const p = prog(s, name);
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return undefined;
  } catch {
    return `${p} missing`;
  }
}

/** The cases one of whose programs (ours) is missing, each with why: they are not timed. */
export function missingCases<T extends { needs: readonly string[] }>(cases: readonly T[]): Map<T, string> {
  const notes = new Map<T, string>();
  for (const c of cases) {
    const why = c.needs.map((n) => missing(OURS, n)).find((m) => m);
    if (why) notes.set(c, why);
  }
  return notes;
}

/** env without NODE_EXTRA_CA_CERTS, whose certificates Node parses at every start. */
export function withoutCa(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  delete out.NODE_EXTRA_CA_CERTS;
  return out;
}
