// supervise: arguments, setup failures (against the C supervise), the
// signal each control byte sends, and the state machine (want, paused,
// once, exit).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bin, cbin, Procs, run, waitFor, writeExecutable } from './helpers';
import { control, makeService, readLog, status, TRAP_RUN, waitStatus, waitUp, okAnswers } from './fixtures/service';
import { MODES, startSupervise } from './fixtures/supervised';
import { procState } from './fixtures/tree';

const procs = new Procs();
after(() => procs.cleanup());

const SLEEP_RUN = '#!/bin/sh\necho "start $$" >> starts.log\nexec sleep 1000\n';

describe('supervise: arguments and setup failures match the C supervise', () => {
  /** Runs ours and the C one on copies of the same fixture; both must end by themselves. */
  async function both(setup: (dir: string) => void, extraArgs?: string[]): Promise<void> {
    const results = [];
    for (const prog of [bin('supervise'), cbin('supervise')]) {
      const base = procs.tmpdir('dtn-supfail-');
      const dir = path.join(base, 'svc');
      fs.mkdirSync(dir);
      setup(dir);
      const args = extraArgs ?? ['svc'];
      const r = await run(prog, args, { cwd: base, timeoutMs: 5000 });
      results.push({ code: r.code, stdout: r.stdout, stderr: r.stderr });
    }
    assert.deepEqual(results[0], results[1]);
    assert.notEqual(results[0].code, null, 'exits by itself');
  }

  test('no argument / two arguments: usage, 100', async () => {
    await both(() => undefined, []);
    await both(() => undefined, ['svc', 'other']);
    const r = await run(bin('supervise'), []);
    assert.equal(r.stderr, 'supervise: usage: supervise dir\n');
    assert.equal(r.code, 100);
  });

  test('--help documents every control letter; --version', async () => {
    const h = await run(bin('supervise'), ['--help']);
    assert.equal(h.code, 0);
    for (const line of [/^u +up/m, /^d +down/m, /^o +once/m, /^p +pause/m, /^c +continue/m, /^h a i t k +send HUP, ALRM, INT, TERM, KILL/m,
      /^q 1 2 w +send QUIT, USR1, USR2, WINCH/m, /^x +exit/m]) assert.match(h.stdout, line);
    const v = await run(bin('supervise'), ['--version']);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^supervise \(daemontools-node\) \d/);
  });

  test('missing directory: unable to chdir, 111', async () => {
    await both(() => undefined, ['nonexistent']);
    const r = await run(bin('supervise'), ['/nonexistent-dtn']);
    assert.equal(r.stderr, 'supervise: fatal: unable to chdir to /nonexistent-dtn: file does not exist\n');
    assert.equal(r.code, 111);
  });

  test('down that cannot be stat()ed', async () => {
    await both((d) => fs.symlinkSync('down', path.join(d, 'down')));
  });

  test('supervise is a file: unable to acquire the lock', async () => {
    await both((d) => fs.writeFileSync(path.join(d, 'supervise'), ''));
  });

  test('control is a directory / a dangling symlink', async () => {
    await both((d) => fs.mkdirSync(path.join(d, 'supervise', 'control'), { recursive: true }));
    await both((d) => {
      fs.mkdirSync(path.join(d, 'supervise'));
      fs.symlinkSync('nowhere', path.join(d, 'supervise', 'control'));
    });
  });

  test('ok is a dangling symlink', async () => {
    await both((d) => {
      fs.mkdirSync(path.join(d, 'supervise'));
      fs.symlinkSync('nowhere', path.join(d, 'supervise', 'ok'));
    });
  });
});

for (const mode of MODES) {
  describe(`supervise (${mode}): start failures are reported and retried, supervise stays`, () => {
    test('missing run: reported once a second, then the service starts when run appears', async () => {
      const dir = makeService(procs, undefined);
      // started from the parent directory: DIR in the message is the argument as given
      const sup = startSupervise(procs, dir, { mode, args: ['svc'], cwd: path.dirname(dir) });
      const text = (): string => sup.stderr();
      await waitFor(() => text().split('\n').length > 2, 'two failed attempts');
      const lines = text().split('\n').filter((l) => l);
      for (const l of lines) assert.equal(l, 'supervise: fatal: unable to start svc/run: file does not exist');
      assert.ok(okAnswers(dir), 'supervise still runs');
      // as in C, a child stands in for the failed ./run: up (its pid) for the second, then the next one
      const stand = (await waitStatus(dir, (st) => st.pid !== 0 && st.want === 'up', 'a stand-in up')).pid;
      await waitStatus(dir, (st) => st.pid !== 0 && st.pid !== stand, 'the next stand-in');
      // the message comes first, then status and info
      const failed = await waitFor(() => {
        const info = JSON.parse(fs.readFileSync(path.join(dir, 'supervise', 'info'), 'utf8'));
        return info.failures >= 2 ? info : undefined;
      }, 'two failures in info');
      assert.ok(failed.starts === 0 && failed.lastExit === null, JSON.stringify(failed));
      writeExecutable(path.join(dir, 'run'), SLEEP_RUN);
      await waitFor(() => JSON.parse(fs.readFileSync(path.join(dir, 'supervise', 'info'), 'utf8')).starts === 1, 'one start in info');
      const pid = await waitUp(dir, { procs });
      assert.equal(status(dir)?.want, 'up');
      process.kill(pid, 'SIGKILL');
      await waitFor(() => JSON.parse(fs.readFileSync(path.join(dir, 'supervise', 'info'), 'utf8')).lastExit?.signal === 'SIGKILL',
        'the kill in info');
    });

    test('run not executable, run without #! (exec format error), as the C supervise says', async () => {
      for (const [text, perm, why] of [
        ['#!/bin/sh\nexit 0\n', 0o644, 'access denied'],
        ['echo not a script\n', 0o755, 'exec format error'],
      ] as const) {
        const dir = makeService(procs, undefined);
        fs.writeFileSync(path.join(dir, 'run'), text, { mode: perm });
        const sup = startSupervise(procs, dir, { mode });
        await waitFor(() => sup.stderr().includes('\n'), 'a start failure');
        assert.equal(sup.stderr().split('\n')[0], `supervise: fatal: unable to start ${sup.name}/run: ${why}`);
        assert.ok(okAnswers(dir));
        assert.deepEqual(readLog(dir, 'starts.log'), []);
      }
    });
  });
}

for (const mode of MODES) {
  describe(`supervise (${mode}): each control byte sends its signal to the service`, () => {
    const letters: Array<[string, string]> = [
      ['h', 'HUP'], ['a', 'ALRM'], ['i', 'INT'], ['t', 'TERM'], ['q', 'QUIT'], ['1', 'USR1'], ['2', 'USR2'], ['w', 'WINCH'],
    ];

    for (const how of ['C svc', 'our svc', 'FIFO'] as const) {
      test(`letters through ${how}`, async () => {
        const dir = makeService(procs, TRAP_RUN);
        startSupervise(procs, dir, { mode });
        const pid = await waitUp(dir, { procs });
        await waitFor(() => readLog(dir).includes(`start ${pid}`), 'run trapping');
        const send = async (c: string): Promise<void> => {
          // the C svc knows only the 0.76 letters
          if ((how === 'C svc' && 'haitpcdk'.includes(c)) || how === 'our svc') {
            const r = await run(how === 'C svc' ? cbin('svc') : bin('svc'), [`-${c}`, dir]);
            assert.deepEqual([r.code, r.stderr], [0, '']);
          } else {
            control(dir, c);
          }
        };
        let expected = 1;
        for (const [c, sig] of letters) {
          await send(c);
          expected++;
          const log = await waitFor(() => (readLog(dir).length >= expected ? readLog(dir) : undefined), `${sig} after ${c}`);
          assert.equal(log?.[expected - 1], sig, `byte ${c}`);
        }
        // p: STOP (state T), c: CONT
        await send('p');
        await waitFor(() => procState(pid) === 'T', 'stopped after p');
        assert.equal((await waitStatus(dir, (s) => s.paused, 'paused')).pid, pid);
        await send('c');
        await waitFor(() => procState(pid) !== 'T', 'running after c');
        await waitFor(() => readLog(dir).at(-1) === 'CONT', 'CONT logged');
        assert.equal(status(dir)?.paused, false);
        // d: TERM then CONT (the run traps TERM, so it stays up, want down)
        const before = readLog(dir).length;
        await send('d');
        await waitFor(() => readLog(dir).length >= before + 2, 'TERM and CONT after d');
        assert.deepEqual(readLog(dir).slice(before).sort(), ['CONT', 'TERM']);
        // the status may be written just after the signals are sent
        assert.equal((await waitStatus(dir, (s) => s.want === 'down', 'want down after d')).pid, pid);
        // k: KILL; with want down it is not restarted
        await send('k');
        await waitStatus(dir, (s) => s.pid === 0, 'down after k');
        assert.equal(readLog(dir).filter((l) => l.startsWith('start')).length, 1);
        assert.ok(okAnswers(dir));
        // signal letters while down do nothing (and do not kill supervise)
        control(dir, 'hatkiq12wpc');
        await waitStatus(dir, (s) => s.pid === 0 && !s.paused && s.want === 'down', 'still down');
        assert.ok(okAnswers(dir));
      });
    }
  });

  describe(`supervise (${mode}): the state machine`, () => {
    test('down file: starts wanting down; u starts, o runs once, x exits 0 once down', async () => {
      const dir = makeService(procs, SLEEP_RUN, { down: true });
      const sup = startSupervise(procs, dir, { mode });
      await waitFor(() => okAnswers(dir), 'supervise ready (ok open, after the first status)');
      const s0 = status(dir)!;
      assert.deepEqual([s0.pid, s0.want, s0.paused], [0, 'down', false]);
      assert.deepEqual(readLog(dir, 'starts.log'), []);
      control(dir, 'u');
      const pid1 = await waitUp(dir, { procs });
      assert.equal(status(dir)?.want, 'up');
      await waitFor(() => readLog(dir, 'starts.log').length === 1, 'first start logged');
      control(dir, 'o');
      await waitStatus(dir, (s) => s.want === 'once' && s.pid === pid1, 'want once, same pid');
      control(dir, 'k');
      await waitStatus(dir, (s) => s.pid === 0 && s.want === 'once', 'down, not restarted');
      control(dir, 'o');
      const pid2 = await waitUp(dir, { procs, not: pid1 });
      await waitFor(() => readLog(dir, 'starts.log').length === 2, 'second start logged');
      // x while up: supervise waits for the service to go down
      control(dir, 'x');
      await waitStatus(dir, (s) => s.pid === pid2, 'x changes nothing');
      assert.ok(sup.running());
      assert.ok(okAnswers(dir));
      process.kill(pid2, 'SIGKILL');
      const end = await sup.ended();
      assert.deepEqual(end, { code: 0, signal: null });
      assert.deepEqual([status(dir)?.pid, status(dir)?.want], [0, 'once']);
      assert.equal(readLog(dir, 'starts.log').length, 2);
    });

    test('p while down is forgotten at the next start; d clears paused; x while down exits at once', async () => {
      const dir = makeService(procs, SLEEP_RUN);
      const sup = startSupervise(procs, dir, { mode });
      const pid = await waitUp(dir, { procs });
      control(dir, 'p');
      await waitStatus(dir, (s) => s.paused && s.pid === pid, 'paused');
      control(dir, 'd');
      await waitStatus(dir, (s) => s.pid === 0 && !s.paused && s.want === 'down', 'down, not paused');
      // every command rewrites status (a new file renamed over it): wait for p's
      const inode = fs.statSync(path.join(dir, 'supervise', 'status')).ino;
      control(dir, 'p');
      await waitFor(() => fs.statSync(path.join(dir, 'supervise', 'status')).ino !== inode, 'status rewritten after p');
      assert.equal(status(dir)?.paused, false, 'paused is reported only while up');
      control(dir, 'u');
      const pid2 = await waitUp(dir, { procs, not: pid });
      assert.equal(status(dir)?.paused, false);
      assert.notEqual(procState(pid2), 'T');
      control(dir, 'dx');
      assert.deepEqual(await sup.ended(), { code: 0, signal: null });
    });

    test('a crashing run is restarted about once a second; u during the wait changes nothing else', async () => {
      const dir = makeService(procs, '#!/bin/sh\necho "start $$" >> starts.log\nexit 1\n');
      startSupervise(procs, dir, { mode });
      await waitFor(() => readLog(dir, 'starts.log').length >= 3, 'three starts');
      const info = JSON.parse(fs.readFileSync(path.join(dir, 'supervise', 'info'), 'utf8'));
      assert.ok(info.starts >= 2 && info.failures === 0, JSON.stringify(info));
      assert.deepEqual([info.lastExit.code, info.lastExit.signal], [1, null]);
      assert.match(info.lastExit.at, /^@4000000[0-9a-f]{17}$/);
      control(dir, 'uuuu');
      const t0 = Date.now();
      await waitFor(() => readLog(dir, 'starts.log').length >= 5, 'five starts');
      // 2 more starts take at least ~1 s more (loosely: the rule is >= 1 s between starts)
      assert.ok(Date.now() - t0 >= 900, `restarts too fast: ${Date.now() - t0} ms for 2`);
      control(dir, 'd');
      await waitStatus(dir, (s) => s.want === 'down' && s.pid === 0, 'down');
      const n = readLog(dir, 'starts.log').length;
      await new Promise((r) => setTimeout(r, 1200)); // negative check: nothing may start while down
      assert.ok(readLog(dir, 'starts.log').length <= n + 1, 'no restarts while down');
    });
  });
}
