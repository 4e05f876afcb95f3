// Host mode at 200 services, against the C tree of 200 supervise processes:
// the idle cost of the whole tree (CPU, wakeups) over the idle window, and
// the host killed with SIGKILL then started again: how long until the new
// host is in control of every service, each ./run kept (adoption).
import fs from 'node:fs';
import path from 'node:path';
import { Ctx } from './context';
import { alive } from './procinfo';
import { statusPid } from './services';
import { hostAtMost } from './table';
import { checkAborted, errorText, nowMs, sleep, until } from './util';
import { Pair, pairRow, scaleOnce, startScan, stopTree, superviseOf, totalActivity, Tree, VARIANTS } from './scan';

const N = 200;

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
}

/** The supervisor's pid that supervise/info names (ours only). */
function infoSupervisor(dir: string): number | undefined {
  const text = readText(path.join(dir, 'supervise', 'info'));
  try {
    return text ? (JSON.parse(text) as { supervise?: number }).supervise : undefined;
  } catch {
    return undefined;
  }
}

/** supervise/running names the pid in the status: a supervisor killed now leaves ./run to be adopted. */
function recorded(dir: string): boolean {
  const pid = statusPid(dir);
  return !!pid && (readText(path.join(dir, 'supervise', 'running')) ?? '').startsWith(`${pid} `);
}

interface Idle {
  cpuMs: number;
  wakeups: number;
}

/** CPU and voluntary+involuntary context switches of svscan and every supervise over the idle window. */
async function idleWindow(ctx: Ctx, trees: Partial<Pair<Tree>>): Promise<Partial<Pair<Idle>>> {
  const pidsOf = (t: Tree): number[] => [t.svscan!, ...superviseOf(t)];
  const before = new Map(Object.entries(trees).map(([k, t]) => [k, totalActivity(pidsOf(t!))]));
  for (let i = 0; i < ctx.p.idleSeconds; i++) {
    checkAborted();
    await sleep(1000);
  }
  const out: Partial<Pair<Idle>> = {};
  for (const [k, t] of Object.entries(trees) as Array<[keyof Pair<Tree>, Tree]>) {
    const a = totalActivity(pidsOf(t));
    const b = before.get(k)!;
    out[k] = { cpuMs: (a.cpuNs - b.cpuNs) / 1e6, wakeups: a.switches - b.switches };
  }
  return out;
}

/** Kills the host with SIGKILL, starts a new one: ms until it supervises every service, and whether every ./run kept its pid. */
async function killAndAdopt(ctx: Ctx, t: Tree): Promise<{ ms: number; kept: number }> {
  await until(() => t.dirs.every(recorded), 'every ./run recorded', nowMs(), 20000, 20);
  const before = new Map(t.dirs.map((d) => [d, statusPid(d)]));
  const old = t.svscan!;
  process.kill(old, 'SIGKILL');
  await until(() => !alive(old), 'the host to die', nowMs(), 5000);
  const t0 = nowMs();
  startScan(ctx, t);
  const ms = await until(() => t.dirs.every((d) => infoSupervisor(d) === t.svscan), `the new host to supervise all ${N}`, t0, 30000, 5);
  return { ms, kept: t.dirs.filter((d) => statusPid(d) === before.get(d)).length };
}

export async function hostAt200(ctx: Ctx): Promise<void> {
  const trees: Partial<Pair<Tree>> = {};
  const errors: string[] = [];
  let adoption: { ms: number; kept: number } | undefined;
  try {
    for (const v of VARIANTS.filter((x) => x.key !== 'ours')) {
      ctx.log(`host: ${v.key} svscan, ${N} services`);
      try {
        trees[v.key] = (await scaleOnce(ctx, v, N)).tree;
      } catch (e) {
        errors.push(`${v.key}: ${errorText(e)}`);
      }
    }
    await sleep(20000); // start-up work done (V8 shrinks its heap some seconds after a busy start)
    ctx.log(`host: idle window, ${ctx.p.idleSeconds} s`);
    const idle = await idleWindow(ctx, trees);
    const section = `Host mode: ${N} services, idle ${ctx.p.idleSeconds} s, then the host killed`;
    const perMinute = (x?: Idle): number | undefined => (x ? (x.wakeups * 60) / ctx.p.idleSeconds : undefined);
    pairRow({ section, figure: 'CPU time of svscan and every supervise', unit: 'ms', digits: 1 }, { host: idle.host?.cpuMs, C: idle.C?.cpuMs });
    pairRow({ section, figure: 'context switches a minute (svscan and every supervise)', unit: '', digits: 0, budget: { text: 'host ≤ C', met: (r) => (r.host === undefined || r.c === undefined ? undefined : r.host <= r.c) } },
      { host: perMinute(idle.host), C: perMinute(idle.C) });
    if (trees.host) {
      try {
        ctx.log('host: SIGKILL, then a new host');
        adoption = await killAndAdopt(ctx, trees.host);
      } catch (e) {
        errors.push(`host kill: ${errorText(e)}`);
      }
    }
    const note = errors.length ? errors.join('; ') : undefined;
    pairRow({ section, figure: `new host started until it supervises all ${N}`, unit: 'ms', digits: 0, budget: hostAtMost(1000, '≤ 1 s'), note }, { host: adoption?.ms });
    pairRow({ section, figure: `services whose ./run kept its pid (of ${N})`, unit: '', digits: 0, budget: { text: `host = ${N}`, met: (r) => (r.host === undefined ? undefined : r.host === N) } }, { host: adoption?.kept });
  } finally {
    for (const t of Object.values(trees)) if (t) stopTree(ctx, t);
  }
}
