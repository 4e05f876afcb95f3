// Long-running programs are found by name as the C ones are: /proc/PID/cmdline
// is the C tool's argv (NUL-separated, raw bytes), /proc/PID/comm its name,
// and pidof, pgrep -x, ps -C list it; ps -o args and ps -o comm show the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, Procs, cbin, run, waitFor, writeExecutable } from './helpers';

const OURS_PATH = `${BIN}:/usr/bin:/bin`;
const C_PATH = '/usr/bin:/bin';

interface Case {
  name: string;
  /** The arguments, in sh syntax (printf for bytes that are not UTF-8). */
  args: string;
  /** Our argv, exactly. */
  argv: Buffer[];
  /** Run through `setuidgid nobody` (only as root). */
  nobody?: boolean;
  /** Prepares the directory a tool runs in (each its own); procs: for anything it starts. */
  setup?: (dir: string, procs: Procs) => void;
}

const bytes = (...args: (string | number[])[]): Buffer[] => args.map((a) => Buffer.from(typeof a === 'string' ? a : a));

/** A service directory (a Buffer: its exact bytes) whose run sleeps. */
function service(dir: string | Buffer): void {
  const name = typeof dir === 'string' ? Buffer.from(dir) : dir;
  fs.mkdirSync(name, { recursive: true });
  fs.writeFileSync(Buffer.concat([name, Buffer.from('/run')]), '#!/bin/sh\nexec sleep 1000\n', { mode: 0o755 });
}

/** A lock file held by a C setlock (its own process group) for as long as the test runs. */
function holdLock(dir: string, procs: Procs): void {
  procs.start(cbin('setlock'), [path.join(dir, 'lock'), 'sleep', '1000'], { detached: true });
}

const cases: Case[] = [
  { name: 'supervise', args: 'sv/a', argv: bytes('supervise', 'sv/a'), setup: (d) => service(path.join(d, 'sv/a')) },
  {
    name: 'supervise',
    args: `"$(printf 'sv/\\377\\303\\251')"`,
    argv: bytes('supervise', [0x73, 0x76, 0x2f, 0xff, 0xc3, 0xa9]),
    setup: (d) => service(Buffer.concat([Buffer.from(`${d}/sv/`), Buffer.from([0xff, 0xc3, 0xa9])])),
  },
  { name: 'svscan', args: 'sv', argv: bytes('svscan', 'sv'), setup: (d) => fs.mkdirSync(path.join(d, 'sv')) },
  { name: 'svscan', args: '', argv: bytes('svscan'), setup: (d) => fs.mkdirSync(path.join(d, 'sv')) },
  { name: 'svscanboot', args: 'sv', argv: bytes('svscanboot', 'sv'), setup: (d) => fs.mkdirSync(path.join(d, 'sv')) },
  { name: 'multilog', args: 't s4096 ./main', argv: bytes('multilog', 't', 's4096', './main') },
  { name: 'multilog', args: `e "$(printf '+\\376*')" ./main`, argv: bytes('multilog', 'e', [0x2b, 0xfe, 0x2a], './main') },
  { name: 'tai64n', args: '', argv: bytes('tai64n') },
  { name: 'tai64n', args: '', argv: bytes('tai64n'), nobody: true },
  { name: 'tai64nlocal', args: '', argv: bytes('tai64nlocal') },
  { name: 'setlock', args: '-N lock sleep 1', argv: bytes('setlock', '-N', 'lock', 'sleep', '1'), setup: (d, p) => holdLock(d, p) },
  { name: 'fghack', args: 'sleep 1000', argv: bytes('fghack', 'sleep', '1000') },
];

function cmdline(pid: number): Buffer {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`);
  } catch {
    return Buffer.alloc(0);
  }
}

function comm(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'latin1').replace(/\n$/, '');
  } catch {
    return '';
  }
}

/** cmdline as its arguments: each NUL-terminated. */
function split(data: Buffer): string[] {
  const text = data.toString('latin1');
  return (text.endsWith('\0') ? text.slice(0, -1) : text).split('\0');
}

const pids = (out: string): number[] => out.split(/\s+/).filter((w) => w !== '').map(Number);

interface Seen {
  pid: number;
  argv: string[];
  comm: string;
  pidof: number[];
  pidofX: number[];
  pgrep: number[];
  psC: number[];
  args: string;
  psComm: string;
}

async function look(pid: number, name: string): Promise<Seen> {
  const [pidof, pidofX, pgrep, psC, ps] = await Promise.all([
    run('pidof', [name]),
    run('pidof', ['-x', name]),
    run('pgrep', ['-x', name]),
    run('ps', ['-C', name, '-o', 'pid=']),
    run('ps', ['-o', 'comm=,args=', '-p', String(pid)]),
  ]);
  const line = ps.stdout.replace(/\n$/, '');
  const psComm = line.slice(0, line.indexOf(' '));
  return {
    pid,
    argv: split(cmdline(pid)),
    comm: comm(pid),
    pidof: pids(pidof.stdout),
    pidofX: pids(pidofX.stdout),
    pgrep: pids(pgrep.stdout),
    psC: pids(psC.stdout),
    args: line.slice(line.indexOf(' ')).trim(),
    psComm,
  };
}

async function start(procs: Procs, c: Case, suite: 'ours' | 'c', dir: string): Promise<number> {
  let prog = c.name;
  let PATH = suite === 'ours' ? OURS_PATH : C_PATH;
  if (c.name === 'svscanboot' && suite === 'c') {
    // the C svscanboot is a sh script for /etc/service: a copy for dir/sv
    const script = fs.readFileSync(cbin('svscanboot'), 'latin1').replaceAll('/etc/service', path.join(dir, 'sv'));
    fs.mkdirSync(path.join(dir, 'bin'));
    writeExecutable(path.join(dir, 'bin', 'svscanboot'), script);
    PATH = `${path.join(dir, 'bin')}:${PATH}`;
  }
  if (c.nobody) prog = `setuidgid nobody ${prog}`;
  // sh execs the program: its pid is the program's
  const child = procs.start('/bin/sh', ['-c', `exec ${prog} ${c.args}`], {
    cwd: dir,
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    env: { ...process.env, PATH },
  });
  if (!child.pid) throw new Error(`${suite} ${c.name}: not started`);
  return child.pid;
}

for (const c of cases) {
  const label = `${c.name} ${c.args}${c.nobody ? ' (as nobody)' : ''}`.trim();
  test(`proctitle: ${label}: cmdline, comm, pidof, pgrep -x, ps -C as with the C ${c.name}`, { skip: c.nobody && process.getuid?.() !== 0 }, async () => {
    const procs = new Procs();
    try {
      const seen: Record<'ours' | 'c', Seen | undefined> = { ours: undefined, c: undefined };
      for (const suite of ['ours', 'c'] as const) {
        const dir = procs.tmpdir(`dtn-title-${suite}-`);
        c.setup?.(dir, procs);
        const pid = await start(procs, c, suite, dir);
        if (suite === 'ours') {
          // exactly our argv, once the program has retitled itself
          const want = Buffer.concat(c.argv.map((a) => Buffer.concat([a, Buffer.from([0])])));
          await waitFor(() => cmdline(pid).equals(want), `our ${c.name}: cmdline ${JSON.stringify(want.toString('latin1'))} (is ${JSON.stringify(cmdline(pid).toString('latin1'))})`);
        } else {
          // the C tool: its name once sh has exec'd it (and, for setlock, it waits for the lock)
          await waitFor(() => comm(pid) === c.name, `the C ${c.name}: running`);
        }
        seen[suite] = await look(pid, c.name);
      }
      const ours = seen.ours!;
      const theirs = seen.c!;
      assert.equal(ours.comm, c.name, 'our comm');
      assert.equal(ours.comm, theirs.comm, 'comm as the C one');
      assert.equal(ours.psComm, theirs.psComm, 'ps -o comm as the C one');
      if (c.name === 'svscanboot') {
        // the C one is `/bin/sh /path/svscanboot args`: ours is `svscanboot args`
        assert.equal(path.basename(theirs.argv[1]), ours.argv[0]);
        assert.deepEqual(ours.argv.slice(1), theirs.argv.slice(2), 'the arguments as the C one');
        assert.ok(theirs.pidofX.includes(theirs.pid), 'pidof -x finds the C one');
      } else {
        assert.deepEqual(ours.argv, theirs.argv, 'cmdline as the C one');
        assert.equal(ours.args, theirs.args, 'ps -o args as the C one');
        assert.ok(theirs.pidof.includes(theirs.pid), 'pidof finds the C one');
      }
      for (const s of [ours, theirs]) {
        const who = s === ours ? 'ours' : 'the C one';
        assert.ok(s.pgrep.includes(s.pid), `pgrep -x ${c.name} finds ${who}`);
        assert.ok(s.psC.includes(s.pid), `ps -C ${c.name} finds ${who}`);
        assert.ok(s.pidofX.includes(s.pid), `pidof -x ${c.name} finds ${who}`);
      }
      assert.ok(ours.pidof.includes(ours.pid), `pidof ${c.name} finds ours`);
    } finally {
      await procs.cleanup();
    }
  });
}
