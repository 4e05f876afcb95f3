// What this machine allows, measured in the same run as the figures they
// bound: how long starting N ./run takes with no supervisor at all, and what
// a wakeup costs a Node process against a small C program (dash) after an
// idle spell. The start-up and control budgets of host mode were written
// against another machine's C figures; these rows say where the floor is here.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Ctx } from './context';
import { makeServices, MARKING_RUN } from './services';
import { median, nowMs, sleep, until } from './util';

/**
 * Milliseconds from `sh` starting n ./run scripts in the background (each
 * in its directory, as supervise would) until every one has run its first
 * line: start-up with no supervision at all.
 */
export async function unsupervisedStart(ctx: Ctx, n: number): Promise<number> {
  const base = path.join(ctx.root, `floor-${n}`);
  const dirs = makeServices(base, n, 's', MARKING_RUN);
  try {
    const t0 = nowMs();
    // the directories are passed as arguments, never as script text
    ctx.procs.start('/bin/sh', ['-c', 'for d do (cd "$d" && exec ./run) & done', 'sh', ...dirs], { cwd: base });
    let pending = dirs;
    return await until(() => {
      pending = pending.filter((d) => !fs.existsSync(path.join(d, 'started')));
      return pending.length === 0;
    }, `${n} unsupervised ./run to start`, t0, 60000, 5);
  } finally {
    ctx.procs.stopTree(undefined, [], base);
    fs.rmSync(base, { recursive: true, force: true });
  }
}

// A FIFO reader that answers each line at once. Node: a net.Socket on the
// FIFO, as supervise reads supervise/control. dash: its `read` builtin.
const NODE_ECHO = `
const fs = require('fs'), net = require('net');
const fd = fs.openSync(process.argv[1], fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
fs.openSync(process.argv[1], fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
const out = fs.openSync(process.argv[2], fs.constants.O_RDWR);
new net.Socket({ fd, readable: true, writable: false }).on('data', (b) => fs.writeSync(out, b));
`;
const DASH_ECHO = 'exec 3<>"$1" 4<>"$2"; while read -r x <&3; do echo "$x" >&4; done';

/**
 * Waits for the answer without sleeping: this process stays awake, so the
 * figure is the reader's wakeup, not ours too.
 */
function answer(fd: number, deadline: number): void {
  const buf = Buffer.alloc(64);
  for (;;) {
    try {
      if (fs.readSync(fd, buf, 0, buf.length, null) > 0) return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
    if (nowMs() > deadline) throw new Error('the FIFO reader did not answer');
  }
}

export interface WakeCost {
  node: number;
  dash: number;
}

/**
 * Median milliseconds from a line written into a FIFO after `idleMs` of
 * quiet until the reader's answer is back: a Node reader against dash.
 */
export async function wakeCost(ctx: Ctx, idleMs: number, rounds: number): Promise<WakeCost> {
  const dir = path.join(ctx.root, 'wake');
  fs.mkdirSync(dir, { recursive: true });
  const out: Partial<WakeCost> = {};
  try {
    for (const [key, cmd, args] of [
      ['node', process.execPath, ['--single-threaded', '-e', NODE_ECHO]],
      ['dash', '/bin/sh', ['-c', DASH_ECHO, 'sh']],
    ] as const) {
      const inFifo = path.join(dir, `${key}.in`);
      const outFifo = path.join(dir, `${key}.out`);
      for (const f of [inFifo, outFifo]) fs.rmSync(f, { force: true });
      if (spawnSync('mkfifo', ['-m', '600', inFifo, outFifo]).status !== 0) throw new Error('mkfifo failed');
      const reader = ctx.procs.start(cmd, [...args, inFifo, outFifo], { cwd: dir });
      // neither open waits for the reader; the answer is waited for awake (below)
      const w = fs.openSync(inFifo, fs.constants.O_RDWR);
      const r = fs.openSync(outFifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      const times: number[] = [];
      try {
        for (let i = 0; i <= rounds; i++) {
          await sleep(idleMs);
          const t0 = nowMs();
          fs.writeSync(w, 'x\n');
          answer(r, t0 + 10000);
          if (i > 0) times.push(nowMs() - t0); // the first answer includes the reader's start
        }
      } finally {
        fs.closeSync(w);
        fs.closeSync(r);
        if (reader.pid) process.kill(-reader.pid, 'SIGTERM');
      }
      out[key] = median(times);
    }
  } finally {
    ctx.procs.stopTree(undefined, [], dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { node: out.node ?? NaN, dash: out.dash ?? NaN };
}
