// The chain-loaders exec for real: same PID, clean signal state, blocking
// stdio, no leaked descriptors, the caller's resource limits, the account's
// identity.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ignoredSignals, inheritedFds, pwdAddedBySize } from '../lib/exec/exec';
import { Procs, ROOT, bin, cbin, run } from './helpers';

const procs = new Procs();
let dir = '';
let lock = '';

before(() => {
  dir = procs.tmpdir('dtn-chain-');
  fs.chmodSync(dir, 0o755); // nobody must reach the lock file
  fs.mkdirSync(path.join(dir, 'e'));
  fs.writeFileSync(path.join(dir, 'e', 'FROMENV'), 'yes\n');
  lock = path.join(dir, 'lock');
  fs.writeFileSync(lock, '', { mode: 0o666 });
  fs.chmodSync(lock, 0o666);
});
after(() => procs.cleanup());

function sh(script: string) {
  return run('/bin/sh', ['-c', script], { cwd: dir });
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const B = (name: string) => q(bin(name));

/** Each tool alone, as a command prefix. */
function alone(): Record<string, string> {
  return {
    envdir: `${B('envdir')} e`,
    envuidgid: `${B('envuidgid')} nobody`,
    setuidgid: `${B('setuidgid')} nobody`,
    softlimit: `${B('softlimit')} -o 64`,
    setlock: `${B('setlock')} ${q(lock)}`,
    pgrphack: B('pgrphack'),
  };
}

test('the child has the PID of the tool: a whole chain, and each tool alone', async () => {
  const chain = `${B('envdir')} e ${B('setuidgid')} nobody ${B('softlimit')} -o 64 ${B('setlock')} ${q(lock)}`;
  for (const [what, prefix] of Object.entries({ chain, ...alone() })) {
    const r = await sh(`echo $$; exec ${prefix} sh -c 'echo $$'`);
    assert.equal(r.code, 0, `${what}: ${r.stderr}`);
    const [a, b] = r.stdout.trim().split('\n');
    assert.match(a, /^\d+$/, what);
    assert.equal(b, a, `${what}: PID changed`);
  }
});

// Run by the tool itself (no shell in between, which would change its own
// signal mask while it forks): the child's signal state and stdio flags.
const STATE = "grep -E '^(Sig(Ign|Blk)|flags):' /proc/self/status /proc/self/fdinfo/0 /proc/self/fdinfo/1 /proc/self/fdinfo/2";

test('in the exec\'d child: no ignored or blocked signals, blocking stdio, no added descriptor (but the lock), the original open-files limit', async () => {
  // the descriptors a program started here has anyway (ls's own included)
  const base = await sh('exec ls /proc/self/fd');
  const baseFds = base.stdout.trim().split('\n');
  for (const [what, prefix] of Object.entries(alone())) {
    const r = await sh(`exec ${prefix} ${STATE}`);
    assert.equal(r.code, 0, `${what}: ${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.includes('/proc/self/status:SigIgn:\t0000000000000000'), `${what}: ${r.stdout}`);
    assert.ok(lines.includes('/proc/self/status:SigBlk:\t0000000000000000'), `${what}: ${r.stdout}`);
    for (const fd of [0, 1, 2]) {
      const line = lines.find((l) => l.startsWith(`/proc/self/fdinfo/${fd}:flags:`));
      assert.ok(line, `${what}: fd ${fd} is open`);
      const flags = parseInt(line.split('\t')[1], 8);
      assert.equal(flags & 0o4000, 0, `${what}: fd ${fd} is non-blocking`);
    }
    const fds = (await sh(`exec ${prefix} ls /proc/self/fd`)).stdout.trim().split('\n');
    const added = fds.filter((fd) => !baseFds.includes(fd));
    assert.equal(added.length, what === 'setlock' ? 1 : 0, `${what}: ${fds.join(' ')} (without the tool: ${baseFds.join(' ')})`);
    assert.equal(fds.length, baseFds.length + added.length, `${what}: ${fds.join(' ')}`);
    const nofile = await sh(`ulimit -Sn 1024; exec ${prefix} sh -c 'ulimit -Sn'`);
    assert.equal(nofile.stdout, what === 'softlimit' ? '64\n' : '1024\n', `${what}: ${nofile.stderr}`);
  }
});

test('setlock passes the locked file itself, open for appending', async () => {
  const r = await sh(`exec ${B('setlock')} ${q(lock)} sh -c 'for f in /proc/$$/fd/*; do readlink $f; done; grep -c "FLOCK.*WRITE $$ " /proc/locks'`);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.includes(lock), r.stdout);
  assert.equal(lines[lines.length - 1], '1', 'the child holds one flock write lock');
});

test('setuidgid nobody: uid, gid and groups are nobody\'s, as with the C setuidgid, and root cannot be regained', async () => {
  const probe = `grep -E "^(Uid|Gid|Groups):" /proc/self/status; ${q(cbin('setuidgid'))} root true; echo regain=$?`;
  const ours = await sh(`${B('setuidgid')} nobody sh -c ${q(probe)}`);
  const theirs = await sh(`${q(cbin('setuidgid'))} nobody sh -c ${q(probe)}`);
  assert.equal(ours.code, 0, ours.stderr);
  assert.deepEqual(ours, theirs);
  assert.match(ours.stdout, /^Uid:\t65534\t65534\t65534\t65534$/m);
  assert.match(ours.stdout, /^Groups:\t65534 ?$/m);
  assert.match(ours.stdout, /regain=111/);
});

test('setuidgid run by a user who is not root fails like the C setuidgid', async () => {
  const ours = await sh(`${q(cbin('setuidgid'))} nobody ${B('setuidgid')} root true`);
  const theirs = await sh(`${q(cbin('setuidgid'))} nobody ${q(cbin('setuidgid'))} root true`);
  assert.deepEqual(ours, theirs);
  assert.deepEqual({ code: ours.code, err: ours.stderr }, { code: 111, err: 'setuidgid: fatal: unable to setgid: permission denied\n' });
});

test('envuidgid sets UID and GID from the account database', async () => {
  const r = await sh(`${B('envuidgid')} nobody sh -c 'echo $UID $GID'`);
  assert.equal(r.code, 0, r.stderr);
  const passwd = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('nobody:'))!.split(':');
  assert.equal(r.stdout, `${passwd[2]} ${passwd[3]}\n`);
});

test('softlimit: a small memory limit reaches the end of a chain of Node programs', async () => {
  // Node needs hundreds of MB of address space; 20 MB is far below that.
  const chain = `${B('softlimit')} -m 20000000 ${B('envdir')} e ${B('setuidgid')} nobody ${B('setlock')} ${q(lock)}`;
  const r = await sh(`${chain} sh -c 'ulimit -v; ulimit -d; echo $FROMENV; id -u'`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '19531\n19531\nyes\n65534\n');
});

test('a tool started under a small address-space limit still works and passes the limit on', async () => {
  const r = await sh(`ulimit -Sv 100000; ${B('envdir')} e sh -c 'ulimit -v'`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '100000\n');
  const fail = await sh(`ulimit -Sv 100000; ${B('envdir')} e nonexistent-program`);
  assert.deepEqual({ code: fail.code, err: fail.stderr },
    { code: 111, err: 'envdir: fatal: unable to run nonexistent-program: file does not exist\n' });
});

test('softlimit = sets the soft limit to the hard one; values above the hard limit are clamped', async () => {
  const r = await sh(`ulimit -Sn 100; ${B('softlimit')} -o = sh -c 'ulimit -Sn; ulimit -Hn'`);
  assert.equal(r.code, 0, r.stderr);
  const [soft, hard] = r.stdout.trim().split('\n');
  assert.equal(soft, hard);
  const c = await sh(`ulimit -n 2000; ${B('softlimit')} -o 5000 sh -c 'ulimit -Sn'`);
  assert.equal(c.stdout, '2000\n', c.stderr);
});

test('arguments and environment reach the child byte for byte (not valid UTF-8 either)', async () => {
  const show = 'printf %s "$1" | od -An -tx1; printf %s "$RAW" | od -An -tx1';
  const r = await sh(`RAW=$(printf 'a\\351'); export RAW; exec ${B('envdir')} e sh -c ${q(show)} x "$(printf 'b\\377')"`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.replace(/\s+/g, ' ').trim(), '62 ff 61 e9');
});

test('signals the caller ignored, as recorded by the launcher, stay ignored in the child (like nohup through the C tools)', async () => {
  assert.deepEqual(ignoredSignals('Max open files  1024  4096  files;SigIgn:\t0000000000000003;'), [1, 2]);
  assert.deepEqual(ignoredSignals('SigIgn:\t0000000180000100;'), []); // KILL, 32, 33: never
  assert.deepEqual(ignoredSignals('Max cpu time  unlimited  unlimited  seconds;'), []);
  // the launcher's /proc/PID/stat line from field 3 on: field 33 holds signals 1-31; the others are this process's own
  const stat = (sigignore: string) => `Stat:${['S', ...Array.from({ length: 29 }, () => '0'), sigignore, '65536', ...Array.from({ length: 20 }, () => '0')].join(' ')};`;
  assert.deepEqual(ignoredSignals(`Fds:;${stat('16387')}`, () => 0n), [1, 2, 15]);
  assert.deepEqual(ignoredSignals(stat('3'), () => 0x8000008880001003n), [1, 2, 36, 40, 64]); // the own 1-31 are Node's, not the caller's
  assert.deepEqual(ignoredSignals(stat('x'), () => 0x8000000000000000n), []);
  // the bundle itself, given the record the launcher writes
  const r = await run(process.execPath, [path.join(ROOT, 'dist', 'envdir.js'), 'e', 'grep', '^SigIgn:', '/proc/self/status'], {
    cwd: dir,
    env: { PATH: process.env.PATH, DAEMONTOOLS_NODE_LIMITS: 'Max open files  1024  4096  files;SigIgn:\t0000000000000001;' },
  });
  assert.deepEqual({ code: r.code, out: r.stdout, err: r.stderr }, { code: 0, out: 'SigIgn:\t0000000000000001\n', err: '' });
});

test('pwdAddedBySize: PWD was added by the launcher\'s sh exactly when the environment it was given is that much smaller', () => {
  const entries = ['PATH=/bin', 'PWD=/tmp', 'A=1'].map((e) => Buffer.from(e));
  const record = (start: number, end: number) => `Stat:${['S', ...Array.from({ length: 46 }, () => '0'), String(start), String(end), '0'].join(' ')};PwdBySize;`;
  const size = 'PATH=/bin A=1 '.length;
  assert.equal(pwdAddedBySize(record(1000, 1000 + size), entries), true);
  assert.equal(pwdAddedBySize(record(1000, 1000 + size + 'PWD=/tmp '.length), entries), false);
  // sizes that fit neither (sh dropped or rewrote something): PWD stays
  assert.equal(pwdAddedBySize(record(1000, 1000 + size + 3), entries), false);
  // not asked for (the launchers that check PWD themselves), or no PWD at all
  assert.equal(pwdAddedBySize(record(1000, 1000 + size).replace('PwdBySize;', ''), entries), false);
  assert.equal(pwdAddedBySize(record(1000, 1000 + size), entries.filter((e) => !e.toString().startsWith('PWD='))), false);
});

test('descriptors above 2 the launcher recorded reach the child (Node makes 3-15 close-on-exec); setlock\'s lock and fghack\'s pipe go around them', async () => {
  assert.deepEqual(inheritedFds('Max open files  1024  4096  files;SigIgn:\t0;Fds: 3 7 251;'), [3, 7, 251]);
  assert.deepEqual(inheritedFds('Fds:;'), []);
  assert.deepEqual(inheritedFds('Max cpu time  unlimited  unlimited  seconds;'), []);
  // the bundle itself, given the record the launcher writes, with descriptors 3 and 5 open
  const probe = 'for f in 3 4 5 34; do echo $f $(readlink /proc/$$/fd/$f | sed "s/:.*//"); done';
  const bundle = (prog: string, args: string[]) => new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const extra = fs.openSync(path.join(dir, 'e', 'FROMENV'), 'r');
    const child = spawn(process.execPath, [path.join(ROOT, 'dist', `${prog}.js`), ...args, 'sh', '-c', probe], {
      cwd: dir,
      env: { PATH: process.env.PATH, DAEMONTOOLS_NODE_LIMITS: 'SigIgn:\t0;Fds: 3 5;' },
      stdio: ['ignore', 'pipe', 'inherit', extra, 'ignore', extra],
    });
    fs.closeSync(extra);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
  const env = path.join(dir, 'e', 'FROMENV');
  assert.deepEqual(await bundle('setlock', [lock]), { code: 0, out: `3 ${env}\n4 ${lock}\n5 ${env}\n34\n` });
  // fghack: the 31 copies of its pipe go around them, up to 35
  assert.deepEqual(await bundle('fghack', []), { code: 0, out: `3 ${env}\n4 pipe\n5 ${env}\n34 pipe\n` });
});

test('fghack: signals its caller ignored stay ignored in the child, as through the C fghack', async () => {
  const probe = `trap '' HUP INT USR1; exec "$0" grep ^SigIgn: /proc/self/status`;
  const [ours, theirs] = await Promise.all([sh(probe.replace('"$0"', B('fghack'))), sh(probe.replace('"$0"', q(cbin('fghack'))))]);
  assert.equal(theirs.stdout, 'SigIgn:\t0000000000000203\n', theirs.stderr);
  assert.deepEqual(ours, theirs);
});

test('descriptors above 2 given to a chain-loader reach the program it execs, as through the C tools', async () => {
  const script = 'exec 7</dev/null 9>/dev/null; exec "$0" "$@"';
  // ls lists its own descriptors (its directory handle is the lowest free one, the same on both
  // sides): a pipeline would race with the shell opening and closing its pipe ends
  const list = 'exec ls /proc/self/fd';
  const ours = await run('/bin/sh', ['-c', script, bin('pgrphack'), 'sh', '-c', list]);
  const theirs = await run('/bin/sh', ['-c', script, cbin('pgrphack'), 'sh', '-c', list]);
  assert.equal(ours.code, 0, ours.stderr);
  assert.match(theirs.stdout, /^7\n9\n$/m);
  assert.equal(ours.stdout, theirs.stdout);
});

test('NODE_OPTIONS in the environment neither stops the tools nor changes what the child gets', async () => {
  const env = { ...process.env, NODE_OPTIONS: '--no-such-node-option' };
  const ours = await run(bin('envuidgid'), ['nobody', 'sh', '-c', 'echo "$NODE_OPTIONS $UID"'], { env });
  const theirs = await run(cbin('envuidgid'), ['nobody', 'sh', '-c', 'echo "$NODE_OPTIONS $UID"'], { env });
  assert.deepEqual(ours, theirs);
  assert.equal(ours.stdout, '--no-such-node-option 65534\n');
});
