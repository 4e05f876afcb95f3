// Corner cases of the chain-loaders found by comparing with the C tools,
// where a row in chain-compat's table cannot set the scene (another user,
// another working directory).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ChildProcess } from 'node:child_process';
import { Procs, bin, cbin, run, waitFor } from './helpers';
import { allProcs } from './fixtures/tree';

const procs = new Procs();
let dir = '';

before(() => {
  dir = procs.tmpdir('dtn-chain-qa-');
  fs.chmodSync(dir, 0o755);
  fs.mkdirSync(path.join(dir, 'e'), { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'e', 'FOO'), 'foo\n', { mode: 0o644 });
});
after(() => procs.cleanup());

/** Runs `setuidgid nobody TOOL args` (the C setuidgid) in cwd, for ours and the C TOOL. */
async function asNobody(prog: string, args: string[], cwd: string) {
  const [ours, theirs] = await Promise.all([bin(prog), cbin(prog)].map((cmd) => run(cbin('setuidgid'), ['nobody', cmd, ...args], { cwd })));
  return { ours, theirs };
}

test('envdir: a working directory it may enter but not read is fatal, checked before the directory, as in the C envdir', async () => {
  const cwd = path.join(dir, 'enter-only');
  fs.mkdirSync(cwd);
  fs.chmodSync(cwd, 0o711);
  for (const args of [[path.join(dir, 'e'), 'sh', '-c', 'echo $FOO'], ['nonexistent', 'true'], [path.join(dir, 'e')]]) {
    const { ours, theirs } = await asNobody('envdir', args, cwd);
    assert.deepEqual(ours, theirs, args.join(' '));
  }
  const { ours } = await asNobody('envdir', [path.join(dir, 'e'), 'true'], cwd);
  assert.deepEqual({ code: ours.code, err: ours.stderr }, { code: 111, err: 'envdir: fatal: unable to switch to current directory: access denied\n' });
});

test('names that are not UTF-8 (directory, file, account, program, option letter) are used and printed as their bytes, as by the C tools', async () => {
  const nonUtf8 = path.join(dir, 'bytes');
  fs.mkdirSync(nonUtf8);
  const envDir = Buffer.concat([Buffer.from(`${nonUtf8}/d`), Buffer.from([0xfe])]);
  fs.mkdirSync(envDir);
  fs.writeFileSync(Buffer.concat([envDir, Buffer.from('/W')]), 'w\n');
  fs.writeFileSync(Buffer.concat([envDir, Buffer.from('/V'), Buffer.from([0xff])]), 'v\n');
  // $T: the tool; the shell makes the bytes (Node would pass UTF-8)
  const cases: [string, string][] = [
    ['envdir', `$T "$(printf 'd\\376')" env | grep -a "^[VW]" | sort`],
    ['envdir', `$T "$(printf 'n\\376')" true`],
    ['envuidgid', `$T "$(printf 'n\\377x')" true`],
    ['setuidgid', `$T "$(printf '\\377')" true`],
    ['pgrphack', `$T "$(printf 'p\\377')"`],
    ['softlimit', `$T -o 5 "$(printf 'p\\377')"`],
    ['softlimit', `$T "-$(printf '\\303\\251')" true`],
    ['setlock', `$T "-$(printf '\\303\\251')" true`],
    ['setlock', `$T "$(printf 'd\\376/x/y')" true`],
    ['setlock', `$T "$(printf 'L\\377')" sh -c 'ls | grep -a "^L"'`],
    ['fghack', `$T "$(printf 'p\\377')"`],
    ['fghack', `$T printf '%s|' "$(printf 'a\\377b\\n\\n')" '%d' ''`],
  ];
  for (const [prog, script] of cases) {
    const results = [];
    for (const T of [bin(prog), cbin(prog)]) {
      for (const f of fs.readdirSync(nonUtf8, { encoding: 'buffer' })) if (f[0] === 0x4c) fs.rmSync(Buffer.concat([Buffer.from(`${nonUtf8}/`), f]));
      results.push(await run('/bin/sh', ['-c', script], { cwd: nonUtf8, env: { ...process.env, T } }));
    }
    const [ours, theirs] = results;
    assert.deepEqual(ours, theirs, `${prog}: ${script}`);
  }
  const ours = await run('/bin/sh', ['-c', cases[0][1]], { cwd: nonUtf8, env: { ...process.env, T: bin('envdir') } });
  assert.equal(ours.stdout, 'V\xff=v\nW=w\n');
});

test('fghack runs its child under an open-files limit just above its 34 descriptors, as the C fghack does', async () => {
  for (const n of [36, 40, 45]) {
    // ls lists its own descriptors (a pipeline's ends would come and go)
    const script = `ulimit -n ${n}; exec "$0" sh -c 'echo ok; exec ls /proc/self/fd'`;
    const [ours, theirs] = await Promise.all([bin('fghack'), cbin('fghack')].map((cmd) => run('/bin/sh', ['-c', script, cmd])));
    assert.deepEqual(ours, theirs, `ulimit -n ${n}`);
    assert.match(ours.stdout, /^ok\n/, `ulimit -n ${n}`);
  }
});

test('fghack: the child\'s environment is the caller\'s, values that are not UTF-8 and no PWD added included, as with the C fghack', async () => {
  const scripts = [
    `exec env -i PATH=/usr/bin:/bin "RAW=$(printf 'a\\377b')" OK=1 "$T" env`,
    // the signals ignored go through a shell, which must not add its PWD
    `trap '' HUP; exec env -i PATH=/usr/bin:/bin "$T" env`,
    `trap '' HUP; exec env -i PATH=/usr/bin:/bin "RAW=$(printf '\\376')" "$T" env`,
  ];
  for (const script of scripts) {
    const [ours, theirs] = await Promise.all([bin('fghack'), cbin('fghack')].map((T) =>
      run('/bin/sh', ['-c', script], { cwd: dir, env: { ...process.env, T } })));
    assert.equal(ours.code, 0, ours.stderr);
    const sorted = (out: string) => out.split('\n').sort();
    assert.deepEqual({ ...ours, stdout: sorted(ours.stdout) }, { ...theirs, stdout: sorted(theirs.stdout) }, script);
  }
});

/** How child ends: its signal, or `exit N`. */
function ending(child: ChildProcess): Promise<string> {
  return waitFor(() => child.signalCode ?? (child.exitCode === null ? '' : `exit ${child.exitCode}`), 'the end of the program', 5000);
}

function hasChild(pid: number): boolean {
  return allProcs().some((p) => p.ppid === pid);
}

test('fghack and a waiting setlock end on SIGUSR1 (no Node debugger), SIGPIPE and SIGXFSZ, as the C tools do', async () => {
  const lock = path.join(dir, 'held');
  fs.writeFileSync(lock, '');
  const holder = procs.start('flock', ['-x', lock, 'sh', '-c', 'echo held; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  let held = '';
  holder.stdout!.on('data', (d: Buffer) => (held += d.toString()));
  await waitFor(() => held.includes('held'), 'the lock holder');
  for (const sig of ['SIGUSR1', 'SIGPIPE', 'SIGXFSZ'] as const) {
    for (const cmd of [bin('fghack'), cbin('fghack')]) {
      const child = procs.start(cmd, ['sleep', '30'], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const pid = child.pid!;
      await waitFor(() => hasChild(pid), `${cmd}: its child`);
      process.kill(pid, sig);
      assert.equal(await ending(child), sig, `${cmd} ${sig}`);
      assert.equal(err, '', `${cmd} ${sig}`);
    }
    for (const cmd of [bin('setlock'), cbin('setlock')]) {
      const child = procs.start(cmd, [lock, 'true'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const pid = child.pid!;
      await waitFor(() => new RegExp(`-> FLOCK\\s+ADVISORY\\s+WRITE ${pid} `).test(fs.readFileSync('/proc/locks', 'utf8')), `${cmd}: waiting for the lock`);
      process.kill(pid, sig);
      assert.equal(await ending(child), sig, `${cmd} ${sig}`);
      assert.equal(err, '', `${cmd} ${sig}`);
    }
  }
});
