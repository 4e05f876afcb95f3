// Figures under svscan: new-service detection, start-up of 50 and 200
// services, memory per supervise, and idle cost. Our svscan runs with ./bin
// first in PATH, the C one with /usr/bin first, each on its own directory;
// ours is measured twice, with a supervise process per service and in host
// mode (`svscan --host`: no supervise process at all).
import fs from 'node:fs';
import path from 'node:path';
import { Ctx } from './context';
import { activity, Activity, alive, childrenOf, memory, Memory } from './procinfo';
import { unsupervisedStart } from './floor';
import { isUp, makeService, makeServices, MARKING_RUN } from './services';
import { C, missing, OURS, prog, Suite, SUITES } from './suites';
import { addRow, atMost, both, hostAtMost, Row } from './table';
import { checkAborted, errorText, median, nowMs, sleep, until } from './util';

/** What is measured: the C svscan, ours, ours in host mode. */
export interface Variant {
  key: 'ours' | 'C' | 'host';
  suite: Suite;
  host: boolean;
}

export const VARIANTS: readonly Variant[] = [
  { key: 'ours', suite: OURS, host: false },
  { key: 'host', suite: OURS, host: true },
  { key: 'C', suite: C, host: false },
];

export interface Tree {
  suite: Suite;
  host: boolean;
  /** Everything of this tree is under base (the stop finds its processes by cwd). */
  base: string;
  scan: string;
  dirs: string[];
  svscan?: number;
}

let trees = 0;

function makeTree(ctx: Ctx, v: Variant | Suite, n: number): Tree {
  const { suite, host } = 'key' in v ? v : { suite: v, host: false };
  const base = path.join(ctx.root, `scan${++trees}-${suite.name}${host ? '-host' : ''}`);
  const scan = path.join(base, 'service');
  fs.mkdirSync(scan, { recursive: true });
  return { suite, host, base, scan, dirs: makeServices(scan, n) };
}

export function startScan(ctx: Ctx, t: Tree): void {
  const why = missing(t.suite, 'svscan') ?? missing(t.suite, 'supervise');
  if (why) throw new Error(why);
  ctx.procs.addServices(t.dirs);
  const child = ctx.procs.start(prog(t.suite, 'svscan'), [...(t.host ? ['--host'] : []), t.scan], { env: t.suite.env, cwd: t.scan });
  t.svscan = child.pid;
}

export function stopTree(ctx: Ctx, t: Tree): void {
  const left = ctx.procs.stopTree(t.svscan, t.dirs, t.base);
  if (left.length) ctx.log(`warning: still running after stopping ${t.suite.name} svscan: ${left.join(', ')}`);
  fs.rmSync(t.base, { recursive: true, force: true });
}

/** Milliseconds from t0 until every service of the tree is up. */
async function allUp(t: Tree, t0: number, timeoutMs: number): Promise<number> {
  let pending = t.dirs;
  return until(() => {
    if (t.svscan !== undefined && !alive(t.svscan)) throw new Error('svscan died');
    pending = pending.filter((d) => !isUp(d));
    return pending.length === 0;
  }, `${t.dirs.length} services up under ${t.suite.name} svscan`, t0, timeoutMs, 50).catch((e: unknown) => {
    throw new Error(`${errorText(e)} (${t.dirs.length - pending.length} were)`);
  });
}

/** Starts svscan on n services and returns the tree with the time until all are up. */
export async function scaleOnce(ctx: Ctx, v: Variant, n: number): Promise<{ tree: Tree; ms: number; cpuMs: number }> {
  const tree = makeTree(ctx, v, n);
  try {
    const t0 = nowMs();
    startScan(ctx, tree);
    const ms = await allUp(tree, t0, 60000);
    // what starting cost in CPU, independent of the machine's other load (a host's children are the services)
    const cpuMs = totalActivity([tree.svscan!, ...superviseOf(tree)]).cpuNs / 1e6;
    return { tree, ms, cpuMs };
  } catch (e) {
    stopTree(ctx, tree);
    throw e;
  }
}

export type Pair<T> = Record<Variant['key'], T>;

export function pairRow(r: Omit<Row, 'ours' | 'c' | 'host'>, v: Partial<Pair<number | undefined>>): void {
  addRow({ ...r, ours: v.ours, c: v.C, host: v.host });
}

/** The supervise processes of a tree (none in host mode: svscan's children are the services). */
export function superviseOf(t: Tree): number[] {
  return t.host ? [] : childrenOf(t.svscan!);
}

const MB = 1024;

interface Snapshot {
  svscan: Memory;
  supervise: Memory[];
}

function snapshot(t: Tree): Snapshot {
  return { svscan: memory(t.svscan!), supervise: superviseOf(t).map(memory) };
}

export function totalActivity(pids: number[]): Activity {
  return pids.map(activity).reduce((a, b) => ({ cpuNs: a.cpuNs + b.cpuNs, switches: a.switches + b.switches }), { cpuNs: 0, switches: 0 });
}

/** Scale to 50, memory at 50, and the idle window, both implementations at once. */
async function fiftyServices(ctx: Ctx, scale50: Pair<number[]>): Promise<void> {
  const running: Partial<Pair<Tree>> = {};
  const errors: Partial<Pair<string>> = {};
  try {
    for (const v of VARIANTS) {
      try {
        const { tree, ms } = await scaleOnce(ctx, v, 50);
        running[v.key] = tree;
        scale50[v.key].push(ms);
      } catch (e) {
        errors[v.key] = errorText(e);
      }
    }
    await sleep(3000); // let start-up work (and garbage collection) finish before the idle window
    const mem: Partial<Pair<Snapshot>> = {};
    const before: Partial<Pair<{ svscan: Activity; supervise: Activity; pids: number[] }>> = {};
    for (const v of VARIANTS) {
      const t = running[v.key];
      if (!t) continue;
      mem[v.key] = snapshot(t);
      const pids = superviseOf(t);
      before[v.key] = { svscan: activity(t.svscan!), supervise: totalActivity(pids), pids };
    }
    ctx.log(`idle window: ${ctx.p.idleSeconds} s`);
    for (let i = 0; i < ctx.p.idleSeconds; i++) {
      checkAborted();
      await sleep(1000);
    }
    const idle: Partial<Pair<{ svscanMs: number; svscanSw: number; superviseMs: number; superviseSw: number }>> = {};
    for (const v of VARIANTS) {
      const t = running[v.key];
      const b = before[v.key];
      if (!t || !b) continue;
      const sv = activity(t.svscan!);
      const su = totalActivity(b.pids);
      idle[v.key] = {
        svscanMs: (sv.cpuNs - b.svscan.cpuNs) / 1e6,
        svscanSw: sv.switches - b.svscan.switches,
        superviseMs: (su.cpuNs - b.supervise.cpuNs) / 1e6,
        superviseSw: su.switches - b.supervise.switches,
      };
    }

    const note = errors.ours ? `ours: ${errors.ours}` : errors.host ? `host: ${errors.host}` : errors.C ? `C: ${errors.C}` : undefined;
    const m = (f: (x: Snapshot) => number | undefined): Pair<number | undefined> => ({
      ours: mem.ours ? f(mem.ours) : undefined,
      host: mem.host ? f(mem.host) : undefined,
      C: mem.C ? f(mem.C) : undefined,
    });
    const section = 'Memory, 50 services under svscan';
    pairRow({ section, figure: 'PSS per supervise (median)', unit: 'MB', digits: 2, budget: atMost(10, '≤ 10 MB'), note }, m((x) => median(x.supervise.map((y) => y.pssKB / MB))));
    pairRow({ section, figure: 'Private_Dirty per supervise (median)', unit: 'MB', digits: 2 }, m((x) => median(x.supervise.map((y) => y.privateDirtyKB / MB))));
    pairRow({ section, figure: 'supervise processes found', unit: '', digits: 0 }, m((x) => x.supervise.length));
    pairRow({ section, figure: 'svscan PSS', unit: 'MB', digits: 2 }, m((x) => x.svscan.pssKB / MB));
    pairRow({ section, figure: 'svscan Private_Dirty', unit: 'MB', digits: 2 }, m((x) => x.svscan.privateDirtyKB / MB));
    pairRow({ section, figure: 'PSS of svscan and every supervise', unit: 'MB', digits: 2, budget: hostAtMost(20, '≤ 20 MB') },
      m((x) => (x.svscan.pssKB + x.supervise.reduce((a, y) => a + y.pssKB, 0)) / MB));
    const i = (f: (x: NonNullable<typeof idle.ours>) => number): Pair<number | undefined> => ({
      ours: idle.ours ? f(idle.ours) : undefined,
      host: idle.host ? f(idle.host) : undefined,
      C: idle.C ? f(idle.C) : undefined,
    });
    const isec = `Idle cost over ${ctx.p.idleSeconds} s, 50 services`;
    pairRow({ section: isec, figure: 'svscan CPU time', unit: 'ms', digits: 3 }, i((x) => x.svscanMs));
    pairRow({ section: isec, figure: 'svscan context switches', unit: '', digits: 0 }, i((x) => x.svscanSw));
    pairRow({ section: isec, figure: 'all supervise CPU time', unit: 'ms', digits: 3, budget: atMost(0, '0') }, i((x) => x.superviseMs));
    pairRow({ section: isec, figure: 'all supervise context switches', unit: '', digits: 0 }, i((x) => x.superviseSw));
  } finally {
    for (const t of Object.values(running)) if (t) stopTree(ctx, t);
  }
}

export async function scale(ctx: Ctx): Promise<void> {
  const scale50: Pair<number[]> = { ours: [], host: [], C: [] };
  const scale200: Pair<number[]> = { ours: [], host: [], C: [] };
  const cpu200: Pair<number[]> = { ours: [], host: [], C: [] };
  const errors: string[] = [];
  const failed = new Set<string>();
  ctx.log('50 services: scale, memory, idle');
  await fiftyServices(ctx, scale50);
  for (let round = 0; round < ctx.p.scaleRounds; round++) {
    for (const [n, into] of [[50, scale50], [200, scale200]] as const) {
      if (n === 50 && round === 0) continue; // measured above
      for (const v of VARIANTS) {
        const key = `${v.key}, ${n} services`;
        if (failed.has(key)) continue;
        ctx.log(`scale: ${v.key} svscan, ${n} services, round ${round + 1}/${ctx.p.scaleRounds}`);
        try {
          const { tree, ms, cpuMs } = await scaleOnce(ctx, v, n);
          into[v.key].push(ms);
          if (n === 200) cpu200[v.key].push(cpuMs);
          stopTree(ctx, tree);
        } catch (e) {
          failed.add(key);
          errors.push(`${key}: ${errorText(e)}`);
        }
      }
    }
  }
  const section = 'Scale: svscan start until all services are up';
  const s = (xs: number[]): number | undefined => (xs.length ? median(xs)! / 1000 : undefined);
  const all = (p: Pair<number[]>): Pair<number | undefined> => ({ ours: s(p.ours), host: s(p.host), C: s(p.C) });
  pairRow({ section, figure: '50 services', unit: 's', digits: 2 }, all(scale50));
  pairRow({ section, figure: '200 services', unit: 's', digits: 2, budget: both(atMost(10, '≤ 10 s'), hostAtMost(0.5, '≤ 0.5 s')), note: errors.length ? errors.join('; ') : undefined }, all(scale200));
  pairRow({ section, figure: '200 services: CPU time of svscan and all supervise', unit: 's', digits: 2 }, all(cpu200));
  await floorRow(ctx, section, 200);
  await thousandHosted(ctx);
}

/**
 * Host mode at 1000 services (and the C tree beside it; one supervise
 * process per service at 1000 would take gigabytes): start until all are
 * up, and the PSS of the tree once up.
 */
async function thousandHosted(ctx: Ctx): Promise<void> {
  const up: Partial<Pair<number>> = {};
  const pss: Partial<Pair<number>> = {};
  const errors: string[] = [];
  for (const v of VARIANTS.filter((x) => x.key !== 'ours')) {
    ctx.log(`scale: ${v.key} svscan, 1000 services`);
    try {
      const { tree, ms } = await scaleOnce(ctx, v, 1000);
      up[v.key] = ms / 1000;
      await sleep(3000); // start-up work (and garbage collection) done
      const snap = snapshot(tree);
      pss[v.key] = (snap.svscan.pssKB + snap.supervise.reduce((a, y) => a + y.pssKB, 0)) / MB;
      stopTree(ctx, tree);
    } catch (e) {
      errors.push(`${v.key}: ${errorText(e)}`);
    }
  }
  const section = 'Scale: 1000 services (host mode and C)';
  const note = errors.length ? errors.join('; ') : undefined;
  pairRow({ section, figure: 'svscan start until all are up', unit: 's', digits: 2, budget: hostAtMost(2.5, '≤ 2.5 s'), note }, up);
  pairRow({ section, figure: 'PSS of svscan and every supervise', unit: 'MB', digits: 1, budget: hostAtMost(60, '≤ 60 MB') }, pss);
  await floorRow(ctx, section, 1000);
}

/** The floor of the start-up figures: sh starting n ./run with no supervisor, in the same run. */
async function floorRow(ctx: Ctx, section: string, n: number): Promise<void> {
  ctx.log(`scale: ${n} ./run started by sh, no supervision`);
  let s: number | undefined;
  let note: string | undefined;
  try {
    s = (await unsupervisedStart(ctx, n)) / 1000;
  } catch (e) {
    note = errorText(e);
  }
  addRow({ section, figure: `no supervisor at all: sh starts ${n} ./run until each runs its first line (this machine's floor)`, unit: 's', ours: s, digits: 2, single: true, note });
}

export async function detection(ctx: Ctx): Promise<void> {
  const times: Record<Suite['name'], number[]> = { ours: [], C: [] };
  const errors: Partial<Record<Suite['name'], string>> = {};
  const running: Tree[] = [];
  try {
    for (const s of SUITES) {
      const t = makeTree(ctx, s, 0);
      try {
        startScan(ctx, t);
        running.push(t);
      } catch (e) {
        errors[s.name] = errorText(e);
      }
    }
    await sleep(1500); // the first scan is done
    for (let round = 0; round < ctx.p.detectRounds; round++) {
      ctx.log(`detection round ${round + 1}/${ctx.p.detectRounds}`);
      for (const t of running) {
        if (errors[t.suite.name]) continue;
        // a random offset, so that the rounds do not keep one phase of a periodic scan
        await sleep(Math.random() * 1000);
        const src = makeService(path.join(t.base, `new${round}`), MARKING_RUN);
        const link = path.join(t.scan, `new${round}`);
        t.dirs.push(src);
        ctx.procs.addServices([src]);
        try {
          const t0 = nowMs();
          fs.symlinkSync(src, link);
          times[t.suite.name].push(await until(() => fs.existsSync(path.join(src, 'started')), 'the new service to start', t0, 15000, 2));
        } catch (e) {
          errors[t.suite.name] = errorText(e);
        }
      }
    }
  } finally {
    for (const t of running) stopTree(ctx, t);
  }
  const note = errors.ours ? `ours: ${errors.ours}` : errors.C ? `C: ${errors.C}` : undefined;
  const ms = (n: Suite['name']): number | undefined => (errors[n] ? undefined : median(times[n]));
  addRow({ section: 'New-service detection under svscan', figure: 'service link created until its run script runs', unit: 'ms', ours: ms('ours'), c: ms('C'), budget: atMost(500, '< 500 ms'), digits: 0, note });
}
