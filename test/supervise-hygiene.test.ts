// What ./run inherits from our supervise: default signal state, blocking
// stdio, no stray descriptors, the soft limits supervise was given; and a
// service writing a lot to a slow pipe loses nothing.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, waitFor } from './helpers';
import { SLEEPER, makeService, readLog, waitUp } from './fixtures/service';
import { MODES, startSupervise } from './fixtures/supervised';

const procs = new Procs();
after(() => procs.cleanup());

function procField(pid: number, field: string): string {
  const m = new RegExp(`^${field}:\\s+(\\S+)`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, `${field} in /proc/${pid}/status`);
  return m[1];
}

function fdFlags(pid: number, fd: number): number {
  const m = /^flags:\s+([0-7]+)/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
  assert.ok(m);
  return parseInt(m[1], 8);
}

const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

for (const mode of MODES) test(`${mode}: ./run: no signal ignored or blocked, blocking stdio, only fds 0-2`, async () => {
  const dir = makeService(procs, SLEEPER);
  // stdin, stdout and stderr real pipes, shared with supervise (pitfall 2)
  startSupervise(procs, dir, { mode, via: ['/bin/sh', '-c', 'sleep 1000 | "$0" "$@" 2>&1 | cat >/dev/null'] });
  const pid = await waitUp(dir, { procs });
  await waitFor(() => fs.readlinkSync(`/proc/${pid}/exe`).endsWith('sleep'), 'run exec()ed sleep');
  assert.equal(procField(pid, 'SigIgn'), '0000000000000000');
  assert.equal(procField(pid, 'SigBlk'), '0000000000000000');
  // fds this test process was itself given without close-on-exec are passed down by everyone
  const inherited = new Set(fs.readdirSync('/proc/self/fd').map(Number).filter((fd) => {
    try {
      return fd > 2 && (fdFlags(process.pid, fd) & O_CLOEXEC) === 0;
    } catch {
      return false;
    }
  }));
  const fds = fs.readdirSync(`/proc/${pid}/fd`).map(Number).filter((fd) => !inherited.has(fd));
  assert.deepEqual(fds.sort((a, b) => a - b), [0, 1, 2]);
  assert.match(fs.readlinkSync(`/proc/${pid}/fd/0`), /^pipe:/);
  assert.match(fs.readlinkSync(`/proc/${pid}/fd/1`), /^pipe:/);
  for (const fd of [0, 1, 2]) assert.equal(fdFlags(pid, fd) & O_NONBLOCK, 0, `fd ${fd} of ./run is blocking`);
});

for (const mode of MODES) test(`${mode}: soft limits given to supervise reach ./run (ulimit -Sn 1024, ulimit -Sv)`, async () => {
  const dir = makeService(procs, '#!/bin/sh\necho "$(ulimit -Sn) $(ulimit -Sv)" > limits.txt\nexec sleep 1000\n');
  startSupervise(procs, dir, { mode, via: ['/bin/sh', '-c', 'ulimit -Sn 1024; ulimit -Sv 8000000; exec "$0" "$@"'] });
  await waitUp(dir, { procs });
  const text = await waitFor(() => fs.readFileSync(path.join(dir, 'limits.txt'), 'utf8'), 'limits.txt');
  assert.equal(text, '1024 8000000\n');
});

for (const mode of MODES) test(`${mode}: under ulimit -Sv (shell prefix path) a missing run is still reported in our words`, async () => {
  const dir = makeService(procs, undefined);
  const sup = startSupervise(procs, dir, { mode, via: ['/bin/sh', '-c', 'ulimit -Sv 8000000; exec "$0" "$@"'] });
  await waitFor(() => sup.stderr().includes('\n'), 'a start failure');
  assert.equal(sup.stderr().split('\n')[0], `supervise: fatal: unable to start ${sup.name}/run: file does not exist`);
});

for (const mode of MODES) test(`${mode}: 1 MiB written by the service through a pipe to a slow reader: nothing lost, no EAGAIN`, async () => {
  const dir = makeService(procs, `#!/bin/sh\nhead -c 1048576 ../data.bin 2>head.err; echo $? >> rc.log\nexec sleep 1000\n`);
  const base = path.dirname(dir);
  const data = crypto.randomBytes(1 << 20);
  fs.writeFileSync(path.join(base, 'data.bin'), data);
  // a reader that takes 4 KiB every 2 ms: the pipe is full most of the time
  const slow = `perl -e 'while (sysread(STDIN, $b, 4096)) { syswrite(STDOUT, $b); select(undef, undef, undef, 0.002) }'`;
  startSupervise(procs, dir, { mode, via: ['/bin/sh', '-c', `"$0" "$@" | ${slow} > ${path.join(base, 'out.bin')}`] });
  await waitUp(dir, { procs });
  await waitFor(() => readLog(dir, 'rc.log').length > 0, 'head finished', 30000);
  assert.deepEqual(readLog(dir, 'rc.log'), ['0'], `head saw no write error: ${readLog(dir, 'head.err').join(' ')}`);
  await waitFor(() => fs.statSync(path.join(base, 'out.bin')).size >= data.length, 'all bytes read', 30000);
  assert.ok(fs.readFileSync(path.join(base, 'out.bin')).equals(data));
});

test('supervise itself: idle means no wakeups, and stdio it shares stays blocking', async () => {
  const dir = makeService(procs, SLEEPER);
  const sup = startSupervise(procs, dir);
  await waitUp(dir, { procs });
  const pid = sup.child.pid!;
  for (const fd of [0, 1, 2]) assert.equal(fdFlags(pid, fd) & O_NONBLOCK, 0, `supervise fd ${fd} blocking`);
  const switches = (): number => fs.readdirSync(`/proc/${pid}/task`).reduce((sum, t) => {
    const s = fs.readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
    return sum + Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(s)![1]) + Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(s)![1]);
  }, 0);
  // let start-up work settle (the first status, the start of ./run)
  let before = switches();
  await waitFor(async () => {
    await new Promise((r) => setTimeout(r, 300));
    const now = switches();
    const quiet = now === before;
    before = now;
    return quiet;
  }, 'supervise to go idle', 10000, 0);
  await new Promise((r) => setTimeout(r, 2000)); // the measurement window, not a synchronisation
  assert.equal(switches(), before, 'context switches of an idle supervise (all threads) over 2 s');
});

test('SIGUSR1 to supervise opens no inspector port and supervise keeps working', async () => {
  const dir = makeService(procs, '#!/bin/sh\necho "start $$" >> starts.log\nexec sleep 1000\n');
  const sup = startSupervise(procs, dir);
  const pid1 = await waitUp(dir, { procs });
  const listening9229 = (): boolean => ['/proc/net/tcp', '/proc/net/tcp6'].some((f) => {
    try {
      return fs.readFileSync(f, 'utf8').split('\n').some((l) => / [0-9A-F]+:2405 [0-9A-F]+:0000 0A /.test(l));
    } catch {
      return false;
    }
  });
  const wasListening = listening9229();
  process.kill(sup.child.pid!, 'SIGUSR1');
  // supervise handles the signal, then a control byte proves it still works
  fs.writeFileSync(path.join(dir, 'supervise', 'control'), 'k');
  await waitUp(dir, { procs, not: pid1 });
  assert.equal(sup.child.exitCode, null);
  if (!wasListening) assert.equal(listening9229(), false, 'nothing listens on 9229');
  // beyond stdio (stderr is the test's socketpair)
  const fds = fs.readdirSync(`/proc/${sup.child.pid}/fd`).filter((f) => Number(f) > 2).map((f) => {
    try {
      return fs.readlinkSync(`/proc/${sup.child.pid}/fd/${f}`);
    } catch {
      return '';
    }
  });
  assert.ok(!fds.some((l) => l.startsWith('socket:')), 'supervise holds no socket');
});

// started straight, and through the two /bin/sh wrappers a spawn may need: signals our caller
// ignored (nohup: trap '' 1) and a soft limit the parent cannot lower on itself (ulimit -S -v)
for (const [how, prefix] of [['', []], [' (nohup)', ['nohup']], [' (a soft address-space limit)', ['prlimit', '--as=4000000000:']]] as const) {
  for (const mode of MODES) test(`${mode}: ./run gets exactly the environment supervise was given${how}`, async () => {
    const dir = makeService(procs, `#!/usr/bin/perl
open(my $f, '>', 'env.tmp') or die; print $f join("\\0", map { "$_=$ENV{$_}" } sort keys %ENV); close $f;
rename('env.tmp', 'env.txt'); exec('sleep', '1000');
`);
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', FOO: 'bar baz', EMPTY: '' };
    // the launcher moves this one out of Node's way for some programs; the service must still get it
    if (process.env.NODE_EXTRA_CA_CERTS) env.NODE_EXTRA_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;
    const sup = startSupervise(procs, dir, { mode, via: [...prefix], env });
    await waitUp(dir, { procs });
    const text = await waitFor(() => fs.readFileSync(path.join(dir, 'env.txt'), 'utf8'), 'env.txt');
    // exactly: no PWD either, although the launcher's sh (and a wrapping sh) exports one
    assert.deepEqual(text.split('\0'), Object.entries(env).map(([k, v]) => `${k}=${v}`).sort());
    assert.equal(sup.stderr(), '');
  });
}
