// The chain-loaders against the C tools (Debian's daemontools): for every
// case, the same stdout, stderr (program path aside) and exit code.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ChildProcess } from 'node:child_process';
import { Procs, bin, cbin, run, waitFor, writeExecutable } from './helpers';

const procs = new Procs();
let dir = '';
let holder: ChildProcess | undefined;

before(async () => {
  dir = procs.tmpdir('dtn-chain-compat-');
  fs.mkdirSync(path.join(dir, 'e'));
  fs.writeFileSync(path.join(dir, 'e', 'FOO'), 'foo\n');
  fs.mkdirSync(path.join(dir, 'withsub', 'sub'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'noexec'), '#!/bin/sh\n');
  writeExecutable(path.join(dir, 'noshebang'), 'echo hi\n');
  writeExecutable(path.join(dir, 'badinterp'), '#!/nonexistent/interpreter\n');
  writeExecutable(path.join(dir, 'nointerp'), '#!  \necho hi\n');
  // scripts run by scripts: i1 -> i2 -> ... -> i6 -> /bin/sh; the kernel gives up on i1 (too deep), runs i2
  for (let i = 1; i <= 5; i++) writeExecutable(path.join(dir, `i${i}`), `#!${path.join(dir, `i${i + 1}`)}\n`);
  writeExecutable(path.join(dir, 'i6'), '#!/bin/sh\necho i6 ran\n');
  fs.mkdirSync(path.join(dir, 'b1'));
  fs.mkdirSync(path.join(dir, 'b2'));
  fs.mkdirSync(path.join(dir, 'b3', 'hello'), { recursive: true });
  writeExecutable(path.join(dir, 'b1', 'hello'), '#!/bin/sh\necho b1 "$0" "$@"\n');
  fs.writeFileSync(path.join(dir, 'b2', 'hello'), '#!/bin/sh\necho b2\n', { mode: 0o644 });
  // a lock held by another process for the whole file
  fs.writeFileSync(path.join(dir, 'held'), '');
  holder = procs.start('flock', ['-x', path.join(dir, 'held'), 'sh', '-c', 'echo held; exec sleep 60'], {
    stdio: ['ignore', 'pipe', 'ignore'],
    detached: true, // cleanup kills the whole group, sleep included
  });
  let out = '';
  holder.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => out.includes('held'), 'the lock holder');
});
after(() => procs.cleanup());

type Case = { args: string[]; env?: Record<string, string> };

const cases: Record<string, Case[]> = {
  envdir: [
    { args: [] },
    { args: ['e'] },
    { args: ['nonexistent', 'true'] },
    { args: ['e/FOO', 'true'] },
    { args: ['withsub', 'true'] },
    { args: ['e', 'nonexistent-program'] },
    { args: ['e', './noexec'] },
    { args: ['e', './noshebang'] },
    { args: ['e', '/nonexistent/x'] },
    { args: ['e', './b3'] },
    { args: ['--', 'e', 'true'] },
    { args: ['-x', 'e', 'true'] },
    { args: ['e', 'sh', '-c', 'echo "$FOO" "$0" "$1"', 'zero', 'one'] },
    { args: ['e', 'hello', 'a', 'b'], env: { PATH: 'b2:b3:b1:/usr/bin:/bin' } },
    { args: ['e', 'hello'], env: { PATH: 'b2:b3:/usr/bin:/bin' } },
    { args: ['e', 'hello'], env: { PATH: '/etc/passwd:b1:/usr/bin:/bin' } },
    { args: ['e', 'hello'], env: { PATH: '' } },
    { args: ['e', 'b1/hello'], env: { PATH: ':/usr/bin' } },
  ],
  envuidgid: [
    { args: [] },
    { args: ['nobody'] },
    { args: ['no-such-account-here', 'true'] },
    { args: ['0', 'true'] },
    { args: ['', 'true'] },
    { args: ['--', 'nobody', 'true'] },
    { args: ['nobody', 'nonexistent-program'] },
    { args: ['nobody', 'sh', '-c', 'echo $UID $GID'] },
  ],
  setuidgid: [
    { args: [] },
    { args: ['nobody'] },
    { args: ['no-such-account-here', 'true'] },
    { args: ['0', 'true'] },
    { args: ['-x', 'nobody', 'true'] },
    { args: ['nobody', './nonexistent-program'] },
    // searched as nobody: a PATH entry nobody cannot enter says "access denied"
    { args: ['nobody', 'nonexistent-program'], env: { PATH: '/root/.dtn-private:/usr/bin:/bin' } },
    { args: ['nobody', 'nonexistent-program'] },
    { args: ['nobody', 'sh', '-c', 'id; grep -E "^(Uid|Gid|Groups)" /proc/self/status'] },
    { args: ['nobody', '/usr/bin/setuidgid', 'root', 'true'] },
  ],
  softlimit: [
    { args: [] },
    { args: ['true'] },
    { args: ['-o', '64'] },
    { args: ['-m'] },
    { args: ['-z', 'true'] },
    { args: ['-m', 'abc', 'true'] },
    { args: ['-o', ' 5', 'true'] },
    { args: ['-o', '+5', 'true'] },
    { args: ['-o', '0x10', 'true'] },
    { args: ['-p', '-1', 'true'] },
    { args: ['-o', '64', 'nonexistent-program'] },
    { args: ['-o', '=', 'sh', '-c', 'ulimit -Sn'] },
    { args: ['-o', '77', 'sh', '-c', 'ulimit -Sn'] },
    { args: ['-o', '999999999', 'sh', '-c', 'ulimit -Sn'] },
    { args: ['-f', '', 'sh', '-c', 'ulimit -Sf'] },
    { args: ['-f', '18446744073709551615', 'sh', '-c', 'ulimit -Sf'] },
    { args: ['-f', '18446744073709551617', 'sh', '-c', 'ulimit -Sf'] },
    // above 2^53: exact, not rounded to a double
    { args: ['-f', '99999999999999999999', 'sh', '-c', 'ulimit -Sf'] },
    { args: ['-c', '12345678901234567890', '-s', '9007199254740993', 'cat', '/proc/self/limits'] },
    { args: ['-a', '300000000', '-c', '1000', '-d', '200000000', '-f', '1000000', '-l', '4096', '-o', '100',
      '-p', '500', '-r', '100000', '-s', '4000000', '-t', '50', 'cat', '/proc/self/limits'] },
    { args: ['-m', '50000000', 'cat', '/proc/self/limits'] },
    { args: ['-l', '99999999999', '-p', '99999999999', '-o', '99999999999', 'cat', '/proc/self/limits'] },
    { args: ['-o100', '-p=', '--', 'cat', '/proc/self/limits'] },
    // a bad value stops at once: no word after it is looked at
    { args: ['-o', 'abc', '-z', 'true'] },
    { args: ['-oabc', '-m'] },
  ],
  setlock: [
    { args: [] },
    { args: ['lockfile'] },
    { args: ['-z', 'lockfile', 'true'] },
    { args: ['-n', 'held', 'true'] },
    { args: ['-nx', 'held', 'true'] },
    { args: ['-nxX', 'held', 'true'] },
    { args: ['-Xnx', 'held', 'true'] },
    { args: ['-N', '-n', 'held', 'true'] },
    { args: ['/nonexistent/f', 'true'] },
    { args: ['-x', '/nonexistent/f', 'true'] },
    { args: ['e/FOO/x', 'true'] },
    { args: ['e', 'true'] },
    { args: ['-x', 'lockfile', 'nonexistent-program'] },
    { args: ['-n', '--', 'lockfile', 'sh', '-c', 'echo ran'] },
  ],
  pgrphack: [
    { args: [] },
    { args: ['nonexistent-program'] },
    { args: ['-x', 'true'] },
    { args: ['sh', '-c', 'exit 3'] },
    { args: ['sh', '-c', 'test $$ = $(ps -o sid= -p $$) && echo leader'] },
  ],
  fghack: [
    { args: [] },
    { args: ['nonexistent-program'] },
    { args: ['./noexec'] },
    { args: ['./noshebang'] },
    { args: ['e'] },
    { args: ['sh', '-c', 'echo out; echo err >&2; exit 7'] },
    { args: ['sh', '-c', 'kill -9 $$'] },
    { args: ['hello'], env: { PATH: 'b2:b3:/usr/bin:/bin' } },
    { args: ['./badinterp'] },
    { args: ['badinterp'], env: { PATH: '.:/usr/bin:/bin' } },
    { args: ['./nointerp'] },
    { args: ['./i1'] },
    { args: ['./i2'] },
    // how many descriptors the child holds on fghack's pipe (3 is one of them)
    { args: ['sh', '-c', 'p=$(readlink /proc/$$/fd/3); n=0; for f in /proc/$$/fd/*; do [ "$(readlink $f)" = "$p" ] && n=$((n+1)); done; echo $n'] },
  ],
};

for (const [prog, list] of Object.entries(cases)) {
  test(`${prog}: same output and exit code as the C ${prog}`, async () => {
    for (const c of list) {
      const env = { ...process.env, ...c.env };
      // the C tools see the same PATH (relative entries resolve in dir)
      const ours = await run(bin(prog), c.args, { cwd: dir, env });
      const theirs = await run(cbin(prog), c.args, { cwd: dir, env });
      const label = `${prog} ${JSON.stringify(c.args)} ${c.env ? JSON.stringify(c.env) : ''}`;
      assert.deepEqual(
        { code: ours.code, signal: ours.signal, out: ours.stdout, err: ours.stderr },
        { code: theirs.code, signal: theirs.signal, out: theirs.stdout, err: theirs.stderr },
        label,
      );
    }
  });
}

test('setlock: the lock file is created mode 0600 and never truncated, as by the C setlock', async () => {
  for (const [which, cmd] of [['ours', bin('setlock')], ['theirs', cbin('setlock')]] as const) {
    const fresh = path.join(dir, `fresh-${which}`);
    const r1 = await run(cmd, [fresh, 'true']);
    assert.equal(r1.code, 0, which);
    assert.equal(fs.statSync(fresh).mode & 0o777, 0o600, which);
    fs.writeFileSync(fresh, 'keep me\n');
    const r2 = await run(cmd, [fresh, 'cat', fresh]);
    assert.equal(r2.stdout, 'keep me\n', which);
    assert.equal(fs.readFileSync(fresh, 'utf8'), 'keep me\n', which);
  }
});

test('setlock: the child finds the lock on the lowest free descriptor (3), open as the C setlock opens it', async () => {
  // descriptors 3-9 closed first, whatever the test runner inherited
  const script = 'exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; exec "$@"';
  const probe = 'readlink /proc/$$/fd/3; grep flags /proc/$$/fdinfo/3; exec 3>&-; exec ls /proc/self/fd';
  const results = [];
  for (const cmd of [bin('setlock'), cbin('setlock')]) {
    const lock = path.join(dir, 'lowest');
    results.push(await run('/bin/sh', ['-c', script, 'sh', cmd, lock, 'sh', '-c', probe]));
  }
  const [ours, theirs] = results;
  assert.match(theirs.stdout, /lowest\nflags:\s+\d+\n/);
  assert.deepEqual(ours, theirs);
  // exec failing after the move: Node still exits cleanly with the C message
  const [failOurs, failTheirs] = await Promise.all([
    run(bin('setlock'), [path.join(dir, 'lowest'), 'nonexistent-program']),
    run(cbin('setlock'), [path.join(dir, 'lowest'), 'nonexistent-program']),
  ]);
  assert.deepEqual(failOurs, failTheirs);
});
