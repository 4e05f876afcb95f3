// Control round trips (svc -t, -d, -u until supervise/status shows the
// result) and crash restart (the service exits; time until supervise has
// started its successor). Each implementation's svc talks to its own
// supervise; the rounds alternate between the two.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as sys from '../lib/os/sys';
import { Ctx } from './context';
import { wakeCost } from './floor';
import { makeService, statusPid } from './services';
import { C, missing, OURS, prog, Suite } from './suites';
import { addRow, hostAtMost, hostVsC } from './table';
import { elapsedIf, errorText, median, nowMs, sleep, until } from './util';

interface Subject {
  suite: Suite;
  /** Supervised by `svscan --host` instead of a supervise process. */
  host: boolean;
  dir: string;
  /** When the current pid was first seen (supervise waits a second between starts). */
  upSince: number;
  broken?: string;
  times: Record<'t' | 'd' | 'u' | 'crash' | 'ct' | 'cd' | 'cu', number[]>;
}

const TIMEOUT = 10000;

async function waitUpOverASecond(s: Subject): Promise<void> {
  const pid = statusPid(s.dir) ?? 0;
  if (pid === 0) throw new Error('service is not up');
  const left = s.upSince + 1100 - nowMs();
  if (left > 0) await sleep(left);
}

/** One command byte straight into supervise/control (what svc writes, without svc's own start). */
function control(s: Subject, byte: string): void {
  const fd = fs.openSync(path.join(s.dir, 'supervise', 'control'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  try {
    fs.writeSync(fd, byte);
  } finally {
    fs.closeSync(fd);
  }
}

function svc(s: Subject, opt: string): void {
  const r = spawnSync(prog(s.suite, 'svc'), [opt, s.dir], { stdio: 'ignore', env: s.suite.env, timeout: 10000 });
  if (r.status !== 0) throw new Error(`svc ${opt} exited ${r.status}`);
}

/**
 * Runs trigger and returns the milliseconds until cond holds, checked at
 * each change inside supervise/ (the status is renamed into place). The
 * wait blocks in poll(2) itself, as a C program would: waiting in Node's
 * event loop (polling, or fs.watch) adds this process's own wakeup, about
 * a millisecond here after each idle moment (see the wakeup row), to every
 * figure. The watch is set up before the trigger, so no change comes first.
 */
function timed(s: Subject, trigger: () => void, cond: () => boolean, what: string): number {
  const fd = sys.inotifyInit();
  try {
    sys.inotifyAddWatch(fd, path.join(s.dir, 'supervise'), sys.IN_MOVED_TO | sys.IN_CLOSE_WRITE);
    const pfd = sys.pollSet([fd]);
    const events = Buffer.alloc(4096);
    const t0 = nowMs();
    trigger();
    for (;;) {
      const ms = elapsedIf(cond, what, t0, TIMEOUT);
      if (ms !== undefined) return ms;
      // a change, or 50 ms (nothing can be missed, but a figure must never hang the run)
      sys.poll(pfd, 50);
      try {
        while (fs.readSync(fd, events, 0, events.length, null) > 0);
      } catch {
        // EAGAIN: drained
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

const newPid = (s: Subject, old: number | undefined) => (): boolean => {
  const p = statusPid(s.dir) ?? 0;
  return p !== 0 && p !== old;
};

/**
 * Spacing between two subjects' measurements: a ./run just started by one
 * is still exec'ing its shell and then sleep (a few ms of CPU here), which on
 * 2 CPUs would compete with the next subject's own start.
 */
const SETTLE_MS = 50;

/** Runs one step on each subject in turn; a subject that fails once is out. */
async function step(subjects: Subject[], fn: (s: Subject) => Promise<void>): Promise<void> {
  for (const s of subjects) {
    if (s.broken) continue;
    await sleep(SETTLE_MS);
    try {
      await fn(s);
    } catch (e) {
      s.broken = errorText(e);
    }
  }
}

export async function controlAndCrash(ctx: Ctx): Promise<void> {
  const subjects: Subject[] = [];
  for (const [suite, host] of [[OURS, false], [C, false], [OURS, true]] as const) {
    // in host mode the service sits in a directory of its own that svscan --host scans
    const scan = path.join(ctx.root, 'control', host ? 'host' : '');
    const dir = makeService(path.join(scan, suite.name));
    const s: Subject = { suite, host, dir, upSince: nowMs(), times: { t: [], d: [], u: [], crash: [], ct: [], cd: [], cu: [] } };
    subjects.push(s);
    const why = missing(suite, host ? 'svscan' : 'supervise') ?? missing(suite, 'svc');
    if (why) {
      s.broken = why;
      continue;
    }
    ctx.procs.addServices([dir]);
    if (host) ctx.procs.start(prog(suite, 'svscan'), ['--host', scan], { env: suite.env, cwd: ctx.root });
    else ctx.procs.start(prog(suite, 'supervise'), [dir], { env: suite.env, cwd: ctx.root });
  }
  await step(subjects, async (s) => {
    await until(() => (statusPid(s.dir) ?? 0) !== 0, `${s.suite.name} supervise to start the service`, nowMs(), TIMEOUT, 10);
    s.upSince = nowMs();
  });

  for (let round = 0; round < ctx.p.controlRounds; round++) {
    ctx.log(`control round ${round + 1}/${ctx.p.controlRounds}`);
    await step(subjects, waitUpOverASecond);
    await step(subjects, async (s) => {
      const old = statusPid(s.dir);
      s.times.t.push(timed(s, () => svc(s, '-t'), newPid(s, old), 'svc -t: a new pid'));
      s.upSince = nowMs();
    });
    await step(subjects, waitUpOverASecond);
    await step(subjects, async (s) => {
      s.times.d.push(timed(s, () => svc(s, '-d'), () => statusPid(s.dir) === 0, 'svc -d: down'));
    });
    await step(subjects, async (s) => {
      s.times.u.push(timed(s, () => svc(s, '-u'), () => (statusPid(s.dir) ?? 0) !== 0, 'svc -u: up'));
      s.upSince = nowMs();
    });
    await step(subjects, waitUpOverASecond);
    await step(subjects, async (s) => {
      const old = statusPid(s.dir);
      s.times.ct.push(timed(s, () => control(s, 't'), newPid(s, old), 't: a new pid'));
      s.upSince = nowMs();
    });
    await step(subjects, waitUpOverASecond);
    await step(subjects, async (s) => {
      s.times.cd.push(timed(s, () => control(s, 'd'), () => statusPid(s.dir) === 0, 'd: down'));
    });
    await step(subjects, async (s) => {
      s.times.cu.push(timed(s, () => control(s, 'u'), () => (statusPid(s.dir) ?? 0) !== 0, 'u: up'));
      s.upSince = nowMs();
    });
    await step(subjects, waitUpOverASecond);
    await step(subjects, async (s) => {
      const old = statusPid(s.dir) ?? 0;
      if (old <= 1) throw new Error(`no service pid to kill (${old})`); // kill(0) would signal the benchmark's own group
      s.times.crash.push(timed(s, () => process.kill(old, 'SIGTERM'), newPid(s, old), 'the successor'));
      s.upSince = nowMs();
    });
  }

  const [ours, c, host] = subjects;
  const note = ours.broken ? `ours: ${ours.broken}` : c.broken ? `C: ${c.broken}` : host.broken ? `host: ${host.broken}` : undefined;
  const figures: Array<[keyof Subject['times'], string, string]> = [
    ['t', 'Control round trip', 'svc -t until the new pid is in status'],
    ['d', 'Control round trip', 'svc -d until down'],
    ['u', 'Control round trip', 'svc -u until up'],
    ['ct', 'Control byte to status', '`t` written into control until the new pid is in status'],
    ['cd', 'Control byte to status', '`d` written into control until down'],
    ['cu', 'Control byte to status', '`u` written into control until up'],
    ['crash', 'Crash restart', 'service exits until its successor runs'],
  ];
  for (const [k, section, figure] of figures) {
    addRow({
      section,
      figure,
      unit: 'ms',
      ours: ours.broken ? undefined : median(ours.times[k]),
      c: c.broken ? undefined : median(c.times[k]),
      host: host.broken ? undefined : median(host.times[k]),
      budget: k === 'crash' ? hostAtMost(3, '≤ 3 ms') : k.startsWith('c') ? hostVsC(1.5) : undefined,
      note: k === 't' || k === 'crash' ? note : undefined,
    });
  }
  ctx.log('wakeup cost after idle: Node against dash');
  let wake: { node: number; dash: number } | undefined;
  let wakeNote: string | undefined;
  try {
    wake = await wakeCost(ctx, 1100, ctx.p.controlRounds);
  } catch (e) {
    wakeNote = errorText(e);
  }
  addRow({
    section: 'Control byte to status',
    figure: 'what a wakeup costs here: a line into a FIFO after 1.1 s idle until answered (ours: a Node reader; C: dash)',
    unit: 'ms', ours: wake?.node, c: wake?.dash, digits: 2, note: wakeNote,
  });
}
