// Figures under svscan: new-service detection, start-up of 50 and 200
// services, memory per supervise, and idle cost. Our svscan runs with ./bin
// first in PATH, the C one with /usr/bin first, each on its own directory.
import fs from 'node:fs';
import path from 'node:path';
import { Ctx } from './context';
import { activity, Activity, alive, childrenOf, memory, Memory } from './procinfo';
import { isUp, makeService, makeServices, MARKING_RUN } from './services';
import { missing, prog, Suite, SUITES } from './suites';
import { addRow, atMost, Row } from './table';
import { checkAborted, errorText, median, nowMs, sleep, until } from './util';

interface Tree {
  suite: Suite;
  /** Everything of this tree is under base (the stop finds its processes by cwd). */
  base: string;
  scan: string;
  dirs: string[];
  svscan?: number;
}

let trees = 0;

function makeTree(ctx: Ctx, suite: Suite, n: number): Tree {
  const base = path.join(ctx.root, `scan${++trees}-${suite.name}`);
  const scan = path.join(base, 'service');
  fs.mkdirSync(scan, { recursive: true });
  return { suite, base, scan, dirs: makeServices(scan, n) };
}

function startScan(ctx: Ctx, t: Tree): void {
  const why = missing(t.suite, 'svscan') ?? missing(t.suite, 'supervise');
  if (why) throw new Error(why);
  ctx.procs.addServices(t.dirs);
  const child = ctx.procs.start(prog(t.suite, 'svscan'), [t.scan], { env: t.suite.env, cwd: t.scan });
  t.svscan = child.pid;
}

function stopTree(ctx: Ctx, t: Tree): void {
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
async function scaleOnce(ctx: Ctx, suite: Suite, n: number): Promise<{ tree: Tree; ms: number; cpuMs: number }> {
  const tree = makeTree(ctx, suite, n);
  try {
    const t0 = nowMs();
    startScan(ctx, tree);
    const ms = await allUp(tree, t0, 60000);
    // what starting cost in CPU, independent of the machine's other load
    const cpuMs = totalActivity([tree.svscan!, ...childrenOf(tree.svscan!)]).cpuNs / 1e6;
    return { tree, ms, cpuMs };
  } catch (e) {
    stopTree(ctx, tree);
    throw e;
  }
}

type Pair<T> = Record<Suite['name'], T>;

function pairRow(r: Omit<Row, 'ours' | 'c'>, v: Pair<number | undefined>): void {
  addRow({ ...r, ours: v.ours, c: v.C });
}

const MB = 1024;

interface Snapshot {
  svscan: Memory;
  supervise: Memory[];
}

function snapshot(t: Tree): Snapshot {
  const kids = childrenOf(t.svscan!);
  return { svscan: memory(t.svscan!), supervise: kids.map(memory) };
}

function totalActivity(pids: number[]): Activity {
  return pids.map(activity).reduce((a, b) => ({ cpuNs: a.cpuNs + b.cpuNs, switches: a.switches + b.switches }), { cpuNs: 0, switches: 0 });
}

/** Scale to 50, memory at 50, and the idle window, both implementations at once. */
async function fiftyServices(ctx: Ctx, scale50: Pair<number[]>): Promise<void> {
  const running: Partial<Pair<Tree>> = {};
  const errors: Partial<Pair<string>> = {};
  try {
    for (const s of SUITES) {
      try {
        const { tree, ms } = await scaleOnce(ctx, s, 50);
        running[s.name] = tree;
        scale50[s.name].push(ms);
      } catch (e) {
        errors[s.name] = errorText(e);
      }
    }
    await sleep(3000); // let start-up work (and garbage collection) finish before the idle window
    const mem: Partial<Pair<Snapshot>> = {};
    const before: Partial<Pair<{ svscan: Activity; supervise: Activity; pids: number[] }>> = {};
    for (const s of SUITES) {
      const t = running[s.name];
      if (!t) continue;
      mem[s.name] = snapshot(t);
      const pids = childrenOf(t.svscan!);
      before[s.name] = { svscan: activity(t.svscan!), supervise: totalActivity(pids), pids };
    }
    ctx.log(`idle window: ${ctx.p.idleSeconds} s`);
    for (let i = 0; i < ctx.p.idleSeconds; i++) {
      checkAborted();
      await sleep(1000);
    }
    const idle: Partial<Pair<{ svscanMs: number; svscanSw: number; superviseMs: number; superviseSw: number }>> = {};
    for (const s of SUITES) {
      const t = running[s.name];
      const b = before[s.name];
      if (!t || !b) continue;
      const sv = activity(t.svscan!);
      const su = totalActivity(b.pids);
      idle[s.name] = {
        svscanMs: (sv.cpuNs - b.svscan.cpuNs) / 1e6,
        svscanSw: sv.switches - b.svscan.switches,
        superviseMs: (su.cpuNs - b.supervise.cpuNs) / 1e6,
        superviseSw: su.switches - b.supervise.switches,
      };
    }

    const note = errors.ours ? `ours: ${errors.ours}` : errors.C ? `C: ${errors.C}` : undefined;
    const m = (f: (x: Snapshot) => number | undefined): Pair<number | undefined> => ({
      ours: mem.ours ? f(mem.ours) : undefined,
      C: mem.C ? f(mem.C) : undefined,
    });
    const section = 'Memory, 50 services under svscan';
    pairRow({ section, figure: 'PSS per supervise (median)', unit: 'MB', digits: 2, budget: atMost(10, '≤ 10 MB'), note }, m((x) => median(x.supervise.map((y) => y.pssKB / MB))));
    pairRow({ section, figure: 'Private_Dirty per supervise (median)', unit: 'MB', digits: 2 }, m((x) => median(x.supervise.map((y) => y.privateDirtyKB / MB))));
    pairRow({ section, figure: 'supervise processes found', unit: '', digits: 0 }, m((x) => x.supervise.length));
    pairRow({ section, figure: 'svscan PSS', unit: 'MB', digits: 2 }, m((x) => x.svscan.pssKB / MB));
    pairRow({ section, figure: 'svscan Private_Dirty', unit: 'MB', digits: 2 }, m((x) => x.svscan.privateDirtyKB / MB));
    const i = (f: (x: NonNullable<typeof idle.ours>) => number): Pair<number | undefined> => ({
      ours: idle.ours ? f(idle.ours) : undefined,
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
  const scale50: Pair<number[]> = { ours: [], C: [] };
  const scale200: Pair<number[]> = { ours: [], C: [] };
  const cpu200: Pair<number[]> = { ours: [], C: [] };
  const errors: string[] = [];
  const failed = new Set<string>();
  ctx.log('50 services: scale, memory, idle');
  await fiftyServices(ctx, scale50);
  for (let round = 0; round < ctx.p.scaleRounds; round++) {
    for (const [n, into] of [[50, scale50], [200, scale200]] as const) {
      if (n === 50 && round === 0) continue; // measured above
      for (const s of SUITES) {
        const key = `${s.name}, ${n} services`;
        if (failed.has(key)) continue;
        ctx.log(`scale: ${s.name} svscan, ${n} services, round ${round + 1}/${ctx.p.scaleRounds}`);
        try {
          const { tree, ms, cpuMs } = await scaleOnce(ctx, s, n);
          into[s.name].push(ms);
          if (n === 200) cpu200[s.name].push(cpuMs);
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
  pairRow({ section, figure: '50 services', unit: 's', digits: 2 }, { ours: s(scale50.ours), C: s(scale50.C) });
  pairRow({ section, figure: '200 services', unit: 's', digits: 2, budget: atMost(10, '≤ 10 s'), note: errors.length ? errors.join('; ') : undefined }, { ours: s(scale200.ours), C: s(scale200.C) });
  pairRow({ section, figure: '200 services: CPU time of svscan and all supervise', unit: 's', digits: 2 }, { ours: s(cpu200.ours), C: s(cpu200.C) });
}

export async function detection(ctx: Ctx): Promise<void> {
  const times: Pair<number[]> = { ours: [], C: [] };
  const errors: Partial<Pair<string>> = {};
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
