// CLI latency and chain-loading: wall time of one complete run of each
// program (spawn to exit), ours and C interleaved, beside `node -e 0`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Ctx } from './context';
import { isUp, makeServices } from './services';
import { C, missingCases, OURS, prog, Suite, SUITES, withoutCa } from './suites';
import { addRow, vsNode } from './table';
import { checkAborted, median, nowMs, sleep, until } from './util';

interface Case {
  section: string;
  figure: string;
  /** Programs that must exist in the suite. */
  needs: string[];
  argv(s: Suite): [string, string[]];
}

interface Timed {
  ms: number;
  status: number | null;
}

function timeRun(cmd: string, args: string[], env: NodeJS.ProcessEnv): Timed {
  const t0 = nowMs();
  const r = spawnSync(cmd, args, { stdio: 'ignore', env, timeout: 10000 });
  return { ms: nowMs() - t0, status: r.status };
}

function nodeFloor(env = C.env): Timed {
  return timeRun(process.execPath, ['-e', '0'], env);
}

// Node parses the certificates of NODE_EXTRA_CA_CERTS at every start; the
// launchers move it out of Node's way, so the floor without it is shown too.
const CA = 'NODE_EXTRA_CA_CERTS';
const envWithoutCa = (): NodeJS.ProcessEnv | undefined => (C.env[CA] === undefined ? undefined : withoutCa(C.env));

/** Supervised services for svstat, svok and svc (the C supervise, the same for both suites). */
async function fixture(ctx: Ctx): Promise<{ dirs: string[]; env: string; lock: string }> {
  const base = path.join(ctx.root, 'cli');
  const dirs = makeServices(base, 50);
  ctx.procs.addServices(dirs);
  for (const d of dirs) ctx.procs.start(prog(C, 'supervise'), [d], { env: C.env });
  const t0 = nowMs();
  await until(() => dirs.every(isUp), '50 C supervise to start their services', t0, 20000, 20);
  const env = path.join(base, 'env');
  fs.mkdirSync(env);
  fs.writeFileSync(path.join(env, 'BENCH'), 'value\n');
  const lock = path.join(base, 'lock');
  fs.writeFileSync(lock, '');
  return { dirs, env, lock };
}

export async function cliLatency(ctx: Ctx): Promise<void> {
  const { dirs, env, lock } = await fixture(ctx);
  const one = dirs[0];
  const cli = 'CLI latency';
  const chain = 'Chain-loading before `true`';
  const cases: Case[] = [
    { section: cli, figure: 'svstat, 1 service', needs: ['svstat'], argv: (s) => [prog(s, 'svstat'), [one]] },
    { section: cli, figure: 'svstat, 50 services', needs: ['svstat'], argv: (s) => [prog(s, 'svstat'), dirs] },
    { section: cli, figure: 'svok', needs: ['svok'], argv: (s) => [prog(s, 'svok'), [one]] },
    { section: cli, figure: 'svc -h', needs: ['svc'], argv: (s) => [prog(s, 'svc'), ['-h', one]] },
    { section: chain, figure: 'envdir', needs: ['envdir'], argv: (s) => [prog(s, 'envdir'), [env, 'true']] },
    { section: chain, figure: 'setuidgid', needs: ['setuidgid'], argv: (s) => [prog(s, 'setuidgid'), ['nobody', 'true']] },
    { section: chain, figure: 'softlimit', needs: ['softlimit'], argv: (s) => [prog(s, 'softlimit'), ['-m', '2000000000', 'true']] },
    { section: chain, figure: 'setlock', needs: ['setlock'], argv: (s) => [prog(s, 'setlock'), [lock, 'true']] },
    {
      section: chain,
      figure: 'envdir softlimit setlock setuidgid, chained',
      needs: ['envdir', 'softlimit', 'setlock', 'setuidgid'],
      argv: (s) => [prog(s, 'envdir'), [env, 'softlimit', '-m', '2000000000', 'setlock', lock, 'setuidgid', 'nobody', 'true']],
    },
  ];

  // A program that is missing, or whose exit status differs from the C one, is not timed.
  const notes = missingCases(cases);
  for (const c of cases) {
    if (notes.has(c)) continue;
    const [oc, oa] = c.argv(OURS);
    const [cc, ca] = c.argv(C);
    const ours = timeRun(oc, oa, OURS.env);
    const theirs = timeRun(cc, ca, C.env);
    if (ours.status !== theirs.status) notes.set(c, `${c.figure}: ours exited ${ours.status}, C ${theirs.status}`);
  }

  const floor: number[] = [];
  const bareEnv = envWithoutCa();
  const bareFloor: number[] = [];
  const times = new Map<Case, Record<Suite['name'], number[]>>(cases.map((c) => [c, { ours: [], C: [] }]));
  for (let round = 0; round < ctx.p.cliRounds; round++) {
    floor.push(nodeFloor().ms);
    if (bareEnv) bareFloor.push(nodeFloor(bareEnv).ms);
    for (const c of cases) {
      for (const s of SUITES) {
        if (s === OURS && notes.has(c)) continue;
        const [cmd, args] = c.argv(s);
        times.get(c)![s.name].push(timeRun(cmd, args, s.env).ms);
      }
    }
    checkAborted();
    await sleep(0);
  }

  const node = median(floor);
  const bareNode = bareEnv ? median(bareFloor) : undefined;
  addRow({ section: cli, figure: '`node -e 0` (the floor)', unit: 'ms', ours: node, node, bareNode, single: true });
  if (bareEnv) addRow({ section: cli, figure: `\`node -e 0\` without ${CA}`, unit: 'ms', ours: bareNode, node, bareNode, single: true });
  for (const c of cases) {
    const t = times.get(c)!;
    addRow({ section: c.section, figure: c.figure, unit: 'ms', ours: median(t.ours), c: median(t.C), node, bareNode, budget: c.needs.length === 1 ? vsNode(1.2) : undefined, note: notes.get(c) });
  }
}
