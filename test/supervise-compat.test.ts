// Our supervise and the C one side by side, driven by the C svc through
// the same states: the C svstat and svok must say the same of both, and the
// two status files must have the same bytes (time and pid aside).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { cbin, Procs, run, waitFor } from './helpers';
import { Status } from '../lib/supervise/status';
import { SLEEPER, makeService, readLog, superviseListing, waitStatus, rawStatus } from './fixtures/service';
import { MODES, Supervised, oursAndC, startSupervise } from './fixtures/supervised';

const procs = new Procs();
after(() => procs.cleanup());

// TERM is trapped so that "up, want down" can be observed; KILL ends it.
const RUN = `#!/bin/sh
trap 'echo TERM >> sig.log' TERM
echo "start $$" >> starts.log
while :; do sleep 60 & wait $!; done
`;

interface Side {
  name: string;
  dir: string;
  sup: Supervised;
}

async function svstat(side: Side): Promise<string> {
  const r = await run(cbin('svstat'), ['svc'], { cwd: path.dirname(side.dir) });
  assert.equal(r.code, 0);
  return r.stdout.replace(/\(pid \d+\)/, '(pid P)').replace(/\d+ seconds/, 'S seconds');
}

async function svok(side: Side): Promise<number | null> {
  return (await run(cbin('svok'), [side.dir])).code;
}

function checkTime(b: Buffer, what: string): void {
  assert.equal(b.length, 18, `${what}: 18 bytes`);
  const sec = (b.readUInt32BE(0) - 0x40000000) * 2 ** 32 + b.readUInt32BE(4) - 10;
  assert.ok(Math.abs(sec - Date.now() / 1000) < 120, `${what}: TAI64N time is now-ish (${sec})`);
  assert.ok(b.readUInt32BE(8) < 1e9, `${what}: nanoseconds in range`);
}

for (const mode of MODES) test(`${mode}: C svc/svstat/svok see our supervise exactly as the C supervise, state by state`, async () => {
  const sides: Side[] = [];
  for (const { name, opts } of oursAndC(mode)) {
    const dir = makeService(procs, RUN);
    sides.push({ name, dir, sup: startSupervise(procs, dir, { ...opts, args: ['svc'], cwd: path.dirname(dir) }) });
  }

  const pids = new Map<string, number>();
  async function step(what: string, svcOpts: string | undefined, pred: (s: Status, side: Side) => boolean, expect: string): Promise<void> {
    for (const side of sides) {
      if (svcOpts) assert.equal((await run(cbin('svc'), [svcOpts, side.dir])).code, 0);
    }
    const bytes: Buffer[] = [];
    for (const side of sides) {
      const s = await waitStatus(side.dir, (st) => pred(st, side), `${side.name}: ${what}`);
      if (s.pid) {
        procs.adopt(s.pid);
        pids.set(side.name, s.pid);
      }
      const b = rawStatus(side.dir);
      checkTime(b, `${side.name} ${what}`);
      bytes.push(b);
      assert.equal(await svstat(side), expect, `${side.name}: svstat when ${what}`);
      assert.equal(await svok(side), 0, `${side.name}: svok when ${what}`);
    }
    const [ours, theirs] = bytes;
    assert.deepEqual([...ours.subarray(16)], [...theirs.subarray(16)], `paused and want bytes when ${what}`);
    assert.equal(ours.readUInt32LE(12) === 0, theirs.readUInt32LE(12) === 0, `pid zero or not when ${what}`);
  }
  const up = (s: Status): boolean => s.pid !== 0;
  const newPid = (s: Status, side: Side): boolean => s.pid !== 0 && s.pid !== pids.get(side.name);

  await step('up', undefined, up, 'svc: up (pid P) S seconds\n');
  await step('paused', '-p', (s) => up(s) && s.paused, 'svc: up (pid P) S seconds, paused\n');
  await step('continued', '-c', (s) => up(s) && !s.paused, 'svc: up (pid P) S seconds\n');
  await step('want down (TERM trapped)', '-d', (s) => up(s) && s.want === 'down', 'svc: up (pid P) S seconds, want down\n');
  await step('down', '-k', (s) => s.pid === 0, 'svc: down S seconds, normally up\n');
  await step('up again', '-u', newPid, 'svc: up (pid P) S seconds\n');
  await step('once', '-o', (s) => up(s) && s.want === 'once', 'svc: up (pid P) S seconds\n');
  await step('once, ended', '-k', (s) => s.pid === 0 && s.want === 'once', 'svc: down S seconds, normally up\n');
  for (const side of sides) fs.writeFileSync(path.join(side.dir, 'down'), '');
  await step('normally down, up', '-u', newPid, 'svc: up (pid P) S seconds, normally down\n');
  await step('normally down, paused', '-p', (s) => up(s) && s.paused, 'svc: up (pid P) S seconds, normally down, paused\n');
  await step('normally down, want down', '-dc', (s) => up(s) && s.want === 'down' && !s.paused,
    'svc: up (pid P) S seconds, normally down, want down\n');
  await step('normally down, down', '-k', (s) => s.pid === 0, 'svc: down S seconds\n');

  for (const side of sides) {
    assert.equal((await run(cbin('svc'), ['-x', side.dir])).code, 0);
    assert.deepEqual(await side.sup.ended(), { code: 0, signal: null }, `${side.name}: x exits 0`);
    assert.equal(await svok(side), 100, `${side.name}: svok after exit`);
    const r = await run(cbin('svstat'), ['svc'], { cwd: path.dirname(side.dir) });
    assert.equal(r.stdout, 'svc: supervise not running\n');
  }
});

for (const mode of MODES) test(`${mode}: files and modes of supervise/ are those of the C supervise`, async () => {
  const listing: string[] = [];
  for (const { opts } of oursAndC(mode)) {
    const dir = makeService(procs, SLEEPER);
    const sup = startSupervise(procs, dir, opts);
    const s = await waitStatus(dir, (st) => st.pid !== 0, 'up');
    procs.adopt(s.pid);
    const sd = path.join(dir, 'supervise');
    // ours keeps one more file (beyond): supervise/info; NAME.new exist while files are replaced
    listing.push(`supervise ${(fs.statSync(sd).mode & 0o7777).toString(8)}\n${superviseListing(sd)}`);
    assert.equal((await run(cbin('svc'), ['-dx', dir])).code, 0);
    assert.deepEqual(await sup.ended(), { code: 0, signal: null });
  }
  assert.equal(listing[0], listing[1]);
  assert.match(listing[0], /^supervise 700\ncontrol 10000 600\nlock 100000 600\nok 10000 600\nstatus 100000 644$/);
});

for (const [what, runText] of [['a run that exits at once', '#!/bin/sh\necho x >> starts.log\nexit 3\n'], ['a missing run', undefined]] as const) {
  for (const mode of MODES) test(`${mode}: ${what} shows as up for the second after its start, as in C (svstat of a crash loop)`, async () => {
    const lines: string[][] = [];
    for (const { name, opts } of oursAndC(mode)) {
      const dir = makeService(procs, runText);
      const sup = startSupervise(procs, dir, { ...opts, args: ['svc'], cwd: path.dirname(dir) });
      await waitFor(() => (runText ? readLog(dir, 'starts.log').length : sup.stderr().split('\n').length - 1) >= 2, `${name}: restarted once`);
      const seen: string[] = [];
      for (let i = 0; i < 8; i++) {
        const r = await run(cbin('svstat'), ['svc'], { cwd: path.dirname(dir) });
        seen.push(r.stdout.replace(/\(pid \d+\)/, '(pid P)').replace(/\d+ seconds/, 'S seconds'));
        await new Promise((res) => setTimeout(res, 150));
      }
      lines.push(seen);
      assert.equal((await run(cbin('svc'), ['-dx', dir])).code, 0);
      assert.deepEqual(await sup.ended(), { code: 0, signal: null });
      if (!runText) assert.match(sup.stderr(), /^(supervise: fatal: unable to start svc\/run: file does not exist\n)+$/);
    }
    for (const [i, seen] of lines.entries()) {
      const up = seen.filter((l) => l === 'svc: up (pid P) S seconds\n').length;
      assert.ok(up >= 6, `${i ? 'C' : 'ours'}: up in most samples: ${seen.join('')}`);
    }
  });
}

for (const mode of MODES) test(`${mode}: descriptors and ignored signals supervise was given reach ./run (but SIGCHLD, which supervise catches), as through the C supervise`, async () => {
  const seen: string[] = [];
  for (const { name, opts } of oursAndC(mode)) {
    const dir = makeService(procs, '#!/bin/sh\n{ grep SigIgn /proc/$$/status; readlink /proc/$$/fd/7 /proc/$$/fd/8; } > seen.tmp\nmv seen.tmp seen\nexec sleep 1000\n');
    const sup = startSupervise(procs, dir, { ...opts, via: ['/bin/sh', '-c', `trap '' HUP CHLD; exec "$0" "$@" 7</dev/null 8<"${dir}/run"`] });
    const text = await waitFor(() => {
      try {
        return fs.readFileSync(path.join(dir, 'seen'), 'latin1');
      } catch {
        return '';
      }
    }, `${name}: run started`);
    seen.push(text.replace(dir, 'DIR'));
    assert.equal((await run(cbin('svc'), ['-dx', dir])).code, 0);
    assert.deepEqual(await sup.ended(), { code: 0, signal: null });
  }
  assert.equal(seen[0], seen[1]);
  assert.equal(seen[1], 'SigIgn:\t0000000000000001\n/dev/null\nDIR/run\n');
});
