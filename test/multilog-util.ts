// Shared by the multilog tests: TAI64N labels masked, a directory tree as
// comparable lines, and a run of the C multilog and ours on the same case.
import assert from 'node:assert/strict';
import { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { bin, cbin, Procs } from './helpers';

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
