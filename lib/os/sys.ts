// The only module that talks to libc (through koffi): the system calls Node
// lacks. Each wrapper throws a SysError carrying the errno code name.
// koffi is loaded on first use, so programs that never need it never pay
// for it.
import { SysError } from './errors';

/* eslint-disable @typescript-eslint/no-explicit-any */
type KoffiFn = (...args: unknown[]) => any;
interface Koffi {
  load(path: string): { func(sig: string): KoffiFn };
  struct(name: string, def: Record<string, string>): unknown;
  pointer(name: string, type: unknown): unknown;
  opaque(name: string): unknown;
  decode(ptr: unknown, type: string | unknown): any;
  errno(): number;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const FD_CLOEXEC = 1;
export const F_DUPFD_CLOEXEC = 1030;
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

export const RLIMIT = {
  CPU: 0,
  FSIZE: 1,
  DATA: 2,
  STACK: 3,
  CORE: 4,
  RSS: 5,
  NPROC: 6,
  NOFILE: 7,
  MEMLOCK: 8,
  AS: 9,
  LOCKS: 10,
  SIGPENDING: 11,
  MSGQUEUE: 12,
  NICE: 13,
  RTPRIO: 14,
  RTTIME: 15,
} as const;

/** A resource limit value; Infinity stands for RLIM_INFINITY. */
export interface RLimit {
  soft: number;
  hard: number;
}

const RLIM_INFINITY = 18446744073709551615n;

let errnoNames: Map<number, string> | undefined;
export function errnoName(n: number): string {
  if (!errnoNames) {
    // node:os only when a name is needed (loading it and the map: 0.7 ms of a chain-loader's start)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const os = require('node:os') as typeof import('node:os');
    errnoNames = new Map();
    for (const [name, value] of Object.entries(os.constants.errno)) {
      if (!errnoNames.has(value)) errnoNames.set(value, name);
    }
  }
  return errnoNames.get(n) ?? `E${n}`;
}

interface Libc {
  koffi: Koffi;
  execve: KoffiFn;
  pipe2: KoffiFn;
  mkfifo: KoffiFn;
  flock: KoffiFn;
  open: KoffiFn;
  close: KoffiFn;
  fcntl: KoffiFn;
  dup2: KoffiFn;
  lseek: KoffiFn;
  getrlimit: KoffiFn;
  setrlimit: KoffiFn;
  getpwnam: KoffiFn;
  setsid: KoffiFn;
  setgroups: KoffiFn;
  setgid: KoffiFn;
  setuid: KoffiFn;
  signal: KoffiFn;
  sigprocmask: KoffiFn;
  syscall: KoffiFn;
  waitid: KoffiFn;
  waitpid: KoffiFn;
  passwd: unknown;
}

interface SpawnFns {
  spawn: KoffiFn;
  spawnp: KoffiFn;
  faInit: KoffiFn;
  faDestroy: KoffiFn;
  faDup2: KoffiFn;
  faOpen: KoffiFn;
  faChdir: KoffiFn;
  attrInit: KoffiFn;
  attrDestroy: KoffiFn;
  attrFlags: KoffiFn;
  attrSigdefault: KoffiFn;
  attrSigmask: KoffiFn;
  waitpid: KoffiFn;
}

let libc: Libc | undefined;

// koffi's index.js loads https, zlib and crypto just to locate its prebuilt
// binary (about 10 ms at every start); the binary exports the same API, so
// load it directly and fall back to the package entry (e.g. on musl).
// First where a bundle's koffi is (dist/../node_modules: ./dist, make
// install, the npm package), by its path: resolving a package path reads
// koffi's package.json and realpaths seven directories (about 1 ms).
function requireKoffi(): Koffi {
  const mod = { exports: {} as Koffi };
  try {
    process.dlopen(mod, `${__dirname}/../node_modules/koffi/build/koffi/${process.platform}_${process.arch}/koffi.node`);
    return mod.exports;
  } catch {
    // not there: resolve it as a package
  }
  /* eslint-disable @typescript-eslint/no-require-imports */
  try {
    return require(`koffi/build/koffi/${process.platform}_${process.arch}/koffi.node`) as Koffi;
  } catch {
    return require('koffi') as Koffi;
  }
  /* eslint-enable @typescript-eslint/no-require-imports */
}

function load(): Libc {
  if (libc) return libc;
  const koffi = requireKoffi();
  const lib = koffi.load('libc.so.6');
  koffi.struct('dt_rlimit', { rlim_cur: 'uint64_t', rlim_max: 'uint64_t' });
  const passwd = koffi.struct('dt_passwd', {
    pw_name: 'const char *',
    pw_passwd: 'const char *',
    pw_uid: 'uint32_t',
    pw_gid: 'uint32_t',
    pw_gecos: 'const char *',
    pw_dir: 'const char *',
    pw_shell: 'const char *',
  });
  libc = {
    koffi,
    passwd,
    execve: lib.func('int execve(const char *path, const char **argv, const char **envp)'),
    pipe2: lib.func('int pipe2(_Out_ int *fds, int flags)'),
    mkfifo: lib.func('int mkfifo(const char *path, uint32_t mode)'),
    flock: lib.func('int flock(int fd, int op)'),
    open: lib.func('int open(const char *path, int flags, uint32_t mode)'),
    close: lib.func('int close(int fd)'),
    fcntl: lib.func('int fcntl(int fd, int cmd, long arg)'),
    dup2: lib.func('int dup2(int oldfd, int newfd)'),
    lseek: lib.func('int64_t lseek(int fd, int64_t offset, int whence)'),
    getrlimit: lib.func('int getrlimit(int resource, _Out_ dt_rlimit *rlim)'),
    setrlimit: lib.func('int setrlimit(int resource, const dt_rlimit *rlim)'),
    getpwnam: lib.func('void *getpwnam(const char *name)'),
    setsid: lib.func('int setsid()'),
    setgroups: lib.func('int setgroups(size_t size, const uint32_t *list)'),
    setgid: lib.func('int setgid(uint32_t gid)'),
    setuid: lib.func('int setuid(uint32_t uid)'),
    signal: lib.func('void *signal(int sig, void *handler)'),
    sigprocmask: lib.func('int sigprocmask(int how, const uint8_t *set, uint8_t *oldset)'),
    syscall: lib.func('long syscall(long number, ...)'),
    waitid: lib.func('int waitid(int idtype, uint32_t id, void *info, int options)'),
    waitpid: lib.func('int waitpid(int pid, void *status, int options)'),
  };
  return libc;
}

function check(result: number, syscall: string): number {
  if (result < 0) {
    const n = load().koffi.errno();
    throw new SysError(errnoName(n), syscall, n);
  }
  return result;
}

/** Loads libc now (so that later calls allocate as little as possible). */
export function preload(): void {
  load();
}

/** path: a string, or its exact bytes (a Buffer, NUL-terminated here). */
export function open(path: string | Buffer, flags: number, mode = 0o666): number {
  return check(load().open(typeof path === 'string' ? path : Buffer.concat([path, Buffer.from([0])]), flags, mode), 'open');
}

export function close(fd: number): void {
  check(load().close(fd), 'close');
}

export function pipe2(flags = O_CLOEXEC): [number, number] {
  const fds = [0, 0];
  check(load().pipe2(fds, flags), 'pipe2');
  return [fds[0], fds[1]];
}

export function mkfifo(path: string, mode: number): void {
  check(load().mkfifo(path, mode), 'mkfifo');
}

export function flock(fd: number, op: number): void {
  check(load().flock(fd, op), 'flock');
}

export function fcntl(fd: number, cmd: number, arg = 0): number {
  return check(load().fcntl(fd, cmd, arg), 'fcntl');
}

export const SEEK_SET = 0;

export function lseek(fd: number, offset: number, whence: number): number {
  return check(Number(load().lseek(fd, offset, whence)), 'lseek');
}

export function dup2(oldfd: number, newfd: number): void {
  check(load().dup2(oldfd, newfd), 'dup2');
}

function fromRlim(v: number | bigint): number {
  return BigInt(v) === RLIM_INFINITY ? Infinity : Number(v);
}

function toRlim(v: number): bigint {
  return v === Infinity ? RLIM_INFINITY : BigInt(Math.floor(v));
}

export function getrlimit(resource: number): RLimit {
  const out: { rlim_cur?: number | bigint; rlim_max?: number | bigint } = {};
  check(load().getrlimit(resource, out), 'getrlimit');
  return { soft: fromRlim(out.rlim_cur ?? 0), hard: fromRlim(out.rlim_max ?? 0) };
}

export function setrlimit(resource: number, limit: RLimit): void {
  check(load().setrlimit(resource, { rlim_cur: toRlim(limit.soft), rlim_max: toRlim(limit.hard) }), 'setrlimit');
}

/** setrlimit with the soft limit as an exact 64-bit value (a double holds only 53 bits). */
export function setrlimitExact(resource: number, soft: bigint, hard: number): void {
  check(load().setrlimit(resource, { rlim_cur: BigInt.asUintN(64, soft), rlim_max: toRlim(hard) }), 'setrlimit');
}

export interface Account {
  name: string;
  uid: number;
  gid: number;
  dir: string;
  shell: string;
}

/** getpwnam(3): the system account database (NSS included); undefined if unknown. */
export function getpwnam(name: string | Buffer): Account | undefined {
  const c = load();
  // a Buffer: the name's exact bytes
  const p = c.getpwnam(typeof name === 'string' ? name : Buffer.concat([name, Buffer.from([0])]));
  if (!p) return undefined;
  const pw = c.koffi.decode(p, c.passwd) as {
    pw_name: string;
    pw_uid: number;
    pw_gid: number;
    pw_dir: string;
    pw_shell: string;
  };
  return { name: pw.pw_name, uid: pw.pw_uid, gid: pw.pw_gid, dir: pw.pw_dir, shell: pw.pw_shell };
}

export function setsid(): number {
  return check(load().setsid(), 'setsid');
}

export function setgroups(gids: number[]): void {
  check(load().setgroups(gids.length, gids), 'setgroups');
}

export function setgid(gid: number): void {
  check(load().setgid(gid), 'setgid');
}

export function setuid(uid: number): void {
  check(load().setuid(uid), 'setuid');
}

/** Clears FD_CLOEXEC and O_NONBLOCK on fd (Node sets both on stdio). */
export function makeInheritableBlocking(fd: number): void {
  const c = load();
  const fdFlags = c.fcntl(fd, F_GETFD, 0);
  if (fdFlags < 0) return; // not open: nothing to fix
  if (fdFlags & FD_CLOEXEC) c.fcntl(fd, F_SETFD, fdFlags & ~FD_CLOEXEC);
  const flFlags = c.fcntl(fd, F_GETFL, 0);
  if (flFlags >= 0 && flFlags & O_NONBLOCK) c.fcntl(fd, F_SETFL, flFlags & ~O_NONBLOCK);
}

export function setCloexec(fd: number, on: boolean): void {
  const flags = fcntl(fd, F_GETFD);
  fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC);
}

export function setNonblock(fd: number, on: boolean): void {
  const flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
}

const SIG_SETMASK = 2;
const NSIG = 65;

/** Every signal disposition back to default and an empty signal mask, for exec. */
export function resetSignals(): void {
  const c = load();
  for (let sig = 1; sig < NSIG; sig++) {
    if (sig === 9 || sig === 19 || sig === 32 || sig === 33) continue; // KILL, STOP, glibc-reserved
    c.signal(sig, null);
  }
  c.sigprocmask(SIG_SETMASK, Buffer.alloc(128), null);
}

const SYS_rt_sigaction: Partial<Record<string, number>> = { x64: 13, arm64: 134, riscv64: 134, loong64: 134 };
const KERNEL_SIGACTION_SIZE = 32; // handler, flags, restorer, mask (64-bit)

/**
 * Signals 32 and 33 belong to glibc (thread cancellation, set*id), which
 * refuses to change them, and neither libuv's spawn nor resetSignals()
 * touches them; but a parent may leave them ignored (GNU make does), and an
 * ignored signal survives exec. Where they are ignored, put them back to
 * default with the raw system call. (Where glibc has its own handler in
 * place they are not ignored, and are left alone.)
 */
export function resetReservedSignals(): void {
  const nr = SYS_rt_sigaction[process.arch];
  if (nr === undefined) return;
  const c = load();
  for (const sig of [32, 33]) {
    const old = Buffer.alloc(KERNEL_SIGACTION_SIZE);
    if (c.syscall(nr, 'int', sig, 'void *', null, 'void *', old, 'size_t', 8) !== 0) continue;
    if (old.readBigUInt64LE(0) !== 1n) continue; // not SIG_IGN
    c.syscall(nr, 'int', sig, 'void *', Buffer.alloc(KERNEL_SIGACTION_SIZE), 'void *', null, 'size_t', 8);
  }
}

const SIG_IGN_ACTION = Buffer.alloc(KERNEL_SIGACTION_SIZE);
SIG_IGN_ACTION.writeBigUInt64LE(1n, 0);

/**
 * Runs fn with signals set to SIG_IGN in this process, then puts their
 * actions back exactly (the kernel's own record of each, handler, flags
 * and mask). For a child that must start with them ignored (posix_spawn
 * passes SIG_IGN on to the signals it does not reset). Meanwhile this
 * process ignores them too: only for signals its caller ignored, which a
 * C program would ignore as well.
 */
export function whileIgnoring<T>(signals: readonly number[], fn: () => T): T {
  const nr = SYS_rt_sigaction[process.arch];
  if (nr === undefined || signals.length === 0) return fn();
  const c = load();
  const saved: Array<[number, Buffer]> = [];
  try {
    for (const sig of signals) {
      const old = Buffer.alloc(KERNEL_SIGACTION_SIZE);
      if (c.syscall(nr, 'int', sig, 'void *', SIG_IGN_ACTION, 'void *', old, 'size_t', 8) === 0) saved.push([sig, old]);
    }
    return fn();
  } finally {
    for (const [sig, old] of saved) c.syscall(nr, 'int', sig, 'void *', old, 'void *', null, 'size_t', 8);
  }
}

/** execve(2): returns only by throwing. */
export function execve(path: string, argv: readonly string[], envp: readonly string[]): never {
  const c = load();
  c.execve(path, [...argv, null], [...envp, null]);
  const n = c.koffi.errno();
  throw new SysError(errnoName(n), 'execve', n);
}

/** execve without the allocation of building arrays: for prepared argument lists. */
export function execvePrepared(path: string, argv: (string | null)[], envp: (string | null)[]): number {
  const c = load();
  c.execve(path, argv, envp);
  return c.koffi.errno();
}

/**
 * execve with NUL-terminated byte strings (exact bytes, no UTF-8 conversion),
 * argv and envp ending with null; returns errno (it returns only on failure).
 */
export function execveBytes(path: Buffer, argv: (Buffer | null)[], envp: (Buffer | null)[]): number {
  const c = load();
  c.execve(path, argv, envp);
  return c.koffi.errno();
}

const P_ALL = 0;
const WNOHANG = 1;
const WEXITED = 4;
const WNOWAIT = 0x01000000;

/**
 * The pid of a child that has terminated, left unreaped (waitid with
 * WNOWAIT), or 0 if none has. For a PID 1 that reaps orphans without
 * stealing the exit of a child that Node itself waits for.
 */
export function peekExitedChild(): number {
  const info = Buffer.alloc(128); // siginfo_t; si_pid at offset 16 on 64-bit Linux
  const r = load().waitid(P_ALL, 0, info, WEXITED | WNOHANG | WNOWAIT);
  if (r < 0) return 0;
  return info.readInt32LE(16);
}

/** waitpid(pid, WNOHANG): reaps pid if it has terminated; true if it did. */
export function reapChild(pid: number): boolean {
  return load().waitpid(pid, null, WNOHANG) === pid;
}

/** Sets sig's disposition to SIG_IGN (to give a child the ignored signals this process was started with). */
export function ignoreSignal(sig: number): void {
  load().signal(sig, 1);
}

/** signal(sig, SIG_DFL). */
export function defaultSignal(sig: number): void {
  load().signal(sig, null);
}

const PR_SET_MM = 35;
const PR_SET_MM_MAP = 14;
const PRCTL_MM_MAP_SIZE = 104;
const PRCTL_MM_MAP_BRK = 40;
const SYS_brk: Partial<Record<string, number>> = { x64: 12, arm64: 214, riscv64: 214, loong64: 214 };
let prctlFn: KoffiFn | undefined;

/**
 * prctl(PR_SET_MM, PR_SET_MM_MAP, map): sets this process's memory-map
 * fields (struct prctl_mm_map, 104 bytes: start_code, end_code, start_data,
 * end_data, start_brk, brk, start_stack, arg_start, arg_end, env_start,
 * env_end, auxv, auxv_size, exe_fd), e.g. to move arg_end
 * (lib/os/proctitle.ts). No capability is needed (Linux 3.18+ with
 * CONFIG_CHECKPOINT_RESTORE) as long as exe_fd is -1. brk is filled in here
 * with its current value (brk(0)), read just before the call, so that the
 * heap's end stays where malloc has it (only the main thread's malloc arena
 * moves brk; call this at start-up, from the main thread).
 */
export function prctlSetMmMap(map: Buffer): void {
  const nr = SYS_brk[process.arch];
  if (nr === undefined || map.length !== PRCTL_MM_MAP_SIZE) throw new SysError('EINVAL', 'prctl', 22);
  const c = load();
  prctlFn ??= c.koffi.load('libc.so.6').func('int prctl(int option, unsigned long arg2, void *arg3, unsigned long arg4, unsigned long arg5)');
  const brk = Number(c.syscall(nr, 'unsigned long', 0));
  map.writeUInt32LE(brk % 0x100000000, PRCTL_MM_MAP_BRK);
  map.writeUInt32LE(Math.floor(brk / 0x100000000), PRCTL_MM_MAP_BRK + 4);
  check(prctlFn(PR_SET_MM, PR_SET_MM_MAP, map, PRCTL_MM_MAP_SIZE, 0), 'prctl');
}

const SYS_pidfd_open = 434; // the same number on every architecture (Linux 5.3+)

/** pidfd_open(2): a descriptor that becomes readable when pid exits (not only for our children). Close-on-exec. */
export function pidfdOpen(pid: number): number {
  return check(Number(load().syscall(SYS_pidfd_open, 'int', pid, 'unsigned int', 0)), 'pidfd_open');
}

export const IN_CLOSE_WRITE = 0x8;
export const IN_MOVED_TO = 0x80;
const IN_NONBLOCK_CLOEXEC = 0o4000 | 0o2000000;
let inotifyFns: { init: KoffiFn; add: KoffiFn } | undefined;

/** A new inotify descriptor, non-blocking and close-on-exec (read it with poll() and fs.readSync). */
export function inotifyInit(): number {
  if (!inotifyFns) {
    const lib = load().koffi.load('libc.so.6');
    inotifyFns = { init: lib.func('int inotify_init1(int flags)'), add: lib.func('int inotify_add_watch(int fd, const char *path, uint32_t mask)') };
  }
  return check(inotifyFns.init(IN_NONBLOCK_CLOEXEC), 'inotify_init1');
}

/** inotify_add_watch(2) on a descriptor from inotifyInit(). */
export function inotifyAddWatch(fd: number, file: string, mask: number): number {
  if (!inotifyFns) throw new Error('inotifyInit() first');
  return check(inotifyFns.add(fd, file, mask), 'inotify_add_watch');
}

export const POLLIN = 1;
let pollFn: KoffiFn | undefined;

function pollFunc(): KoffiFn {
  pollFn ??= load().koffi.load('libc.so.6').func('int poll(void *fds, unsigned long nfds, int timeout)');
  return pollFn;
}

/** A buffer of struct pollfd for poll(): each of fds waited on for events. */
export function pollSet(fds: readonly number[], events = POLLIN): Buffer {
  const set = Buffer.alloc(fds.length * 8);
  fds.forEach((fd, i) => {
    set.writeInt32LE(fd, i * 8);
    set.writeInt16LE(events, i * 8 + 4);
  });
  return set;
}

/**
 * poll(2) on fds (a buffer of struct pollfd: int fd, short events, short
 * revents, 8 bytes each; revents are written back into it).
 */
export function poll(fds: Buffer, timeoutMs: number): number {
  return check(pollFunc()(fds, fds.length / 8, timeoutMs), 'poll');
}

/**
 * poll(2) in a libuv pool thread (koffi's async call): the event loop stays
 * free; done(result or -1, errno) runs on the loop once it returns. Keep
 * fds referenced until then.
 */
export function pollAsync(fds: Buffer, timeoutMs: number, done: (result: number, errno: number) => void): void {
  const c = load();
  (pollFunc() as unknown as { async: (...a: unknown[]) => void }).async(fds, fds.length / 8, timeoutMs, (err: unknown, res: number) => {
    done(err ? -1 : res, err || res < 0 ? c.koffi.errno() : 0);
  });
}

const PR_SET_CHILD_SUBREAPER = 36;

/** prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants are re-parented to this process (which must reap them). */
export function setChildSubreaper(): void {
  const c = load();
  prctlFn ??= c.koffi.load('libc.so.6').func('int prctl(int option, unsigned long arg2, void *arg3, unsigned long arg4, unsigned long arg5)');
  check(prctlFn(PR_SET_CHILD_SUBREAPER, 1, null, 0, 0), 'prctl');
}

const SC_CLK_TCK = 2;
let clkTck: number | undefined;

/** sysconf(_SC_CLK_TCK): the unit of the times in /proc/PID/stat. */
export function clockTicks(): number {
  if (clkTck === undefined) {
    const n = Number(load().koffi.load('libc.so.6').func('long sysconf(int name)')(SC_CLK_TCK));
    clkTck = n > 0 ? n : 100;
  }
  return clkTck;
}

let spawnFns: SpawnFns | undefined;

function spawnFunctions(): SpawnFns {
  if (spawnFns) return spawnFns;
  const lib = load().koffi.load('libc.so.6');
  spawnFns = {
    spawn: lib.func('int posix_spawn(_Out_ int *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)'),
    spawnp: lib.func('int posix_spawnp(_Out_ int *pid, const char *file, void *actions, void *attr, const char **argv, const char **envp)'),
    faInit: lib.func('int posix_spawn_file_actions_init(void *actions)'),
    faDestroy: lib.func('int posix_spawn_file_actions_destroy(void *actions)'),
    faDup2: lib.func('int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)'),
    faOpen: lib.func('int posix_spawn_file_actions_addopen(void *actions, int fd, const char *path, int flags, uint32_t mode)'),
    faChdir: lib.func('int posix_spawn_file_actions_addchdir_np(void *actions, const char *path)'),
    attrInit: lib.func('int posix_spawnattr_init(void *attr)'),
    attrDestroy: lib.func('int posix_spawnattr_destroy(void *attr)'),
    attrFlags: lib.func('int posix_spawnattr_setflags(void *attr, short flags)'),
    attrSigdefault: lib.func('int posix_spawnattr_setsigdefault(void *attr, const uint8_t *set)'),
    attrSigmask: lib.func('int posix_spawnattr_setsigmask(void *attr, const uint8_t *set)'),
    // the status as an _Out_ array: no Buffer per call
    waitpid: lib.func('int waitpid(int pid, _Out_ int *status, int options)'),
  };
  return spawnFns;
}

/** The posix_spawn family returns an error number instead of setting errno. */
function returned(err: number, call: string): void {
  if (err !== 0) throw new SysError(errnoName(err), call, err);
}

/** What posix_spawn does in the child before the exec, in this order. */
export interface SpawnActions {
  /** chdir first (glibc's addchdir_np). */
  cwd?: string | Buffer;
  /** Descriptors to open on a file (e.g. /dev/null): [fd, path, flags]. */
  open?: ReadonlyArray<readonly [number, string, number]>;
  /** dup2(from, to); from === to clears the descriptor's close-on-exec flag instead. */
  dup2?: ReadonlyArray<readonly [number, number]>;
  /**
   * Signals the child keeps as this process has them when ignored (the
   * others are all reset to the default); see whileIgnoring().
   */
  keep?: readonly number[];
  /** A path without `/` is looked up in PATH, as execvp(3) does (posix_spawnp). */
  search?: boolean;
}

const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
// glibc's sigset_t: 1024 bits
const SIGSET_BYTES = 128;
const FILE_ACTIONS_BYTES = 80;
const SPAWNATTR_BYTES = 336;

/**
 * posix_spawn(3): starts path with argv and envp (the parent is held only
 * until the exec, as with vfork: no copy of this process's memory, about a
 * third of what libuv's fork costs here). In the child every signal is back
 * to its default and none is blocked, as libuv's spawn does. Failures of the
 * exec itself (ENOENT, EACCES, ENOEXEC: glibc runs no shell) are thrown
 * here, synchronously. Returns the pid. The child is not reaped by libuv:
 * waitpidNoHang() is the caller's. A string is passed as UTF-8; a Buffer
 * (in path, argv, cwd) as its bytes, and must end with a NUL.
 */
export function posixSpawn(path: string | Buffer, argv: ReadonlyArray<string | Buffer>, envp: readonly string[], actions: SpawnActions): number {
  const f = spawnFunctions();
  const fa = Buffer.alloc(FILE_ACTIONS_BYTES);
  const attr = Buffer.alloc(SPAWNATTR_BYTES);
  returned(f.faInit(fa), 'posix_spawn_file_actions_init');
  try {
    returned(f.attrInit(attr), 'posix_spawnattr_init');
    try {
      if (actions.cwd !== undefined) returned(f.faChdir(fa, actions.cwd), 'posix_spawn_file_actions_addchdir_np');
      for (const [fd, file, flags] of actions.open ?? []) returned(f.faOpen(fa, fd, file, flags, 0), 'posix_spawn_file_actions_addopen');
      for (const [from, to] of actions.dup2 ?? []) returned(f.faDup2(fa, from, to), 'posix_spawn_file_actions_adddup2');
      const sigdefault = Buffer.alloc(SIGSET_BYTES, 0xff);
      for (const sig of actions.keep ?? []) sigdefault[(sig - 1) >> 3] &= ~(1 << ((sig - 1) & 7));
      f.attrSigdefault(attr, sigdefault);
      f.attrSigmask(attr, Buffer.alloc(SIGSET_BYTES));
      f.attrFlags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
      const pid = [0];
      const err = (actions.search ? f.spawnp : f.spawn)(pid, path, fa, attr, [...argv, null], [...envp, null]);
      returned(err, 'posix_spawn');
      return pid[0];
    } finally {
      f.attrDestroy(attr);
    }
  } finally {
    f.faDestroy(fa);
  }
}

/** How a child ended: its exit code, or the signal that killed it. */
export interface WaitStatus {
  code: number | null;
  signal: number | null;
}

/**
 * waitpid(pid, WNOHANG): reaps pid if it has terminated and returns how it
 * ended; undefined while it runs. Throws (ECHILD) when pid is not a child.
 */
export function waitpidNoHang(pid: number): WaitStatus | undefined {
  const status = [0];
  const r = check(spawnFunctions().waitpid(pid, status, WNOHANG), 'waitpid');
  if (r === 0) return undefined;
  const s = status[0];
  return (s & 0x7f) === 0 ? { code: (s >> 8) & 0xff, signal: null } : { code: null, signal: s & 0x7f };
}

let statxFn: KoffiFn | undefined;
const AT_FDCWD = -100;
const STATX_TYPE = 0x1;
const STATX_INO = 0x100;
const STATX_BYTES = 256;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const statxBuf = Buffer.alloc(STATX_BYTES);

/** What identifies a file (following symlinks): `major:minor:inode`, and whether it is a directory. */
export interface FileIdentity {
  key: string;
  directory: boolean;
}

/**
 * statx(2) for the file's identity only, into one buffer of ours: a scan of
 * hundreds of entries every 5 seconds allocates next to nothing (fs.statSync
 * builds a Stats object of BigInts for each, and the garbage collector's
 * threads wake up for them). file: UTF-8, or bytes ending with a NUL.
 */
export function fileIdentity(file: string | Buffer): FileIdentity {
  statxFn ??= load().koffi.load('libc.so.6').func('int statx(int dirfd, const char *path, int flags, unsigned int mask, _Out_ uint8_t *buf)');
  check(statxFn(AT_FDCWD, file, 0, STATX_TYPE | STATX_INO, statxBuf), 'statx');
  // struct statx: stx_mode u16 at 28, stx_ino u64 at 32, stx_dev_major and stx_dev_minor u32 at 136 and 140
  const lo = statxBuf.readUInt32LE(32);
  const hi = statxBuf.readUInt32LE(36);
  const ino = hi === 0 ? String(lo) : String((BigInt(hi) << 32n) | BigInt(lo));
  return {
    key: `${statxBuf.readUInt32LE(136)}:${statxBuf.readUInt32LE(140)}:${ino}`,
    directory: (statxBuf.readUInt16LE(28) & S_IFMT) === S_IFDIR,
  };
}
