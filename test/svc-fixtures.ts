// Service directories for the svc / svstat / svok tests: real ones run by a
// supervise (the C one or ours), and fake ones where the test itself holds
// supervise/ok open and writes any status record it likes.
import { after } from 'node:test';
import { ChildProcess, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, ROOT, RunResult, alive, readAvailable, run, waitFor, writeExecutable } from './helpers';

/** A run script that logs every catchable signal it gets (one name per line in ./log) and its pid in ./pid. */
export const TRAP_RUN = `#!/bin/sh
echo $$ > pid.new && mv pid.new pid
for s in HUP ALRM INT QUIT USR1 USR2 WINCH CONT; do trap "echo $s >> log" $s; done
trap 'echo TERM >> log; exit 0' TERM
echo start >> log
while :; do sleep 0.05; done
`;

export function makeService(parent: string, name: string, runScript = TRAP_RUN, opts: { down?: boolean } = {}): string {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir);
  writeExecutable(path.join(dir, 'run'), runScript);
  if (opts.down) fs.writeFileSync(path.join(dir, 'down'), '');
  return dir;
}

/** Whether a supervise answers on dir/supervise/ok. */
export function okAnswers(dir: string): boolean {
  try {
    fs.closeSync(fs.openSync(path.join(dir, 'supervise/ok'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
    return true;
  } catch {
    return false;
  }
}

export function rawStatus(dir: string): Buffer {
  return fs.readFileSync(path.join(dir, 'supervise/status'));
}

export function statusPid(dir: string): number {
  const b = rawStatus(dir);
  return b.length >= 18 ? b.readUInt32LE(12) : 0;
}

/** Starts `supervise dir` in its own process group (killed at cleanup) and waits until it answers. */
export async function startSupervise(procs: Procs, supervise: string, dir: string): Promise<ChildProcess> {
  const child = procs.start(supervise, [dir], { detached: true, stdio: 'ignore' });
  await waitFor(() => okAnswers(dir) && fs.existsSync(path.join(dir, 'supervise/status')), `supervise ${dir} to answer`);
  return child;
}

/** Waits until the service is up with a pid that has written ./pid and is not `notPid`. */
export async function waitUp(dir: string, notPid = 0): Promise<number> {
  return waitFor(() => {
    const pid = statusPid(dir);
    if (!pid || pid === notPid || !alive(pid)) return 0;
    try {
      return Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8')) === pid ? pid : 0;
    } catch {
      return 0;
    }
  }, `${dir} up`);
}

export async function waitDown(dir: string): Promise<void> {
  await waitFor(() => statusPid(dir) === 0, `${dir} down`);
}

export function signalLog(dir: string): string[] {
  try {
    return fs.readFileSync(path.join(dir, 'log'), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** The state letter of /proc/PID/stat (R, S, T, Z...). */
export function procState(pid: number): string {
  try {
    return /^\d+ \(.*\) (\S)/.exec(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? '';
  } catch {
    return '';
  }
}

/**
 * A service directory with a supervise/ok FIFO held open for reading by this
 * process (so it looks supervised) and a status record of our choosing.
 */
export class FakeSupervise {
  private okFd: number;
  private controlFd: number;

  constructor(public readonly dir: string, status?: Buffer) {
    const sup = path.join(dir, 'supervise');
    fs.mkdirSync(sup, { recursive: true });
    for (const f of ['ok', 'control']) {
      if (!fs.existsSync(path.join(sup, f))) mkfifo(path.join(sup, f));
    }
    this.okFd = fs.openSync(path.join(sup, 'ok'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    this.controlFd = fs.openSync(path.join(sup, 'control'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    if (status) this.setStatus(status);
  }

  setStatus(b: Buffer): void {
    fs.writeFileSync(path.join(this.dir, 'supervise/status'), b);
  }

  /** Everything written to supervise/control since the last call. */
  drainControl(): string {
    return readAvailable(this.controlFd).toString('latin1');
  }

  close(): void {
    fs.closeSync(this.okFd);
    fs.closeSync(this.controlFd);
  }
}

/** parent/name with a supervise/ left by a supervise that is gone: FIFO supervise/FIFO with no reader. */
export function notRunningDir(parent: string, name: string, fifo: 'ok' | 'control'): string {
  const dir = path.join(parent, name);
  fs.mkdirSync(path.join(dir, 'supervise'), { recursive: true });
  mkfifo(path.join(dir, 'supervise', fifo));
  return dir;
}

export function mkfifo(file: string): void {
  const r = spawnSync('mkfifo', ['-m', '600', file]);
  if (r.status !== 0) throw new Error(`mkfifo ${file} failed`);
}

/** An 18-byte status record: TAI64N of unix `sec`, pid, paused flag byte, want byte. */
export function statusRecord(sec: number, pid: number, paused: number, want: number): Buffer {
  const b = Buffer.alloc(18);
  b.writeBigUInt64BE((1n << 62n) + 10n + BigInt(sec), 0);
  b.writeUInt32BE(123456789, 8);
  b.writeUInt32LE(pid, 12);
  b[16] = paused;
  b[17] = want;
  return b;
}

/** Replaces the seconds figure, which moves between two runs. */
export function maskSeconds(s: string): string {
  return s.replace(/ \d+ seconds/g, ' N seconds');
}

/** A comparable view of a run: exit code, stdout, stderr with the program name masked. */
export function outcome(r: RunResult, prog?: string): { code: number | null; stdout: string; stderr: string } {
  const mask = (s: string) => (prog ? s.split(prog).join('PROG') : s);
  return { code: r.code, stdout: mask(r.stdout), stderr: mask(r.stderr) };
}

/** Runs ours and the C program with the same arguments and options. */
export async function both(ours: string, theirs: string, args: string[], opts: { cwd?: string } = {}): Promise<[RunResult, RunResult]> {
  return [await run(ours, args, opts), await run(theirs, args, opts)];
}

/**
 * Runs our program NAME as `nobody` from cwd: its bundle (self-contained) is
 * copied into `root` first, so that the test does not depend on `nobody`
 * being able to reach the checkout.
 */
export function runAsNobody(root: string, name: string, args: string[], cwd: string): Promise<RunResult> {
  fs.chmodSync(root, 0o755);
  const copy = path.join(root, `${name}.js`);
  fs.copyFileSync(path.join(ROOT, 'dist', `${name}.js`), copy);
  fs.chmodSync(copy, 0o644);
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return run(process.execPath, [copy, ...args], { cwd, uid: 65534, gid: 65534, env });
}

/**
 * Runs prog from cwd with arguments that need not be UTF-8: each is given
 * as a printf(1) format (e.g. 'bad\\377'), expanded by the shell.
 */
export function runBytes(prog: string, printfArgs: string[], cwd: string): Promise<RunResult> {
  const words = printfArgs.map((a) => `"$(printf -- '${a.replace(/'/g, '')}')"`).join(' ');
  return run('/bin/sh', ['-c', `exec "$0" ${words}`, prog], { cwd });
}

/** A directory name from raw bytes (latin1 string), made under parent. */
export function bytePath(parent: string, latin1Name: string): Buffer {
  return Buffer.concat([Buffer.from(parent + '/'), Buffer.from(latin1Name, 'latin1')]);
}

/**
 * The processes and fake supervises of one test file, cleaned up after it:
 * `const { procs, fake } = fixtures();` at the top of the file.
 */
export function fixtures(): { procs: Procs; fake: (dir: string, status?: Buffer) => FakeSupervise } {
  const procs = new Procs();
  const fakes: FakeSupervise[] = [];
  after(async () => {
    for (const f of fakes) f.close();
    await procs.cleanup();
  });
  return {
    procs,
    fake(dir: string, status?: Buffer): FakeSupervise {
      const f = new FakeSupervise(dir, status);
      fakes.push(f);
      return f;
    },
  };
}
