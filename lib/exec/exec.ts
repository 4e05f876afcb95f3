// Chain-loading: replace this Node process by a program, found through PATH
// the way daemontools' C tools find it, with the hygiene a raw execve needs
// (ARCHITECTURE.md pitfalls 1, 7, 9, 10).
//
// Everything that allocates is computed in prepareExec(); runExec() then only
// changes identity and limits, and calls execve on prepared byte strings, so
// that a small memory limit set just before exec cannot make it fail.
//
// Arguments and environment are passed as the exact bytes this process was
// given (/proc/self/cmdline, /proc/self/environ), not as Node's UTF-8
// decoding of them.
import { Diag, EXIT_FAIL, SysError } from '../os/errors';
import { readProc, splitNul } from '../os/raw-argv';
import { captureLimits } from './limits';
import * as sys from '../os/sys';

const LIMITS_ENV = 'DAEMONTOOLS_NODE_LIMITS';
// the launcher's hand-over of NODE_EXTRA_CA_CERTS (scripts/launcher.sh)
const CA_ENV = 'DAEMONTOOLS_NODE_CA';
/** Set by the launcher when PWD was not in its environment (its sh added it). */
const NOPWD_ENV = 'DAEMONTOOLS_NODE_NOPWD';
const CA_REAL = 'NODE_EXTRA_CA_CERTS';
/** NODE_OPTIONS, handed over the same way. */
const OPTIONS_ENV = 'DAEMONTOOLS_NODE_OPTIONS';
const OPTIONS_REAL = 'NODE_OPTIONS';
const DEFAULT_PATH = '/bin:/usr/bin';
const EQ = 0x3d;
const EPERM = 1;
const ENOENT = 2;
const EACCES = 13;
const EISDIR = 21;

export interface LimitChange {
  resource: number;
  limit: sys.RLimit;
  /** The soft limit exactly, where a double cannot hold it (above 2^53). */
  exactSoft?: bigint;
}

export interface Identity {
  uid: number;
  gid: number;
}

export interface ExecOptions {
  /** Variables to set (Buffer or string value) or remove (null), applied to the environment; names are strings of bytes (latin1). */
  env?: Map<string, Buffer | string | null>;
  /** Soft limits the program sets itself (softlimit), applied over the recorded ones; bigint above 2^53. */
  limits?: Map<number, number | bigint>;
  /** setgroups([gid]), setgid, setuid before exec (setuidgid). */
  identity?: Identity;
  /** A descriptor the child inherits (setlock's lock), given the number the C tool's open() would have got. */
  passFd?: number;
}

export interface PreparedExec {
  prog: string;
  candidates: Buffer[];
  argv: (Buffer | null)[];
  envp: (Buffer | null)[];
  limits: LimitChange[];
  /** Soft limits to put back if exec fails, so that Node can still report it. */
  undo: LimitChange[];
  identity?: Identity;
  ignored: number[];
  inherited: number[];
  passFd?: { fd: number; target: number };
}

function cstr(b: Buffer | string): Buffer {
  return Buffer.concat([typeof b === 'string' ? Buffer.from(b) : b, Buffer.from([0])]);
}

interface Environ {
  entries: Buffer[];
  /** Signals the caller ignored (SigIgn, if the launcher recorded it): Node resets them at start. */
  ignored: number[];
  /** Descriptors above 2 the launcher was given (Fds, if it recorded them): Node makes 3-15 close-on-exec. */
  inherited: number[];
}

function startsWith(entry: Buffer, prefix: string): boolean {
  if (entry.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (entry[i] !== prefix.charCodeAt(i)) return false;
  return true;
}

/**
 * The fields of the launcher's /proc/PID/stat line after the command name,
 * as it records them (`...;Stat:S PPID PGRP ...;`): fields[0] is proc(5)'s
 * field 3.
 */
function statFields(record: string): string[] | undefined {
  return recordValue(record, 'Stat')?.split(' ');
}

/**
 * The value of `KEY:` in the launcher's record (`...;KEY:VALUE;...`), or
 * undefined. (indexOf, not regular expressions: each one compiled costs
 * 0.05-0.15 ms of a start.)
 */
function recordValue(record: string, key: string): string | undefined {
  const first = record.startsWith(`${key}:`);
  const at = first ? 0 : record.indexOf(`;${key}:`) + 1;
  if (at === 0 && !first) return undefined;
  const from = at + key.length + 1;
  const end = record.indexOf(';', from);
  return end < 0 ? undefined : record.slice(from, end);
}

/** Whether s is made of the characters of chars only. */
function onlyOf(s: string, chars: string): boolean {
  for (let i = 0; i < s.length; i++) if (!chars.includes(s[i])) return false;
  return true;
}

const DIGITS = '0123456789';
const HEX = '0123456789abcdefABCDEF';
// proc(5)'s fields 33 (sigignore: signals 1-31 only), 50 and 51 (env_start, env_end)
const STAT_SIGIGNORE = 33 - 3;
const STAT_ENV_START = 50 - 3;
const STAT_ENV_END = 51 - 3;
const LOW_SIGNALS = 0x7fffffffn; // signals 1-31: bits 0-30
const ALL_SIGNALS = 0xffffffffffffffffn;

/** This process's own SigIgn mask (/proc/self/status), 0 if unknown. */
function ownIgnoredMask(): bigint {
  const status = readProc('/proc/self/status');
  const at = status?.indexOf('\nSigIgn:') ?? -1;
  if (!status || at < 0) return 0n;
  const end = status.indexOf('\n', at + 1);
  const hex = status.toString('latin1', at + '\nSigIgn:'.length, end < 0 ? status.length : end).trim();
  return hex !== '' && onlyOf(hex, HEX) ? BigInt(`0x${hex}`) : 0n;
}

/**
 * Signal numbers the launcher's record shows ignored: a /proc SigIgn mask
 * (`...;SigIgn:\tHEX;`), or the sigignore field of its /proc/PID/stat line
 * (`...;Stat:...;`, a third of the bytes for `sh` to read), which holds
 * signals 1-31 only: Node resets only those at start (to default, PIPE and
 * XFSZ to ignored), so the others are read from this process's own mask
 * (ownMask), still as the launcher was given them.
 */
export function ignoredSignals(record: string, ownMask: () => bigint = ownIgnoredMask): number[] {
  const sigIgn = recordValue(record, 'SigIgn')?.trim();
  let mask: bigint;
  if (sigIgn !== undefined && sigIgn !== '' && onlyOf(sigIgn, HEX)) {
    mask = BigInt(`0x${sigIgn}`);
  } else {
    const field = statFields(record)?.[STAT_SIGIGNORE];
    if (field === undefined || field === '' || !onlyOf(field, DIGITS)) return [];
    mask = (BigInt(field) & LOW_SIGNALS) | (ownMask() & (ALL_SIGNALS ^ LOW_SIGNALS));
  }
  const out: number[] = [];
  if (mask === 0n) return out;
  // two 32-bit numbers: 64 BigInt shifts cost 0.2 ms at start-up
  const lo = Number(mask & 0xffffffffn);
  const hi = Number((mask >> 32n) & 0xffffffffn);
  for (let sig = 1; sig < 65; sig++) {
    // SIGKILL, SIGSTOP and glibc's own two cannot be or must not be ignored
    if (sig === 9 || sig === 19 || sig === 32 || sig === 33) continue;
    if ((sig <= 32 ? lo >>> (sig - 1) : hi >>> (sig - 33)) & 1) out.push(sig);
  }
  return out;
}

/** Descriptor numbers from the launcher's record (`...;Fds: 3 7 12;`). */
export function inheritedFds(record: string): number[] {
  const fds = recordValue(record, 'Fds');
  if (fds === undefined || !onlyOf(fds, `${DIGITS} `)) return [];
  return fds.split(' ').filter((w) => w !== '').map(Number).filter((fd) => fd > 2);
}

/**
 * Whether `sh` (the launcher) added PWD to the environment: the launcher of
 * a chain-loader does not read its whole environment from /proc (`sh` reads
 * a byte at a time: 2-3 ms for 1.5 kB), but records its size (env_end -
 * env_start of its /proc/PID/stat line) and `PwdBySize`. The environment as
 * given is the one `sh` passed on with PWD removed exactly when its size is
 * that one's less the PWD entry. (Where sh dropped or rewrote entries, names
 * that are no shell names, duplicates, IFS, OPTIND, the sizes tell nothing
 * and PWD stays.)
 */
export function pwdAddedBySize(record: string, entries: readonly Buffer[]): boolean {
  if (!record.startsWith('PwdBySize;') && !record.includes(';PwdBySize;')) return false;
  const fields = statFields(record);
  const start = fields?.[STAT_ENV_START];
  const end = fields?.[STAT_ENV_END];
  if (!start || !end || !onlyOf(start, DIGITS) || !onlyOf(end, DIGITS)) return false;
  // addresses: below 2^53 on every 64-bit Linux
  const given = Number(end) - Number(start);
  const pwd = entries.find((e) => startsWith(e, 'PWD='));
  if (!pwd) return false;
  let total = 0;
  for (const e of entries) total += e.length + 1;
  return given === total - (pwd.length + 1);
}

let startEnviron: Environ | undefined;

/**
 * The environment this process was started with, as raw entries: the
 * launcher's record removed, its NODE_EXTRA_CA_CERTS hand-over undone.
 * Read once (fghack, setlock and multilog's processors ask more than once).
 */
function rawEnviron(): Environ {
  startEnviron ??= readEnviron();
  return startEnviron;
}

function readEnviron(): Environ {
  const data = readProc('/proc/self/environ');
  if (!data) {
    return { entries: Object.entries(process.env).map(([k, v]) => Buffer.from(`${k}=${v ?? ''}`)), ignored: [], inherited: [] };
  }
  const entries: Buffer[] = [];
  let ignored: number[] = [];
  let inherited: number[] = [];
  let noPwd = false;
  let record = '';
  for (const e of splitNul(data)) {
    if (startsWith(e, `${NOPWD_ENV}=`)) {
      noPwd = true;
    } else if (startsWith(e, `${LIMITS_ENV}=`)) {
      record = e.subarray(LIMITS_ENV.length + 1).toString('latin1');
      ignored = ignoredSignals(record);
      inherited = inheritedFds(record);
    } else if (startsWith(e, `${CA_ENV}=`)) {
      entries.push(Buffer.concat([Buffer.from(`${CA_REAL}=`), e.subarray(CA_ENV.length + 1)]));
    } else if (startsWith(e, `${OPTIONS_ENV}=`)) {
      entries.push(Buffer.concat([Buffer.from(`${OPTIONS_REAL}=`), e.subarray(OPTIONS_ENV.length + 1)]));
    } else {
      entries.push(e);
    }
  }
  if (!noPwd) noPwd = pwdAddedBySize(record, entries);
  return { entries: noPwd ? entries.filter((e) => !startsWith(e, 'PWD=')) : entries, ignored, inherited };
}

/** What the launcher recorded that Node undid: descriptors above 2 inherited, signals ignored. */
export function launcherRecord(): { fds: number[]; ignored: number[] } {
  const { inherited, ignored } = rawEnviron();
  return { fds: inherited, ignored };
}

const SIGUSR1 = 10;
const SIGPIPE = 13;
const SIGXFSZ = 25;

/**
 * For a program that waits (setlock on its lock, fghack on its child): the
 * signals Node takes for itself act as on the C program, unless the caller
 * ignored them. SIGUSR1 would open Node's debugger (ARCHITECTURE.md pitfall
 * 8), SIGPIPE and SIGXFSZ are ignored by Node: all three end the C tools.
 */
export function nodeSignalsAsInC(): void {
  const { ignored } = rawEnviron();
  for (const sig of [SIGUSR1, SIGPIPE, SIGXFSZ]) {
    if (ignored.includes(sig)) sys.ignoreSignal(sig);
    else sys.defaultSignal(sig);
  }
}

/** The environment this process was given, as raw `NAME=VALUE` entries (the launcher's own undone). */
export function rawEnvironment(): Buffer[] {
  return rawEnviron().entries;
}

function entryName(entry: Buffer): string {
  const eq = entry.indexOf(EQ);
  return entry.subarray(0, eq < 0 ? entry.length : eq).toString('latin1');
}

/** The child's environment: the original entries not overridden, in order, then the overrides in order. */
function buildEnv(environ: Buffer[], changes?: Map<string, Buffer | string | null>): Buffer[] {
  if (!changes || changes.size === 0) return environ;
  const byBytes = new Map<string, Buffer | null>();
  for (const [name, value] of changes) {
    byBytes.set(name, value === null ? null : typeof value === 'string' ? Buffer.from(value) : value);
  }
  const out = environ.filter((e) => !byBytes.has(entryName(e)));
  for (const [name, value] of byBytes) {
    if (value !== null) out.push(Buffer.concat([Buffer.from(name, 'latin1'), Buffer.from('='), value]));
  }
  return out;
}

/**
 * Where to look for file, in order, as daemontools' C tools do: a name with
 * `/` as is; otherwise every PATH entry (empty entry = current directory),
 * PATH defaulting to /bin:/usr/bin. PATH is the one this process was given.
 */
export function searchPath(file: Buffer, pathValue: Buffer | undefined): Buffer[] {
  if (file.includes(0x2f)) return [file];
  const path = pathValue ?? Buffer.from(DEFAULT_PATH);
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path[i] === 0x3a) {
      const dir = i === start ? Buffer.from('.') : path.subarray(start, i);
      out.push(Buffer.concat([dir, Buffer.from('/'), file]));
      start = i + 1;
    }
  }
  return out;
}

function envValue(environ: Buffer[], name: string): Buffer | undefined {
  const entry = environ.find((e) => startsWith(e, `${name}=`));
  return entry?.subarray(name.length + 1);
}

/** The soft limits to set before exec: the recorded ones, then the program's own, clamped to the hard limits. */
function planLimits(own?: Map<number, number | bigint>): { limits: LimitChange[]; undo: LimitChange[] } {
  // the recorded ones as they are: the clamp and the check below are limitsToRestore()'s own
  const wanted = new Map<number, number | bigint>(captureLimits());
  if (own) for (const [resource, soft] of own) wanted.set(resource, soft);
  const limits: LimitChange[] = [];
  const undo: LimitChange[] = [];
  for (const [resource, soft] of wanted) {
    const now = sys.getrlimit(resource);
    const exact = typeof soft === 'bigint' && (now.hard === Infinity || soft < BigInt(now.hard)) ? soft : undefined;
    const want = Math.min(Number(soft), now.hard);
    if (exact === undefined && want === now.soft) continue;
    limits.push({ resource, limit: { soft: want, hard: now.hard }, exactSoft: exact });
    undo.push({ resource, limit: { soft: now.soft, hard: now.hard } });
  }
  return { limits, undo };
}

/**
 * The lowest descriptor number a C program would get from open(): Node's
 * own descriptors (all close-on-exec) count as free; stdio and the
 * inherited ones as taken.
 */
function lowestFreeFd(inherited: readonly number[]): number {
  for (let fd = 3; ; fd++) {
    if (inherited.includes(fd)) continue;
    let flags: number;
    try {
      flags = sys.fcntl(fd, sys.F_GETFD);
    } catch {
      return fd;
    }
    if (flags & sys.FD_CLOEXEC) return fd;
  }
}

/** Computes everything exec needs. args: the child's argv as raw bytes, args[0] the program. */
export function prepareExec(args: Buffer[], opts: ExecOptions = {}): PreparedExec {
  sys.preload();
  const environ = rawEnviron();
  const { limits, undo } = planLimits(opts.limits);
  const prepared: PreparedExec = {
    // a string of bytes, for the chain-loaders' byte-exact messages (Diag 'latin1')
    prog: args[0].toString('latin1'),
    candidates: searchPath(args[0], envValue(environ.entries, 'PATH')).map(cstr),
    argv: [...args.map(cstr), null],
    envp: [...buildEnv(environ.entries, opts.env).map(cstr), null],
    limits,
    undo,
    identity: opts.identity,
    ignored: environ.ignored,
    inherited: environ.inherited,
    passFd: opts.passFd === undefined ? undefined : { fd: opts.passFd, target: lowestFreeFd(environ.inherited) },
  };
  // (no warm-up of sys.errnoName, 0.7 ms: runExec names an errno only after
  // it has put the limits back, and the identity's errors come before them)
  return prepared;
}

/**
 * Puts the passed descriptor at its target number, over one of Node's own
 * if need be (kept aside, close-on-exec); returns what puts Node's back if
 * exec fails, since Node still needs it to exit.
 */
function movePassFd(pass: PreparedExec['passFd']): () => void {
  if (!pass || pass.fd === pass.target) return () => undefined;
  let kept = -1;
  try {
    kept = sys.fcntl(pass.target, sys.F_DUPFD_CLOEXEC, pass.fd + 1);
  } catch {
    // target is not open
  }
  try {
    sys.dup2(pass.fd, pass.target);
    sys.setCloexec(pass.fd, true);
  } catch {
    // the child gets the descriptor where it is
  }
  return () => {
    if (kept < 0) return;
    try {
      sys.dup2(kept, pass.target);
      sys.setCloexec(pass.target, true);
      sys.close(kept);
    } catch {
      // exiting anyway
    }
  };
}

/**
 * Makes stdio inheritable and blocking (and the descriptors the launcher
 * recorded inheritable again), resets signals (those the caller
 * ignored stay ignored, as through the C tools), switches identity,
 * sets the limits and execs the first candidate that runs. Returns only on
 * failure: prints `PROG: fatal: unable to run NAME: REASON` and exits 111
 * (or `unable to setgid`/`unable to setuid`).
 */
export function runExec(diag: Diag, p: PreparedExec): never {
  for (let fd = 0; fd <= 2; fd++) sys.makeInheritableBlocking(fd);
  for (const fd of p.inherited) {
    try {
      sys.setCloexec(fd, false);
    } catch {
      // closed since
    }
  }
  const restorePassFd = movePassFd(p.passFd);
  sys.resetSignals();
  for (const sig of p.ignored) sys.ignoreSignal(sig);
  sys.resetReservedSignals();
  if (p.identity) {
    try {
      sys.setgroups([p.identity.gid]);
      sys.setgid(p.identity.gid);
    } catch (e) {
      diag.fatal('unable to setgid', e);
    }
    try {
      sys.setuid(p.identity.uid);
    } catch (e) {
      diag.fatal('unable to setuid', e);
    }
  }
  for (const { resource, limit, exactSoft } of p.limits) {
    try {
      if (exactSoft === undefined) sys.setrlimit(resource, limit);
      else sys.setrlimitExact(resource, exactSoft, limit.hard);
    } catch {
      // a limit that cannot be set stays as it is
    }
  }
  // As daemontools does: ENOENT goes on silently; EACCES, EPERM and EISDIR
  // go on but are remembered; anything else stops the search.
  let saved = 0;
  let last = 0;
  for (const path of p.candidates) {
    last = sys.execveBytes(path, p.argv, p.envp);
    if (last === ENOENT) continue;
    saved = last;
    if (last !== EACCES && last !== EPERM && last !== EISDIR) break;
  }
  const errno = saved || last || ENOENT;
  restorePassFd();
  for (const { resource, limit } of p.undo) {
    try {
      sys.setrlimit(resource, limit);
    } catch {
      // report anyway
    }
  }
  const err = new SysError(sys.errnoName(errno), 'execve', errno);
  return diag.fatal(`unable to run ${p.prog}`, err, EXIT_FAIL);
}

/** prepareExec + runExec. */
export function chainExec(diag: Diag, args: Buffer[], opts: ExecOptions = {}): never {
  return runExec(diag, prepareExec(args, opts));
}
