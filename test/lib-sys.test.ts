import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SysError, reason } from '../lib/os/errors';
import * as sys from '../lib/os/sys';
import { cbin, tmpdir } from './helpers';

// This file doubles as the child that execs `sh` through sys.execve after the
// pre-exec hygiene (last test): LIB_SYS_CHILD=exec.
if (process.env.LIB_SYS_CHILD === 'exec') {
  delete process.env.LIB_SYS_CHILD;
  // what a Node program does to itself: a signal handler, an ignored signal
  // (Node ignores SIGPIPE), stdout made non-blocking by touching it
  process.on('SIGHUP', () => undefined);
  process.on('SIGUSR1', () => undefined);
  sys.ignoreSignal(15);
  void process.stdout.writable;
  for (let fd = 0; fd <= 2; fd++) sys.makeInheritableBlocking(fd);
  sys.resetSignals();
  sys.resetReservedSignals(); // 32 and 33, which GNU make leaves ignored
  const script = 'echo pid $$; for f in 0 1 2; do while IFS= read -r l; do case $l in flags:*) echo "fd$f $l";; esac; done </proc/$$/fdinfo/$f; done; ' +
    'while IFS= read -r l; do case $l in SigIgn:*|SigBlk:*|SigCgt:*) echo "$l";; esac; done </proc/$$/status';
  const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
  try {
    sys.execve('/bin/sh', ['sh', '-c', script], env);
  } catch (e) {
    fs.writeSync(2, `execve failed: ${String(e)}\n`);
    process.exit(99);
  }
}

const dir = tmpdir();
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The `flags:` of an fd (octal), from /proc/self/fdinfo. */
function fdFlags(fd: number): number {
  const m = /^flags:\s+([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  assert.ok(m);
  return parseInt(m[1], 8);
}

test('pipe2: close-on-exec by default, plain on request, data flows', () => {
  const [r, w] = sys.pipe2();
  assert.ok(fdFlags(r) & sys.O_CLOEXEC);
  assert.ok(fdFlags(w) & sys.O_CLOEXEC);
  fs.writeSync(w, 'hello');
  const b = Buffer.alloc(10);
  assert.equal(b.toString('utf8', 0, fs.readSync(r, b, 0, 10, null)), 'hello');
  const [r2, w2] = sys.pipe2(0);
  assert.equal(fdFlags(r2) & sys.O_CLOEXEC, 0);
  assert.equal(sys.fcntl(w2, sys.F_GETFD) & sys.FD_CLOEXEC, 0);
  sys.setCloexec(w2, true);
  assert.equal(sys.fcntl(w2, sys.F_GETFD) & sys.FD_CLOEXEC, sys.FD_CLOEXEC);
  sys.setNonblock(r2, true);
  assert.ok(fdFlags(r2) & sys.O_NONBLOCK);
  assert.throws(() => fs.readSync(r2, b, 0, 10, null), { code: 'EAGAIN' });
  sys.makeInheritableBlocking(w2);
  assert.equal(sys.fcntl(w2, sys.F_GETFD) & sys.FD_CLOEXEC, 0);
  for (const fd of [r, w, r2, w2]) sys.close(fd);
  assert.throws(() => sys.close(r), (e: unknown) => e instanceof SysError && e.code === 'EBADF' && e.syscall === 'close');
});

test('open: flags and mode as given, errors as SysError with the errno name', () => {
  const file = path.join(dir, 'f');
  const old = process.umask(0o022);
  try {
    const fd = sys.open(file, sys.O_WRONLY | sys.O_CREAT | sys.O_APPEND | sys.O_CLOEXEC, 0o640);
    const flags = fdFlags(fd);
    assert.ok(flags & sys.O_APPEND);
    assert.ok(flags & sys.O_CLOEXEC);
    assert.equal(flags & 3, sys.O_WRONLY);
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    sys.close(fd);
  } finally {
    process.umask(old);
  }
  assert.throws(() => sys.open(file, sys.O_WRONLY | sys.O_CREAT | sys.O_EXCL), (e: unknown) => e instanceof SysError && e.code === 'EEXIST');
  assert.throws(() => sys.open(path.join(dir, 'nope'), sys.O_RDONLY), (e: unknown) => {
    return e instanceof SysError && e.code === 'ENOENT' && e.syscall === 'open' && reason(e) === 'file does not exist';
  });
  const fifo = path.join(dir, 'fifo');
  sys.mkfifo(fifo, 0o600);
  assert.throws(() => sys.open(fifo, sys.O_WRONLY | sys.O_NONBLOCK), (e: unknown) => e instanceof SysError && e.code === 'ENXIO');
});

test('mkfifo: a FIFO with the mode given; EEXIST the second time', () => {
  const fifo = path.join(dir, 'control');
  const old = process.umask(0);
  try {
    sys.mkfifo(fifo, 0o600);
  } finally {
    process.umask(old);
  }
  const st = fs.statSync(fifo);
  assert.ok(st.isFIFO());
  assert.equal(st.mode & 0o777, 0o600);
  assert.throws(() => sys.mkfifo(fifo, 0o600), (e: unknown) => e instanceof SysError && e.code === 'EEXIST');
});

test('flock: two descriptors of one file exclude each other, also against the C setlock', () => {
  const file = path.join(dir, 'lock');
  const a = sys.open(file, sys.O_WRONLY | sys.O_CREAT | sys.O_CLOEXEC, 0o600);
  const b = sys.open(file, sys.O_WRONLY | sys.O_CLOEXEC);
  sys.flock(a, sys.LOCK_EX | sys.LOCK_NB);
  assert.throws(() => sys.flock(b, sys.LOCK_EX | sys.LOCK_NB), (e: unknown) => e instanceof SysError && reason(e) === 'temporary failure');
  assert.equal(spawnSync(cbin('setlock'), ['-n', file, 'true']).status, 111, 'the C setlock sees our lock');
  sys.flock(a, sys.LOCK_UN);
  sys.flock(b, sys.LOCK_EX | sys.LOCK_NB);
  assert.throws(() => sys.flock(a, sys.LOCK_SH | sys.LOCK_NB), (e: unknown) => e instanceof SysError);
  sys.close(b);
  sys.flock(a, sys.LOCK_SH | sys.LOCK_NB);
  sys.close(a);
  assert.equal(spawnSync(cbin('setlock'), ['-n', file, 'true']).status, 0);
});

test('getrlimit/setrlimit: round trips, Infinity for unlimited, matches /proc/self/limits', () => {
  const nofile = sys.getrlimit(sys.RLIMIT.NOFILE);
  try {
    sys.setrlimit(sys.RLIMIT.NOFILE, { soft: 777, hard: nofile.hard });
    assert.deepEqual(sys.getrlimit(sys.RLIMIT.NOFILE), { soft: 777, hard: nofile.hard });
    assert.match(fs.readFileSync('/proc/self/limits', 'utf8'), /^Max open files +777 /m);
  } finally {
    sys.setrlimit(sys.RLIMIT.NOFILE, nofile);
  }
  assert.deepEqual(sys.getrlimit(sys.RLIMIT.NOFILE), nofile);
  const core = sys.getrlimit(sys.RLIMIT.CORE);
  try {
    sys.setrlimit(sys.RLIMIT.CORE, { soft: core.hard, hard: core.hard });
    assert.equal(sys.getrlimit(sys.RLIMIT.CORE).soft, core.hard);
    if (core.hard === Infinity) assert.match(fs.readFileSync('/proc/self/limits', 'utf8'), /^Max core file size +unlimited /m);
  } finally {
    sys.setrlimit(sys.RLIMIT.CORE, core);
  }
  assert.throws(() => sys.setrlimit(sys.RLIMIT.NOFILE, { soft: nofile.hard + 1, hard: nofile.hard }),
    (e: unknown) => e instanceof SysError && e.code === 'EINVAL');
});

test('getpwnam: nobody from the account database, undefined for an unknown name', () => {
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('nobody:'))!.split(':');
  assert.deepEqual(sys.getpwnam('nobody'), { name: 'nobody', uid: Number(line[2]), gid: Number(line[3]), dir: line[5], shell: line[6] });
  assert.equal(sys.getpwnam('no-such-user-dtn'), undefined);
  assert.equal(sys.getpwnam('0'), undefined, 'a number is not a name');
});

test('pre-exec hygiene: the exec\'d sh has default signals, an empty mask, blocking inheritable stdio, same pid', () => {
  const r = spawnSync(process.execPath, [__filename], {
    env: { ...process.env, LIB_SYS_CHILD: 'exec' }, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 20000,
  });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  const lines = new Map<string, string>();
  for (const l of r.stdout.split('\n')) {
    const m = /^(\S+?):?\s+(.*)$/.exec(l);
    if (m) lines.set(m[1], m[2]);
  }
  assert.equal(lines.get('pid'), String(r.pid), 'the same process: a real execve');
  assert.equal(lines.get('SigIgn'), '0000000000000000');
  assert.equal(lines.get('SigBlk'), '0000000000000000');
  for (const fd of ['fd0', 'fd1', 'fd2']) {
    const flags = parseInt(/flags:\s*([0-7]+)/.exec(lines.get(fd) ?? '')?.[1] ?? 'x', 8);
    assert.ok(!Number.isNaN(flags), `${fd} open in sh`);
    assert.equal(flags & sys.O_NONBLOCK, 0, `${fd} blocking`);
    assert.equal(flags & sys.O_CLOEXEC, 0, `${fd} not close-on-exec`);
  }
});
