// Waiting for a state (beyond 0.76): from the status write to the exit of a
// waiter already watching, ours (svwait -d on our supervise) beside s6's
// (s6-svwait -d on s6-supervise), in the C column: daemontools 0.76 has no
// such program, s6 is the reference for it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Ctx } from './context';
import { makeService, IDLE_RUN } from './services';
import { OURS, prog } from './suites';
import { addRow, atMost } from './table';
import { errorText, median, nowMs, sleep, until } from './util';

interface Side {
  name: 'ours' | 's6';
  dir: string;
  /** Starts the waiter for "down"; resolves with the wall-clock ms of its exit. */
  waiter: () => Promise<number>;
  down: () => void;
  up: () => void;
  /** The wall-clock ms of the last up/down change in the status (TAI64N at offset 0, as in both formats). */
  changedAt: () => number;
  isDown: () => boolean;
}

const TAI_UNIX = 0x4000000000000000n + 10n;

/** skalibs labels are true TAI: 27 leap seconds beyond daemontools' UTC + 10 (since 2017). */
const LEAP = 27n;

function changedAt(dir: string, leap = 0n): number {
  const b = fs.readFileSync(path.join(dir, 'supervise', 'status'));
  const sec = Number(b.readBigUInt64BE(0) - TAI_UNIX - leap);
  return sec * 1000 + b.readUInt32BE(8) / 1e6;
}

function exitTime(cmd: string, args: string[]): { settled: Promise<number> } {
  const child = spawn(cmd, args, { stdio: 'ignore' });
  return { settled: new Promise((resolve) => child.once('exit', () => resolve(Date.now()))) };
}

function sides(ctx: Ctx): Side[] {
  const ours = makeService(path.join(ctx.root, 'wait', 'ours'), IDLE_RUN);
  const s6 = makeService(path.join(ctx.root, 'wait', 's6'), IDLE_RUN);
  ctx.procs.addServices([ours, s6]);
  ctx.procs.start(prog(OURS, 'supervise'), [ours], { env: OURS.env });
  ctx.procs.start('/usr/bin/s6-supervise', [s6], {});
  const svc = (args: string[]): void => void spawn(prog(OURS, 'svc'), args, { stdio: 'ignore', env: OURS.env });
  const s6svc = (args: string[]): void => void spawn('/usr/bin/s6-svc', args, { stdio: 'ignore' });
  const pidOf = (dir: string): number => {
    try {
      return fs.readFileSync(path.join(dir, 'supervise', 'status')).length === 18 ? fs.readFileSync(path.join(dir, 'supervise', 'status')).readUInt32LE(12) : 0;
    } catch {
      return 0;
    }
  };
  return [
    {
      name: 'ours', dir: ours,
      waiter: () => exitTime(prog(OURS, 'svwait'), ['-d', '-t', '10000', ours]).settled,
      down: () => svc(['-d', ours]), up: () => svc(['-u', ours]),
      changedAt: () => changedAt(ours), isDown: () => pidOf(ours) === 0,
    },
    {
      name: 's6', dir: s6,
      waiter: () => exitTime('/usr/bin/s6-svwait', ['-d', '-t', '10000', s6]).settled,
      down: () => s6svc(['-d', s6]), up: () => s6svc(['-u', s6]),
      changedAt: () => changedAt(s6, LEAP),
      // s6's status: byte 34 holds the flags; the pid (8 bytes at 24) is 0 when down
      isDown: () => fs.readFileSync(path.join(s6, 'supervise', 'status')).readBigUInt64BE(24) === 0n,
    },
  ];
}

export async function waitLatency(ctx: Ctx): Promise<void> {
  if (!fs.existsSync('/usr/bin/s6-svwait') || !fs.existsSync(prog(OURS, 'svwait'))) {
    addRow({ section: 'Waiting for a state', figure: 'svwait -d', unit: 'ms', digits: 1, note: 'needs s6 (apt-get install s6) and svwait' });
    return;
  }
  const times: Record<Side['name'], number[]> = { ours: [], s6: [] };
  const errors: string[] = [];
  const all = sides(ctx);
  try {
    await sleep(1500);
    await rounds(ctx, all, times, errors);
  } finally {
    // both supervisors exit once their service is down (s6 gives ./run a session of its own)
    spawn(prog(OURS, 'svc'), ['-dx', all[0].dir], { stdio: 'ignore', env: OURS.env });
    spawn('/usr/bin/s6-svc', ['-dx', all[1].dir], { stdio: 'ignore' });
    await sleep(1000);
  }
  addRow({
    section: 'Waiting for a state (beyond 0.76; the C column is s6)',
    figure: 'status write to the exit of a watching svwait -d (s6-svwait -d)',
    unit: 'ms', digits: 1, ours: median(times.ours), c: median(times.s6), budget: atMost(20, '≤ 20 ms'),
    note: errors.length ? errors.join('; ') : undefined,
  });
}

async function rounds(ctx: Ctx, all: Side[], times: Record<Side['name'], number[]>, errors: string[]): Promise<void> {
  for (let round = 0; round < ctx.p.controlRounds; round++) {
    for (const s of all) {
      try {
        const exit = s.waiter();
        // the waiter's start-up is not what is measured: it watches by then
        await sleep(500);
        s.down();
        const at = await exit;
        await until(() => s.isDown(), `${s.name} down`, nowMs(), 10000);
        times[s.name].push(at - s.changedAt());
        s.up();
        await until(() => !s.isDown(), `${s.name} up`, nowMs(), 10000);
        await sleep(1100);
      } catch (e) {
        errors.push(`${s.name}: ${errorText(e)}`);
      }
    }
  }
}
