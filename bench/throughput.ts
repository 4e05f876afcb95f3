// Throughput: multilog (with and without timestamps and rotation, with the
// beyond actions T and S), tai64n and tai64nlocal on the same input of
// numbered 100-byte lines; the output is checked line by line (numbers
// consecutive up to the last input line). The C multilog ignores T and S:
// beside T it runs t (its way of stamping), beside S the same script
// without the cap (nothing removed).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Ctx } from './context';
import { C, missing, OURS, prog, Suite, SUITES } from './suites';
import { addRow, asFastAsC } from './table';
import { checkAborted, errorText, median, nowMs } from './util';

const LINE = 100;
/** A run that takes longer is killed (and reported as failed). */
const TIMEOUT_MS = 300000;
const FILLER = 'x'.repeat(LINE - 12);

function makeInput(file: string, lines: number): void {
  const fd = fs.openSync(file, 'w');
  try {
    const perChunk = 10000;
    for (let i = 0; i < lines; i += perChunk) {
      let s = '';
      for (let j = i; j < Math.min(lines, i + perChunk); j++) s += `${String(j).padStart(10, '0')} ${FILLER}\n`;
      fs.writeSync(fd, s);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Runs cmd with stdin from a file and stdout to a file (or nowhere); resolves with the wall time. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, input: string, output?: string): Promise<number> {
  const inFd = fs.openSync(input, 'r');
  const outFd = output ? fs.openSync(output, 'w') : 'ignore';
  return new Promise<number>((resolve, reject) => {
    const t0 = nowMs();
    const child = spawn(cmd, args, { env, cwd, stdio: [inFd, outFd, 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (err.length < 500) err += d.toString('latin1');
    });
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      const ms = nowMs() - t0;
      if (code === 0) resolve(ms);
      else reject(new Error(`${path.basename(cmd)} ${args.join(' ')}: exit ${code ?? sig}${err ? `: ${err.trim()}` : ''}`));
    });
  }).finally(() => {
    fs.closeSync(inFd);
    if (typeof outFd === 'number') fs.closeSync(outFd);
  });
}

/** Checks that text holds consecutive numbered lines ending with line `last`; returns how many. */
function checkNumbered(text: string, stamp: RegExp, last: number): number {
  const lines = text.split('\n');
  if (lines.pop() !== '') throw new Error('output does not end with a newline');
  if (lines.length === 0) throw new Error('no output');
  let expect = -1;
  for (const line of lines) {
    const m = stamp.exec(line);
    if (!m) throw new Error(`unexpected line: ${line.slice(0, 60)}`);
    const n = Number(line.slice(m[0].length, m[0].length + 10));
    if (expect >= 0 && n !== expect) throw new Error(`line ${expect} missing (found ${n})`);
    expect = n + 1;
  }
  if (expect - 1 !== last) throw new Error(`last line is ${expect - 1}, not ${last}`);
  return lines.length;
}

const TAI = /^@[0-9a-f]{24} /;
const LOCAL = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} /;
const ISO = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} {2}/;
const NONE = /^/;

/** The kept log: finished files in order, then current. */
function readLog(dir: string): string {
  const files = fs.readdirSync(dir).filter((f) => /^@[0-9a-f]{24}\.[su]$/.test(f)).sort();
  return [...files, 'current'].map((f) => fs.readFileSync(path.join(dir, f), 'latin1')).join('');
}

/** Counts the lines of a big file and checks its first and last lines. */
function checkFile(file: string, stamp: RegExp, lines: number): void {
  const text = fs.readFileSync(file, 'latin1');
  let count = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) count++;
  if (count !== lines) throw new Error(`${count} lines out, ${lines} in`);
  const lastStart = text.lastIndexOf('\n', text.length - 2) + 1;
  checkNumbered(text.slice(0, text.indexOf('\n') + 1), stamp, 0);
  checkNumbered(text.slice(lastStart), stamp, lines - 1);
}

interface Tool {
  figure: string;
  prog: string;
  budget: boolean;
  /** Runs once; returns the wall time after checking the output. */
  run(s: Suite, work: string): Promise<number>;
}

export async function throughput(ctx: Ctx): Promise<void> {
  const work = path.join(ctx.root, 'throughput');
  fs.mkdirSync(work, { recursive: true });
  const lines = Math.round((ctx.p.throughputMB * 1e6) / LINE);
  const input = path.join(work, 'input');
  const stamped = path.join(work, 'stamped');
  ctx.log(`throughput: writing ${ctx.p.throughputMB} MB of input`);
  makeInput(input, lines);
  await timed(prog(C, 'tai64n'), [], C.env, work, input, stamped);

  /** cArgs, cStamp: what the C multilog runs instead (the same by default) */
  const multilog = (args: string[], stamp: RegExp, cArgs = args, cStamp = stamp) => async (s: Suite, dir: string): Promise<number> => {
    const log = path.join(dir, 'log');
    fs.rmSync(log, { recursive: true, force: true });
    const c = s === C;
    const ms = await timed(prog(s, 'multilog'), [...(c ? cArgs : args), './log'], s.env, dir, input);
    // what S leaves is the end of the input: the check starts at its first line
    checkNumbered(readLog(log), c ? cStamp : stamp, lines - 1);
    fs.rmSync(log, { recursive: true, force: true });
    return ms;
  };
  const filter = (name: string, from: string, stamp: RegExp) => async (s: Suite, dir: string): Promise<number> => {
    const out = path.join(dir, 'out');
    const ms = await timed(prog(s, name), [], s.env, dir, from, out);
    checkFile(out, stamp, lines);
    fs.rmSync(out, { force: true });
    return ms;
  };
  const tools: Tool[] = [
    { figure: 'multilog t s16777215 n5 ./dir', prog: 'multilog', budget: true, run: multilog(['t', 's16777215', 'n5'], TAI) },
    { figure: 'multilog T s16777215 n5 ./dir (C: t)', prog: 'multilog', budget: true, run: multilog(['T', 's16777215', 'n5'], ISO, ['t', 's16777215', 'n5'], TAI) },
    { figure: 'multilog t s16777215 n5 S40000000 ./dir (C: no S)', prog: 'multilog', budget: true, run: multilog(['t', 's16777215', 'n5', 'S40000000'], TAI, ['t', 's16777215', 'n5'], TAI) },
    { figure: 'multilog ./dir', prog: 'multilog', budget: true, run: multilog([], NONE) },
    { figure: 'tai64n', prog: 'tai64n', budget: true, run: filter('tai64n', input, TAI) },
    { figure: 'tai64nlocal', prog: 'tai64nlocal', budget: false, run: filter('tai64nlocal', stamped, LOCAL) },
  ];

  const times = new Map<Tool, Record<Suite['name'], number[]>>(tools.map((t) => [t, { ours: [], C: [] }]));
  const errors = new Map<string, string>(); // "suite tool" → why
  for (let round = 0; round < ctx.p.throughputRounds; round++) {
    for (const t of tools) {
      for (const s of SUITES) {
        const key = `${s.name} ${t.figure}`;
        if (errors.has(key)) continue;
        checkAborted();
        ctx.log(`throughput: ${key}, round ${round + 1}/${ctx.p.throughputRounds}`);
        try {
          const why = missing(s, t.prog);
          if (why) throw new Error(why);
          times.get(t)![s.name].push(await t.run(s, work));
        } catch (e) {
          errors.set(key, `${key}: ${errorText(e)}`);
        }
      }
    }
  }
  fs.rmSync(work, { recursive: true, force: true });

  const section = `Throughput, ${ctx.p.throughputMB} MB of 100-byte lines`;
  for (const t of tools) {
    const x = times.get(t)!;
    const sec = (xs: number[]): number | undefined => (xs.length ? median(xs)! / 1000 : undefined);
    const why = (s: Suite): string | undefined => errors.get(`${s.name} ${t.figure}`);
    const note = SUITES.map(why).filter((w) => w).join('; ') || undefined;
    addRow({ section, figure: t.figure, unit: 's', digits: 2, ours: why(OURS) ? undefined : sec(x.ours), c: why(C) ? undefined : sec(x.C), budget: t.budget ? asFastAsC : undefined, note });
  }
}
