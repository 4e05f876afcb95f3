// Differential checks of supervise against the C one (Debian's 0.76) in
// corners the other supervise tests do not reach: each case runs both on
// identical fresh directories and compares what can be observed.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bin, cbin, Procs, run, waitFor, exitOf } from './helpers';
import { SLEEPER, makeService, superviseListing, waitStatus, okAnswers } from './fixtures/service';
import { MODES, oursAndC, startSupervise } from './fixtures/supervised';

const procs = new Procs();
after(() => procs.cleanup());

const PROGS = [['ours', bin('supervise')], ['C', cbin('supervise')]] as const;


describe('supervise/ as a symlink (Debian: a dangling one is made to work)', () => {
  for (const mode of MODES) {
    test(`${mode}: dangling supervise -> ../state: the target directory is made (0700) and used`, async () => {
      const seen: string[] = [];
      for (const { name, opts } of oursAndC(mode)) {
        const dir = makeService(procs, SLEEPER);
        fs.symlinkSync('../state', path.join(dir, 'supervise'));
        const sup = startSupervise(procs, dir, opts);
        await waitStatus(dir, (s) => s.pid !== 0, `${name}: up through the symlink`);
        const target = path.join(path.dirname(dir), 'state');
        seen.push(`state ${(fs.statSync(target).mode & 0o7777).toString(8)}\n${superviseListing(target)}`);
        assert.equal((await run(cbin('svc'), ['-dx', dir])).code, 0);
        assert.deepEqual(await sup.ended(), { code: 0, signal: null }, `${name}: -dx exits 0`);
        assert.equal(sup.stderr(), '', `${name}: nothing on stderr`);
      }
      assert.equal(seen[0], seen[1]);
      assert.match(seen[0], /^state 700\ncontrol 10000 600\nlock 100000 600\nok 10000 600\nstatus 100000 644$/);
    });
  }

  test('a target of 255 bytes is made; 256 bytes is fatal in bare words, 111', async () => {
    const results: string[] = [];
    for (const [, prog] of PROGS) {
      for (const len of [255, 256]) {
        const dir = makeService(procs, SLEEPER);
        const base = path.join(path.dirname(dir), 't');
        const target = base + 'x'.repeat(len - base.length);
        fs.symlinkSync(target, path.join(dir, 'supervise'));
        const sup = startSupervise(procs, dir, { prog });
        if (len === 255) {
          await waitStatus(dir, (s) => s.pid !== 0, `${prog}: up with a ${len}-byte target`);
          assert.equal((await run(cbin('svc'), ['-dx', dir])).code, 0);
        }
        const end = await sup.ended();
        results.push(`${len}: ${JSON.stringify(end)} ${sup.stderr()} made=${fs.existsSync(target)}`);
      }
    }
    assert.deepEqual(results.slice(0, 2), results.slice(2));
    assert.equal(results[1], '256: {"code":111,"signal":null} unable to readlink ./supervise: unknown error\n made=false');
  });
});

for (const mode of MODES) test(`${mode}: supervise/status that cannot be written: one warning per status write, as many as the C one writes`, async () => {
  const WARN = 'supervise: warning: unable to open svc/supervise/status.new: is a directory\n';
  for (const downFile of [true, false]) {
    // start, loop, (start), d, x, (the exit of ./run), exit
    const writes = downFile ? 5 : 7;
    const seen: string[] = [];
    for (const { name, opts } of oursAndC(mode)) {
      const dir = makeService(procs, SLEEPER, downFile ? { down: true } : {});
      fs.mkdirSync(path.join(dir, 'supervise', 'status.new'), { recursive: true });
      const sup = startSupervise(procs, dir, { ...opts, args: ['svc'], cwd: path.dirname(dir) });
      // the status is never written: wait for the warnings of the start (C: the last one a second after it)
      await waitFor(() => sup.stderr().split('\n').length - 1 >= (downFile ? 2 : 3), `${name}: setup warnings`);
      await waitFor(() => fs.existsSync(path.join(dir, 'supervise', 'ok')) && okAnswers(dir), `${name}: ok open`);
      // a host would take the directory again at its next scan (two more warnings): its entry goes first
      if (sup.scan) fs.unlinkSync(path.join(sup.scan, 'svc'));
      assert.equal((await run(cbin('svc'), ['-dx', dir])).code, 0);
      assert.deepEqual(await sup.ended(), { code: 0, signal: null }, `${name}: -dx exits 0`);
      // a host lives on, its stderr with it: what it wrote before the end may still be on the way (a shortfall shows below)
      if (name === 'ours') await waitFor(() => sup.stderr().split('\n').length - 1 >= writes, `${name}: ${writes} warnings`).catch(() => {});
      seen.push(sup.stderr());
    }
    assert.equal(seen[0], WARN.repeat(writes), `ours, down file ${downFile}`);
    // the C one's count depends on timing (5 instead of 7 once in six runs here): ours is held to the count, C to the range
    const c = seen[1].split('\n').length - 1;
    assert.ok(seen[1] === WARN.repeat(c) && c >= writes - 2 && c <= writes, `C, down file ${downFile}: ${c} warnings`);
  }
});

test('a directory name that is not UTF-8 is entered and printed as the bytes given', async () => {
  const seen: string[] = [];
  for (const [name, prog] of PROGS) {
    const root = path.dirname(makeService(procs, undefined));
    const dir = Buffer.concat([Buffer.from(root + '/'), Buffer.from('svc\xe9', 'latin1')]);
    fs.renameSync(path.join(root, 'svc'), dir);
    const sup = startSupervise(procs, '', { prog: '/bin/sh', args: ['-c', `exec "$0" "$(printf 'svc\\351')"`, prog], cwd: root });
    await waitFor(() => sup.stderr().includes('\n'), `${name}: the start failure reported`);
    const fd = fs.openSync(Buffer.concat([dir, Buffer.from('/supervise/control')]), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    fs.writeSync(fd, 'dx');
    fs.closeSync(fd);
    assert.deepEqual(await exitOf(sup.child), { code: 0, signal: null }, `${name}: dx exits 0`);
    seen.push(sup.stderr().split('\n')[0]);
  }
  assert.equal(seen[0], seen[1]);
  assert.equal(seen[1], 'supervise: fatal: unable to start svc\xe9/run: file does not exist');
});

test('signals ignored by whoever started supervise stay ignored for it (nohup supervise survives HUP), as for the C one', async () => {
  for (const [name, prog] of PROGS) {
    const dir = makeService(procs, SLEEPER);
    const sup = startSupervise(procs, dir, { prog: '/bin/sh', args: ['-c', `trap '' HUP INT TERM; exec "$0" "$1"`, prog, dir] });
    await waitStatus(dir, (s) => s.pid !== 0, `${name}: up`);
    for (const sig of ['SIGHUP', 'SIGINT', 'SIGTERM'] as const) process.kill(sup.child.pid!, sig);
    // a pending signal that kills is acted on before supervise runs again: a status written afterwards proves it alive
    assert.equal((await run(cbin('svc'), ['-p', dir])).code, 0);
    await waitStatus(dir, (s) => s.paused, `${name}: still obeys after HUP INT TERM`, 5000);
    assert.equal((await run(cbin('svok'), [dir])).code, 0, `${name}: svok`);
    assert.equal((await run(cbin('svc'), ['-dcxk', dir])).code, 0);
    assert.deepEqual(await exitOf(sup.child), { code: 0, signal: null }, `${name}: -dcxk exits 0 (./run ignores TERM too)`);
  }
});

for (const mode of MODES) test(`${mode}: a ./run the kernel refuses (truncated or foreign ELF, #! naming no or such an interpreter) is an exec format error, not a shell script`, async () => {
  const foreign = Buffer.from(fs.readFileSync('/bin/true'));
  foreign.writeUInt16LE(process.arch === 'arm64' ? 62 : 183, 18); // e_machine: x86-64 on arm64 hosts, AArch64 elsewhere
  const interp = path.join(procs.tmpdir('dtn-interp-'), 'interp');
  fs.writeFileSync(interp, 'echo hi\n', { mode: 0o755 }); // executable, but no #! and not ELF
  const cases = [
    ['truncated ELF', Buffer.from('\x7fELF\x02\x01\x01', 'latin1')],
    ['foreign ELF', foreign],
    ['#! and no interpreter', Buffer.from('#!\nexec sleep 1000\n')],
    ['#! a refused interpreter', Buffer.from(`#! ${interp} -x\nexec sleep 1000\n`)],
  ] as const;
  for (const [what, content] of cases) {
    const seen: string[] = [];
    for (const { name, opts } of oursAndC(mode)) {
      const dir = makeService(procs, undefined);
      fs.writeFileSync(path.join(dir, 'run'), content, { mode: 0o755 });
      const sup = startSupervise(procs, dir, { ...opts, args: ['svc'], cwd: path.dirname(dir) });
      await waitFor(() => sup.stderr().includes('\n'), `${name} ${what}: the start failure reported`);
      assert.equal((await run(cbin('svc'), ['-dx', dir])).code, 0);
      assert.deepEqual(await sup.ended(), { code: 0, signal: null }, `${name} ${what}: -dx exits 0`);
      seen.push(sup.stderr().split('\n')[0]);
    }
    assert.equal(seen[0], seen[1], what);
    assert.equal(seen[1], 'supervise: fatal: unable to start svc/run: exec format error', what);
  }
});

test('with a signal ignored by its caller (./run then goes through a shell), a ./run execve refuses is still reported in supervise\'s words', async () => {
  const missing = path.join(procs.tmpdir('dtn-interp-'), 'missing');
  const cases = [
    [`#!${missing}\n`, 'file does not exist'],
    [`#!${path.dirname(missing)}\n`, 'access denied'],
    [undefined, 'access denied'], // ./run an executable FIFO
  ] as const;
  for (const [text, why] of cases) {
    const seen: string[] = [];
    for (const [name, prog] of PROGS) {
      const dir = makeService(procs, text);
      if (text === undefined) {
        assert.equal((await run('/usr/bin/mkfifo', ['-m', '755', path.join(dir, 'run')])).code, 0);
      }
      const sup = startSupervise(procs, dir, { prog: '/bin/sh', args: ['-c', `trap '' HUP; exec "$0" svc`, prog], cwd: path.dirname(dir) });
      await waitFor(() => sup.stderr().includes('\n'), `${name} ${why}: the start failure reported`);
      assert.equal((await run(cbin('svc'), ['-dx', dir])).code, 0);
      assert.deepEqual(await exitOf(sup.child), { code: 0, signal: null }, `${name} ${why}: -dx exits 0`);
      seen.push(sup.stderr().split('\n')[0]);
    }
    assert.equal(seen[0], seen[1], why);
    assert.equal(seen[1], `supervise: fatal: unable to start svc/run: ${why}`);
  }
});
