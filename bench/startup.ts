// Start-up against the Node floor (issue 14): every short-lived program of
// the suite, its median wall time beside `node -e 0` without
// NODE_EXTRA_CA_CERTS (the start our launchers give Node) measured in the
// same interleaved rounds, and the ratio to that floor. Both are spawned by
// this (large) Node process, which costs several ms a spawn on a busy
// machine and would shrink every ratio towards 1, so the time of `true`
// alone (that spawn, and the exec of a small C program) is taken off both
// sides first. That also takes off a chain-loader's exec of the `true` it
// runs: its budget is 1.2 x the floor plus that exec. The chain of four
// also execs three more launchers: three execs are allowed on top, one
// exec being a quarter of what the C chain of four (envdir softlimit
// setlock setuidgid) adds to `true` alone (a single C tool adds less than
// the noise of a spawn). Printed as a table of its own, after the main one.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Ctx } from './context';
import { isUp, makeServices } from './services';
import { C, missingCases, OURS, prog, withoutCa } from './suites';
import { checkAborted, median, nowMs, sleep, until } from './util';

interface Case {
  figure: string;
  /** Programs that must exist in our suite. */
  needs: string[];
  argv: [string, string[]];
  /** Node starts and execs of other programs in one run (chain-loaders); 0 execs for the others. */
  starts: number;
  execs: number;
}

interface Result {
  figure: string;
  ms?: number;
  starts: number;
  execs: number;
  note?: string;
}

const results: Result[] = [];
let floorMs: number | undefined;
let execMs: number | undefined;
let trueMs: number | undefined;

function timeRun(cmd: string, args: string[], env: NodeJS.ProcessEnv): { ms: number; status: number | null } {
  const t0 = nowMs();
  const r = spawnSync(cmd, args, { stdio: 'ignore', env, timeout: 10000 });
  return { ms: nowMs() - t0, status: r.status };
}

export async function startup(ctx: Ctx): Promise<void> {
  const base = path.join(ctx.root, 'startup');
  const [svc] = makeServices(base, 1);
  ctx.procs.addServices([svc]);
  ctx.procs.start(prog(C, 'supervise'), [svc], { env: C.env });
  await until(() => isUp(svc), 'the C supervise to start its service', nowMs(), 20000, 20);
  const envDir = path.join(base, 'env');
  fs.mkdirSync(envDir);
  fs.writeFileSync(path.join(envDir, 'BENCH'), 'value\n');
  const lock = path.join(base, 'lock');
  fs.writeFileSync(lock, '');

  const ours = (name: string): string => prog(OURS, name);
  const cases: Case[] = [
    { figure: 'svc -h', needs: ['svc'], argv: [ours('svc'), ['-h', svc]], starts: 1, execs: 0 },
    { figure: 'svok', needs: ['svok'], argv: [ours('svok'), [svc]], starts: 1, execs: 0 },
    { figure: 'svstat', needs: ['svstat'], argv: [ours('svstat'), [svc]], starts: 1, execs: 0 },
    { figure: 'tai64n </dev/null', needs: ['tai64n'], argv: [ours('tai64n'), []], starts: 1, execs: 0 },
    { figure: 'tai64nlocal </dev/null', needs: ['tai64nlocal'], argv: [ours('tai64nlocal'), []], starts: 1, execs: 0 },
    { figure: 'envdir DIR true', needs: ['envdir'], argv: [ours('envdir'), [envDir, 'true']], starts: 1, execs: 1 },
    { figure: 'envuidgid nobody true', needs: ['envuidgid'], argv: [ours('envuidgid'), ['nobody', 'true']], starts: 1, execs: 1 },
    { figure: 'setuidgid nobody true', needs: ['setuidgid'], argv: [ours('setuidgid'), ['nobody', 'true']], starts: 1, execs: 1 },
    { figure: 'softlimit -m 2000000000 true', needs: ['softlimit'], argv: [ours('softlimit'), ['-m', '2000000000', 'true']], starts: 1, execs: 1 },
    { figure: 'setlock FILE true', needs: ['setlock'], argv: [ours('setlock'), [lock, 'true']], starts: 1, execs: 1 },
    { figure: 'pgrphack true', needs: ['pgrphack'], argv: [ours('pgrphack'), ['true']], starts: 1, execs: 1 },
    {
      figure: 'envdir softlimit setlock setuidgid true, chained',
      needs: ['envdir', 'softlimit', 'setlock', 'setuidgid'],
      argv: [ours('envdir'), [envDir, 'softlimit', '-m', '2000000000', 'setlock', lock, 'setuidgid', 'nobody', 'true']],
      starts: 4,
      execs: 4,
    },
  ];

  const env = withoutCa(OURS.env);
  const cEnv = withoutCa(C.env);
  const notes = missingCases(cases);
  for (const c of cases) {
    if (notes.has(c)) continue;
    const r = timeRun(c.argv[0], c.argv[1], env);
    if (r.status !== 0) notes.set(c, `${c.figure}: exited ${r.status}`);
  }

  const floor: number[] = [];
  const trueAlone: number[] = [];
  const cChain: number[] = [];
  const cChainArgs = [envDir, 'softlimit', '-m', '2000000000', 'setlock', lock, 'setuidgid', 'nobody', 'true'];
  const times = new Map<Case, number[]>(cases.map((c) => [c, []]));
  for (let round = 0; round < ctx.p.cliRounds; round++) {
    floor.push(timeRun(process.execPath, ['-e', '0'], env).ms);
    trueAlone.push(timeRun('true', [], cEnv).ms);
    cChain.push(timeRun(prog(C, 'envdir'), cChainArgs, cEnv).ms);
    for (const c of cases) {
      if (notes.has(c)) continue;
      times.get(c)!.push(timeRun(c.argv[0], c.argv[1], env).ms);
    }
    checkAborted();
    await sleep(0);
  }
  floorMs = median(floor);
  trueMs = median(trueAlone);
  const chainC = median(cChain);
  execMs = chainC === undefined || trueMs === undefined ? undefined : Math.max(0, (chainC - trueMs) / 4);
  for (const c of cases) results.push({ figure: c.figure, ms: median(times.get(c)!), starts: c.starts, execs: c.execs, note: notes.get(c) });
}

function fmt(v: number | undefined, digits = 1): string {
  return v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits);
}

/** The start-up table (empty if the section did not run). */
export function renderStartup(): string {
  if (results.length === 0) return '';
  const head = ['program', 'median ms', 'ratio to floor', 'execs allowed', 'budget', 'met'];
  const lines = [
    `Start-up: \`node -e 0\` without NODE_EXTRA_CA_CERTS (the floor) ${fmt(floorMs)} ms; \`true\` alone ${fmt(trueMs)} ms, ` +
      'taken off the floor and every median (the spawn from the benchmark, and the exec of `true`); ' +
      `one exec (a quarter of the C \`envdir DIR softlimit ... setuidgid nobody true\` less \`true\` alone) ${fmt(execMs, 2)} ms. ` +
      'Ratio: (median - true alone - execs allowed) / (floors × (floor - true alone)).',
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => ' --- ').join('|')}|`,
  ];
  const notes: string[] = [];
  for (const r of results) {
    let figure = r.figure;
    if (r.note) {
      notes.push(r.note);
      figure += ` [${notes.length}]`;
    }
    // the exec of the last program is in `true` alone; the others are allowed
    const allowed = Math.max(0, r.execs - 1);
    const ratio = r.ms === undefined || floorMs === undefined || trueMs === undefined || execMs === undefined
      ? undefined
      : (r.ms - trueMs - allowed * execMs) / (r.starts * (floorMs - trueMs));
    lines.push(`| ${[
      figure,
      fmt(r.ms),
      fmt(ratio, 2),
      allowed === 0 ? '' : `${allowed} × ${fmt(execMs, 2)} ms`,
      r.execs > 0 ? '≤ 1.2 × floor + exec' : '≤ 1.2 × floor',
      ratio === undefined ? 'n/a' : ratio <= 1.2 ? 'met' : 'NOT met',
    ].join(' | ')} |`);
  }
  if (notes.length) {
    lines.push('');
    notes.forEach((n, i) => lines.push(`[${i + 1}] ${n}`));
  }
  return lines.join('\n') + '\n';
}
