// svctl: add (arguments and values reaching the service byte for byte,
// --user, --env, --cwd, limits, --down, --no-log, mode bits), the control
// verbs, status (table and JSON), logs -f across rotations, rm and rm
// --purge, every refused request (nothing left behind), the C svc and
// svstat on what it writes, a tree of the C svscan, and an ordinary user
// with the default places under $HOME.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, RunResult, alive, bin, cbin, run, waitFor } from './helpers';
import { statusPid, waitDown, waitUp } from './fixtures/service';
import { Tree, killUnder, pathFor, procState, startSvscan, supervisesIn, treeRoot } from './fixtures/tree';
import { SLEEPER, makeService, okAnswers } from './fixtures/service';
import { checkName } from '../lib/svctl/name';
import { SvctlError } from '../lib/svctl/fail';
import { waitAdded } from '../lib/svctl/add';

const procs = new Procs();
const roots: string[] = [];
after(async () => {
  await procs.cleanup();
  killUnder(roots);
});

/** The tree every test of this file shares (one svscan of ours), and its two directories. */
let scan = '';
let services = '';
let logs = '';
let tree: Tree;
before(async () => {
  const r = treeRoot(procs, roots, 'dtn-svctl-', ['scan', 'services', 'logs']);
  scan = r.scan;
  services = r.services;
  logs = r.logs;
  tree = startSvscan(procs, scan, logs);
  await scanning(tree.pid, scan);
});

/** Waits until pid is an svscan at work in dir (named svscan, dir its working directory), as svctl looks for it. */
async function scanning(pid: number, dir: string): Promise<void> {
  const real = fs.realpathSync(dir);
  await waitFor(() => fs.readFileSync(`/proc/${pid}/comm`, 'latin1') === 'svscan\n' && fs.readlinkSync(`/proc/${pid}/cwd`) === real,
    `svscan ${pid} in ${dir}`);
}

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  PATH: pathFor('ours'),
  SVCTL_SCANDIR: scan,
  SVCTL_SERVICES: services,
  ...extra,
});

function svctl(args: readonly string[], extra: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return run(bin('svctl'), args, { env: env(extra), timeoutMs: 30000 });
}

/** svctl with arguments a sh script builds ($S is svctl): bytes that are not UTF-8 cannot go through spawn's strings. */
function svctlSh(script: string): Promise<RunResult> {
  return run('/bin/sh', ['-c', script], { env: env({ S: bin('svctl') }), timeoutMs: 30000 });
}

/** The lines of a log/main/current without their TAI64N labels (latin1: the bytes). */
function logLines(name: string): string[] {
  let text = '';
  try {
    text = fs.readFileSync(path.join(services, name, 'log', 'main', 'current'), 'latin1');
  } catch {
    return [];
  }
  return text.split('\n').filter((l) => l !== '').map((l) => l.replace(/^@[0-9a-f]{24} /, ''));
}

function ok(r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code}, stderr: ${r.stderr}`);
}

/** The argv of pid, as its bytes (latin1 strings). */
function cmdline(pid: number): string[] {
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').slice(0, -1);
}

/** Waits until the service in dir is up and its exec chain has reached prog (argv[0]); returns its pid. */
async function waitRunning(dir: string, prog: string): Promise<number> {
  const pid = await waitUp(dir);
  await waitFor(() => {
    try {
      return cmdline(pid)[0] === prog;
    } catch {
      return false;
    }
  }, `${dir}: ${prog} running`);
  return pid;
}

/** /proc/PID/status field (e.g. Uid) of pid. */
function procStatus(pid: number, field: string): string {
  const m = new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
  return m ? m[1] : '';
}

/** Keeps running after saying what it got: one `[ARG]` line per argument. */
const ECHO_ARGS = `for a in "$@"; do printf '[%s]\\n' "$a"; done; while :; do sleep 1; done`;

test('svctl add: arguments with spaces, quotes, $, *, backslashes, newlines and bytes that are not UTF-8 reach the command exactly', async () => {
  // built by sh: a newline inside, and \\377\\376 (not UTF-8)
  const r = await svctlSh(`exec "$S" add args -- sh -c '${ECHO_ARGS.replace(/'/g, `'\\''`)}' me ` +
    `'a b' '  lead and trail  ' "it's" '"dq"' '$HOME' '\`id\`' '$(id)' '*' '\\' '' "$(printf 'l1\\nl2')" "$(printf 'x\\377\\376y')" -x -- 'é'`);
  ok(r, 'add');
  assert.match(r.stdout, /args is up/);
  const expected = ['a b', '  lead and trail  ', "it's", '"dq"', '$HOME', '`id`', '$(id)', '*', '\\', '', 'l1\nl2', 'x\xff\xfey', '-x', '--',
    Buffer.from('é').toString('latin1')];
  const dir = path.join(services, 'args');
  const pid = await waitRunning(dir, 'sh');
  const argv = cmdline(pid);
  assert.equal(argv[0], 'sh');
  assert.equal(argv[1], '-c');
  assert.equal(argv[2], ECHO_ARGS);
  assert.deepEqual(argv.slice(3), ['me', ...expected], 'its argv, byte for byte');
  // its output, through multilog
  const printed = expected.flatMap((a) => `[${a}]`.split('\n'));
  await waitFor(() => logLines('args').length >= printed.length, 'the arguments in the log');
  assert.deepEqual(logLines('args'), printed);
  // the run script: sh reads it back as those bytes (the proof above); mode bits
  assert.equal(fs.statSync(path.join(dir, 'run')).mode & 0o7777, 0o755);
  assert.equal(fs.statSync(path.join(dir, 'log', 'run')).mode & 0o7777, 0o755);
  assert.equal(fs.statSync(dir).mode & 0o7777, 0o755);
  assert.equal(fs.readlinkSync(path.join(scan, 'args')), dir, 'linked into the scanned directory');
  assert.match(fs.readFileSync(path.join(dir, 'log', 'run'), 'utf8'), /^exec multilog t s1000000 n10 \.\/main$/m);
  assert.equal(fs.readdirSync(services).filter((e) => e.startsWith('.')).length, 0, 'no staging directory left');
});

test('svctl add: --user, --env (spaces, quotes, $, newlines, bytes), --env-dir, --cwd, --limit-mem and --limit-files, seen from inside', async () => {
  const envDir = path.join(procs.tmpdir('dtn-svctl-envdir-'), 'env');
  fs.mkdirSync(envDir);
  fs.writeFileSync(path.join(envDir, 'FROMDIR'), 'from the dir\n');
  fs.writeFileSync(path.join(envDir, 'V'), 'overridden by --env\n');
  const cwd = procs.tmpdir('dtn-svctl-cwd-');
  const script = 'printf "V=<%s>\\n" "$V"; printf "M=<%s>\\n" "$M"; printf "R=<%s>\\n" "$R"; printf "E=<%s>\\n" "$E"; ' +
    'printf "FROMDIR=<%s>\\n" "$FROMDIR"; echo "pwd=$(pwd)"; echo "v=$(ulimit -v) n=$(ulimit -n)"; ' +
    'grep "^Uid:" /proc/self/status; grep "^Max address space" /proc/self/limits; while :; do sleep 1; done';
  const r = await svctlSh(`exec "$S" add --user nobody --env 'V=x  y $HOME "q" '"'s'"' *' --env "$(printf 'M=one\\ntwo')" ` +
    `--env "$(printf 'R=a\\377b')" --env E= --env-dir ${envDir} --cwd ${cwd} --limit-mem 3000000000 --limit-files 77 ` +
    `envs -- sh -c '${script}'`);
  ok(r, 'add');
  const dir = path.join(services, 'envs');
  const pid = await waitRunning(dir, 'sh');
  assert.equal(procStatus(pid, 'Uid').split(/\s+/)[0], '65534', 'runs as nobody');
  assert.equal(procStatus(pid, 'Gid').split(/\s+/)[0], '65534');
  await waitFor(() => logLines('envs').some((l) => l.startsWith('Max address space')), 'the report in the log');
  const lines = logLines('envs');
  assert.ok(lines.includes(`V=<x  y $HOME "q" 's' *>`), lines.join('\n'));
  assert.ok(lines.includes('M=<one') && lines.includes('two>'), 'a newline in a value');
  assert.ok(lines.includes('R=<a\xffb>'), 'bytes that are not UTF-8 in a value');
  assert.ok(lines.includes('E=<>'), 'an empty value');
  assert.match(lines.find((l) => l.startsWith('Uid:'))!, /^Uid:\s+65534\s+65534\s+65534\s+65534$/, 'nobody, from inside');
  assert.ok(lines.includes('FROMDIR=<from the dir>'), '--env-dir');
  assert.ok(lines.includes(`pwd=${cwd}`), '--cwd');
  assert.ok(lines.includes(`v=${Math.floor(3000000000 / 1024)} n=77`), lines.join('\n'));
  assert.match(lines.find((l) => l.startsWith('Max address space'))!, /^Max address space\s+3000000000\s/);
  // env is the owner's only: values may be secrets
  assert.equal(fs.statSync(path.join(dir, 'env')).mode & 0o7777, 0o700);
  assert.equal(fs.statSync(path.join(dir, 'env', 'V')).mode & 0o7777, 0o600);
  const show = await svctl(['show', 'envs']);
  ok(show, 'show');
  assert.match(show.stdout, /setuidgid nobody/);
  assert.match(show.stdout, /softlimit -m 3000000000 -o 77/);
  assert.match(show.stdout, /^ {4}M=one\\ntwo$/m);
  assert.match(show.stdout, /^status: up \(pid \d+\)/m);
});

test('svctl start, stop, restart, once, pause, continue, kill; status as a table and as JSON; the C svc and svstat on the same directory', async () => {
  const script = 'trap "echo got HUP" HUP; echo started; while :; do sleep 0.1; done';
  ok(await svctl(['add', 'ctl', '--', 'sh', '-c', script]), 'add');
  const dir = path.join(services, 'ctl');
  const link = path.join(scan, 'ctl');
  const first = await waitUp(dir);

  const stop = await svctl(['stop', 'ctl']);
  ok(stop, 'stop');
  assert.equal(statusPid(dir), 0, 'stop returns once it is down');
  assert.match((await run(cbin('svstat'), [link])).stdout, new RegExp(`^${link}: down \\d+ seconds, normally up\\n$`));
  const table = await svctl(['status']);
  ok(table, 'status');
  const lines = table.stdout.split('\n');
  assert.match(lines[0], /^NAME +STATE +PID +UPTIME +RESTARTS +LAST EXIT +LOG$/);
  const row = lines.find((l) => l.startsWith('ctl '))!;
  assert.match(row, /^ctl +down +- +- +0 +signal SIGTERM +up$/);
  assert.equal(lines[0].indexOf('STATE'), row.indexOf('down'), 'aligned columns');
  assert.doesNotMatch(table.stdout, /\x1b\[/, 'no colour when stdout is not a terminal');

  ok(await svctl(['start', 'ctl']), 'start');
  const second = statusPid(dir);
  assert.ok(second && second !== first, 'start returns once it is up');
  ok(await svctl(['restart', 'ctl']), 'restart');
  const third = statusPid(dir);
  assert.ok(third && third !== second, 'restart: a new run');
  assert.equal(alive(second), false);

  ok(await svctl(['pause', 'ctl']), 'pause');
  await waitFor(() => procState(third) === 'T', 'stopped');
  ok(await svctl(['continue', 'ctl']), 'continue');
  await waitFor(() => procState(third) !== 'T', 'continued');
  ok(await svctl(['kill', 'HUP', 'ctl']), 'kill HUP');
  await waitFor(() => logLines('ctl').includes('got HUP'), 'the HUP in the log');
  assert.equal(statusPid(dir), third, 'HUP trapped: the same run');
  ok(await svctl(['kill', 'sigkill', 'ctl']), 'kill sigkill');
  await waitUp(dir, { not: third });

  const json = await svctl(['status', '--json', 'ctl']);
  ok(json, 'status --json');
  const obj = JSON.parse(json.stdout);
  assert.equal(obj.name, 'ctl');
  assert.equal(obj.dir, link);
  assert.equal(obj.state, 'up');
  assert.equal(obj.pid, statusPid(dir));
  assert.equal(obj.info.lastExit.signal, 'SIGKILL');
  assert.equal(obj.log.state, 'up');

  // the C tools on the directory svctl wrote
  const c = await run(cbin('svc'), ['-d', link]);
  assert.equal(c.code, 0);
  await waitDown(dir);
  assert.match((await svctl(['status', 'ctl'])).stdout, /^ctl +down /m);
  ok(await svctl(['once', 'ctl']), 'once');
  assert.match((await run(cbin('svstat'), [link])).stdout, new RegExp(`^${link}: up \\(pid ${statusPid(dir)}\\) \\d+ seconds\\n$`), 'once: no want down, no want up');
  await run(cbin('svc'), ['-u', link]);
  await waitFor(async () => /^ctl +up /m.test((await svctl(['status'])).stdout), 'up after the C svc -u');

  // on a terminal (script(1) gives it one): the state coloured, green for up
  const tty = await run('script', ['-qec', `${bin('svctl')} status ctl`, '/dev/null'], { env: env() });
  assert.match(tty.stdout, /ctl +\x1b\[32mup +\x1b\[0m/, JSON.stringify(tty.stdout));
  const noColour = await run('script', ['-qec', `${bin('svctl')} status ctl`, '/dev/null'], { env: env({ NO_COLOR: '1' }) });
  assert.doesNotMatch(noColour.stdout, /\x1b\[/, 'NO_COLOR');

  // unknown names and signals: nothing sent
  const bad = await svctl(['stop', 'ctl', 'no-such']);
  assert.equal(bad.code, 100);
  assert.match(bad.stderr, /no service no-such/);
  assert.notEqual(statusPid(dir), 0, 'ctl not stopped: one name was wrong');
  const sig = await svctl(['kill', 'SEGV', 'ctl']);
  assert.equal(sig.code, 100);
  assert.match(sig.stderr, /^svctl: fatal: supervise cannot send signal "SEGV"/);
  const missing = await svctl(['status', 'ctl', 'no-such']);
  assert.equal(missing.code, 111);
  assert.match(missing.stdout, /^ctl +up /m);
  assert.match(missing.stderr, /no service no-such/);
});

test('svctl logs: the last lines in local time, and -f across rotations (no line lost or repeated); svctl shows to pgrep -x', async () => {
  const counter = 'i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.002; done';
  ok(await svctl(['add', '--log-size', '4096', '--log-files', '3', 'counter', '--', 'sh', '-c', counter]), 'add');
  const logDir = path.join(services, 'counter', 'log', 'main');
  await waitFor(() => logLines('counter').length > 5, 'lines');
  const tailed = await svctl(['logs', '-n', '3', 'counter'], { TZ: 'UTC' });
  ok(tailed, 'logs');
  const shown = tailed.stdout.split('\n').filter((l) => l !== '');
  assert.equal(shown.length, 3);
  for (const l of shown) assert.match(l, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} line \d+$/);

  const follower = procs.start(bin('svctl'), ['logs', '-f', '-n', '1', 'counter'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  follower.stdout!.on('data', (d: Buffer) => {
    text += d.toString('latin1');
  });
  const numbers = (): number[] => [...text.matchAll(/ line (\d+)\n/g)].map((m) => Number(m[1]));
  // two rotations after the follower began: its first line is in a file rotated away twice
  const start = await waitFor(() => numbers()[0], 'the first line followed');
  const rotatedPast = (): boolean => fs.readdirSync(logDir).filter((f) => f.startsWith('@')).some((f) =>
    fs.readFileSync(path.join(logDir, f), 'latin1').includes(` line ${start + 1}\n`)) &&
    !fs.readFileSync(path.join(logDir, 'current'), 'latin1').includes(` line ${start}\n`);
  await waitFor(rotatedPast, 'a rotation past the first line followed', 20000);
  // current just after a rotation may be empty: its last whole line once it has one
  const last: number = await waitFor(() => {
    const m = /line (\d+)\n$/.exec(fs.readFileSync(path.join(logDir, 'current'), 'latin1'));
    return m ? Number(m[1]) : 0;
  }, 'a line in the new current');
  await waitFor(() => numbers().includes(last), 'the follower at the end of the new current', 20000);
  const got = numbers();
  assert.deepEqual(got.slice(0, got.indexOf(last) + 1), Array.from({ length: got.indexOf(last) + 1 }, (_, i) => start + i), 'consecutive');

  const pgrep = await run('pgrep', ['-x', 'svctl']);
  assert.ok(pgrep.stdout.split('\n').includes(String(follower.pid)), 'pgrep -x svctl finds svctl logs -f');
  follower.kill('SIGTERM');
  ok(await svctl(['rm', '--purge', 'counter']), 'rm --purge counter');
});

test('svctl add --down and --no-log; rm keeps the directory, rm --purge removes it; the supervise processes are gone', async () => {
  ok(await svctl(['add', '--down', '--no-log', 'quiet', '--', 'sh', '-c', 'echo quiet-here; exec sleep 1000']), 'add --down');
  const dir = path.join(services, 'quiet');
  assert.equal(fs.existsSync(path.join(dir, 'log')), false, '--no-log');
  assert.equal(fs.existsSync(path.join(dir, 'down')), true, '--down');
  assert.equal(statusPid(dir), 0, 'not started');
  assert.equal(supervisesIn(dir).length, 1, 'supervised');
  assert.match((await svctl(['status', 'quiet'])).stdout, /^quiet +down +- +- +0 +- +-$/m, 'down, no log');
  ok(await svctl(['start', 'quiet']), 'start');
  assert.notEqual(statusPid(dir), 0);
  await waitFor(() => tree.output().includes('quiet-here\n'), 'its output in svscan\'s, without a log');
  const noLog = await svctl(['logs', 'quiet']);
  assert.equal(noLog.code, 100);
  assert.match(noLog.stderr, /quiet has no log service/);

  const rm = await svctl(['rm', 'quiet']);
  ok(rm, 'rm');
  assert.match(rm.stdout, /quiet removed .*kept/);
  assert.equal(fs.existsSync(path.join(scan, 'quiet')), false, 'unlinked');
  assert.equal(fs.existsSync(path.join(dir, 'run')), true, 'directory kept');
  assert.equal(supervisesIn(dir).length, 0, 'its supervise exited');
  assert.match((await run(cbin('svstat'), [dir])).stdout, /supervise not running/);
  // not in the scanned directory: control refused, show still finds the kept directory
  assert.equal((await svctl(['start', 'quiet'])).code, 100);
  assert.match((await svctl(['show', 'quiet'])).stdout, /not in the scanned directory/);
  // the name is taken until purged
  assert.equal((await svctl(['add', 'quiet', '--', 'true'])).code, 100);
  ok(await svctl(['rm', '--purge', 'quiet']), 'rm --purge of the kept directory');
  assert.equal(fs.existsSync(dir), false);

  ok(await svctl(['add', 'gone', '--', 'sh', '-c', 'exec sleep 1000']), 'add');
  const gone = path.join(services, 'gone');
  const pid = await waitUp(gone);
  const supervisors = [gone, path.join(gone, 'log')].flatMap((d) => supervisesIn(d)).map((p) => p.pid);
  assert.equal(supervisors.length, 2, 'gone and gone/log supervised');
  const purge = await svctl(['rm', '--purge', 'gone']);
  ok(purge, 'rm --purge');
  assert.equal(fs.existsSync(gone), false, 'purged');
  assert.equal(fs.existsSync(path.join(scan, 'gone')), false);
  assert.equal(alive(pid), false, 'the service is down');
  assert.deepEqual(supervisors.filter(alive), [], 'its supervise processes exited');
  assert.equal((await svctl(['rm', 'gone'])).code, 100, 'no such service any more');

  // a service directory put into the scanned directory itself (not svctl's): renamed out of svscan's sight, kept in the services directory
  const plain = makeService(path.join(scan, 'plain'), SLEEPER);
  const plainPid = await waitUp(plain);
  const moved = await svctl(['rm', 'plain']);
  ok(moved, 'rm of a directory');
  assert.equal(fs.existsSync(plain), false);
  assert.equal(fs.existsSync(path.join(services, 'plain', 'run')), true, 'kept in the services directory');
  assert.equal(alive(plainPid), false);
  assert.deepEqual(fs.readdirSync(scan).filter((e) => e.includes('plain')), [], 'no hidden leftover');
  ok(await svctl(['rm', '--purge', 'plain']), 'rm --purge plain');
  assert.equal(fs.existsSync(path.join(services, 'plain')), false);

  // the same with the services directory on another file system (tmpfs): rename fails with EXDEV, fs-extra's move copies
  const shm = fs.mkdtempSync('/dev/shm/dtn-svctl-');
  after(() => fs.rmSync(shm, { recursive: true, force: true }));
  assert.notEqual(fs.statSync(shm).dev, fs.statSync(scan).dev, 'two file systems');
  const far = makeService(path.join(scan, 'far'), SLEEPER, { log: '#!/bin/sh\nexec cat > out\n' });
  const farPid = await waitUp(far);
  await waitUp(path.join(far, 'log'));
  const across = await svctl(['rm', '--services-dir', shm, 'far']);
  ok(across, 'rm across file systems');
  assert.equal(fs.existsSync(far), false);
  assert.deepEqual(fs.readdirSync(path.join(shm, 'far')).sort(), ['log', 'run']);
  assert.equal(fs.statSync(path.join(shm, 'far', 'run')).mode & 0o7777, 0o755, 'modes kept');
  assert.equal(alive(farPid), false);
  assert.deepEqual(fs.readdirSync(scan).filter((e) => e.includes('far')), []);
});

test('svctl add refuses a bad request with a clear message and leaves nothing behind', async () => {
  ok(await svctl(['add', 'taken', '--', 'sh', '-c', 'exec sleep 1000']), 'add taken');
  const listing = (): string => JSON.stringify([fs.readdirSync(scan).sort(), fs.readdirSync(services).sort()]);
  const was = listing();
  const cases: Array<[string[], number, RegExp]> = [
    [['add', '', '--', 'true'], 100, /^svctl: fatal: the service name is empty$/m],
    [['add', '.dot', '--', 'true'], 100, /service name "\.dot" starts with a dot/],
    [['add', 'a/b', '--', 'true'], 100, /service name "a\/b" contains a slash/],
    [['add', 'taken', '--', 'true'], 100, /taken exists already/],
    [['add', 'nocmd'], 100, /no command/],
    [['add', 'nocmd', '--'], 100, /no command/],
    [['add', '--user', 'no-such-user-dtn', 'u', '--', 'true'], 100, /unknown account no-such-user-dtn/],
    [['add', '--env', 'NOEQUALS', 'e', '--', 'true'], 100, /--env "NOEQUALS": NAME=VALUE is needed/],
    [['add', '--env', 'T=trailing ', 'e', '--', 'true'], 100, /envdir drops blanks/],
    [['add', '--limit-mem', 'lots', 'm', '--', 'true'], 100, /--limit-mem "lots": a number/],
    [['add', '--log-files', '1', 'm', '--', 'true'], 100, /--log-files "1": a number at least 2/],
    [['add', '--cwd', '/no/such/dir', 'c', '--', 'true'], 100, /--cwd \/no\/such\/dir: no such directory/],
    [['add', 'b', '--bogus', '--', 'true'], 100, /Unknown argument/],
    [['start', 'x', '--', 'true'], 100, /only svctl add takes a command/],
    [['add', '--services-dir', scan, 'same', '--', 'true'], 100, /is the scanned directory/],
    [['add', '--services-dir', path.join(scan, 'inner', 'services'), 'in', '--', 'true'], 100,
      /services directory .*\/inner\/services is inside the scanned directory under a name svscan takes for a service \(inner\/services\)/],
    [['add', '--user', 'nobody', '--user', 'root', 'twice', '--', 'true'], 100, /--user given more than once/],
  ];
  for (const [args, code, message] of cases) {
    const r = await svctl(args);
    assert.equal(r.code, code, `${JSON.stringify(args)}: ${r.stderr}`);
    assert.match(r.stderr, message, JSON.stringify(args));
    assert.equal(listing(), was, `${JSON.stringify(args)}: nothing made`);
  }
  for (const [name, why] of [["x\\377", /is not UTF-8/], ["a\\nb", /contains a control character/]] as const) {
    const r = await svctlSh(`exec "$S" add "$(printf '${name}')" -- true`);
    assert.equal(r.code, 100, r.stderr);
    assert.match(r.stderr, why);
    assert.equal(listing(), was);
  }
  // NUL cannot come through argv: the rule itself
  assert.throws(() => checkName('a\0b'), (e: unknown) => e instanceof SvctlError && e.code === 100 && /NUL/.test(e.what));

  // a scanned directory nobody scans, and one that does not exist
  const idle = treeRoot(procs, roots, 'dtn-svctl-idle-', ['scan', 'services']);
  const noScan = await svctl(['add', 'x', '--', 'true'], { SVCTL_SCANDIR: idle.scan, SVCTL_SERVICES: idle.services });
  assert.equal(noScan.code, 111, noScan.stderr);
  assert.equal(noScan.stderr, `svctl: fatal: no svscan is running for ${idle.scan}; start it with: svscanboot --daemon ${idle.scan}\n`);
  assert.deepEqual([fs.readdirSync(idle.scan), fs.readdirSync(idle.services)], [[], []]);
  const nowhere = path.join(idle.dir, 'none');
  const noDir = await svctl(['add', 'x', '--', 'true'], { SVCTL_SCANDIR: nowhere, SVCTL_SERVICES: idle.services });
  assert.equal(noDir.code, 111, noDir.stderr);
  assert.match(noDir.stderr, /no svscan is running for .*none \(it does not exist\)/);
  assert.deepEqual(fs.readdirSync(idle.services), []);

  // a command that cannot run: said, with the end of its log; the service stays for svctl rm
  const failing = await svctl(['add', '--timeout', '5', 'broken', '--', '/no/such/program']);
  assert.equal(failing.code, 111, failing.stderr);
  assert.match(failing.stderr, /^svctl: fatal: broken does not stay up \(exit code 127\); .*the end of its log:\n/);
  assert.match(failing.stderr, /\/no\/such\/program: not found/);
  ok(await svctl(['rm', '--purge', 'broken']), 'rm --purge broken');
  // a ./run supervise cannot start (its warning goes to svscan's output): the reason, from the file
  const unrunnable = makeService(path.join(services, 'unrunnable'), SLEEPER);
  fs.chmodSync(path.join(unrunnable, 'run'), 0o644);
  fs.symlinkSync(unrunnable, path.join(scan, 'unrunnable'));
  const why = await waitAdded({ dir: unrunnable, link: path.join(scan, 'unrunnable') }, 'unrunnable',
    { command: [Buffer.from('sleep')], env: [], down: false, log: false }, 5000);
  assert.equal(why?.why, `unrunnable: supervise cannot start ${unrunnable}/run: access denied; it keeps trying (svctl rm unrunnable removes it)`);
  ok(await svctl(['rm', '--purge', 'unrunnable']), 'rm --purge unrunnable');
  ok(await svctl(['rm', '--purge', 'taken']), 'rm --purge taken');
});

test('svctl add on a tree whose svscan is gone (its supervise processes still answer): refused, nothing made; a link no supervise takes is taken back', async () => {
  const t = treeRoot(procs, roots, 'dtn-svctl-dead-', ['scan', 'services', 'logs']);
  const old = makeService(path.join(t.scan, 'old'), SLEEPER);
  const dead = startSvscan(procs, t.scan, t.logs);
  await waitUp(old);
  process.kill(dead.pid, 'SIGKILL');
  await waitFor(() => !alive(dead.pid), 'svscan gone');
  assert.equal(okAnswers(old), true, 'its supervise still answers');
  const e = { SVCTL_SCANDIR: t.scan, SVCTL_SERVICES: t.services };
  const r = await svctl(['add', 'orphaned', '--timeout', '3', '--', 'sleep', '100'], e);
  assert.equal(r.code, 111, r.stderr);
  assert.equal(r.stderr, `svctl: fatal: no svscan is running for ${t.scan}; start it with: svscanboot --daemon ${t.scan}\n`);
  assert.deepEqual([fs.readdirSync(t.scan), fs.readdirSync(t.services)], [['old'], []], 'nothing made');

  // linked, and no supervise comes (the check passed, then svscan went): the link and the directory removed again
  const orphan = makeService(path.join(t.services, 'orphan'), SLEEPER);
  const link = path.join(t.scan, 'orphan');
  fs.symlinkSync(orphan, link);
  const why = await waitAdded({ dir: orphan, link }, 'orphan', { command: [Buffer.from('sleep')], env: [], down: false, log: true }, 300);
  assert.equal(why?.why, `orphan was not added: no supervise runs for it after 0.3 seconds (is svscan still running for ${t.scan}?); ${link} and ${orphan} removed`);
  assert.deepEqual([fs.readdirSync(t.scan), fs.readdirSync(t.services)], [['old'], []], 'nothing left behind');

  // the hint is a command that can be pasted: the directory quoted for sh
  const spaced = path.join(t.dir, 'my scan');
  fs.mkdirSync(spaced);
  const quoted = await svctl(['add', 'x', '--', 'true'], { SVCTL_SCANDIR: spaced, SVCTL_SERVICES: t.services });
  assert.equal(quoted.code, 111, quoted.stderr);
  assert.equal(quoted.stderr, `svctl: fatal: no svscan is running for ${spaced}; start it with: svscanboot --daemon '${spaced}'\n`);
});

test('svctl rm of a directory placed in the scanned directory itself, its name taken in the services directory: refused (100) before anything is done', async () => {
  const plain = makeService(path.join(scan, 'plain'), SLEEPER);
  const pid = await waitUp(plain);
  const taken = path.join(services, 'plain');
  fs.mkdirSync(taken);
  const r = await svctl(['rm', 'plain']);
  assert.equal(r.code, 100, r.stderr);
  assert.equal(r.stderr, `svctl: fatal: ${taken} exists already: move it away first (or delete ${plain} instead with svctl rm --purge plain)\n`);
  assert.equal(fs.lstatSync(plain).isDirectory(), true, 'still in the scanned directory');
  assert.deepEqual(fs.readdirSync(scan).filter((n) => n.startsWith('.')), [], 'nothing hidden');
  assert.equal(statusPid(plain), pid, 'still up, the same run');
  fs.rmdirSync(taken);
  const done = await svctl(['rm', '--timeout', '0', 'plain']);
  ok(done, 'rm plain');
  assert.equal(done.stdout, `svctl: plain removed (${taken} kept)\n`);
  assert.equal(fs.existsSync(plain), false);
  ok(await svctl(['rm', '--purge', 'plain']), 'rm --purge plain');
  assert.equal(fs.existsSync(taken), false);
});

test('svctl rm of a directory in the scanned directory that cannot be moved into the services directory: put back, the error in daemontools\' wording', async () => {
  const t = treeRoot(procs, roots, 'dtn-svctl-back-', ['services']);
  const entry = makeService(path.join(scan, 'stuck'), SLEEPER);
  await waitUp(entry);
  // immutable: even root cannot make an entry in it
  ok(await run('chattr', ['+i', t.services]), 'chattr +i');
  let r: RunResult;
  try {
    r = await svctl(['rm', 'stuck'], { SVCTL_SERVICES: t.services });
  } finally {
    ok(await run('chattr', ['-i', t.services]), 'chattr -i');
  }
  assert.equal(r.code, 111, r.stderr);
  assert.match(r.stderr, new RegExp(`^svctl: fatal: unable to move ${scan}/\\.stuck\\.removed-\\d+ to ${t.services}/stuck \\(${entry} put back\\): permission denied\n$`));
  assert.equal(fs.lstatSync(entry).isDirectory(), true, 'back under its name');
  assert.deepEqual(fs.readdirSync(scan).filter((n) => n.startsWith('.')), [], 'nothing left hidden');
  ok(await svctl(['rm', '--purge', 'stuck'], { SVCTL_SERVICES: t.services }), 'rm --purge stuck');
  assert.equal(fs.existsSync(entry), false);
});

test('svctl rm --timeout 0: it still waits the default for supervise to go, and says so', async () => {
  // TERM ignored: svc -d does not bring it down, so its supervise stays
  ok(await svctl(['add', '--no-log', 'stubborn', '--', 'sh', '-c', "trap '' TERM; while :; do sleep 1; done"]), 'add stubborn');
  const dir = path.join(services, 'stubborn');
  const r = await svctl(['rm', '--timeout', '0', 'stubborn']);
  assert.equal(r.code, 111, r.stderr);
  assert.equal(r.stderr, `svctl: warning: supervise still running for ${dir} after 10 seconds (svc -dx sent)\n`);
  assert.equal(fs.existsSync(path.join(scan, 'stubborn')), false, 'unlinked');
  ok(await run(bin('svc'), ['-k', dir]), 'svc -k');
  await waitFor(() => supervisesIn(dir).length === 0, 'its supervise gone once it is down');
  ok(await svctl(['rm', '--purge', 'stubborn']), 'rm --purge stubborn');
});

test('svctl with the C svscan and supervise: add waits for the rescan, status shows the C tools\' state', async () => {
  const c = treeRoot(procs, roots, 'dtn-svctl-c-', ['scan', 'services', 'logs']);
  await scanning(startSvscan(procs, c.scan, c.logs, { cmd: cbin('svscan'), PATH: pathFor('c') }).pid, c.scan);
  const e = { SVCTL_SCANDIR: c.scan, SVCTL_SERVICES: c.services, PATH: pathFor('c') };
  // an svscan with nothing supervised yet is found by its working directory
  const add = await svctl(['add', '--timeout', '20', 'cweb', '--', 'sh', '-c', 'echo hello from C; exec sleep 1000'], e);
  ok(add, 'add under the C svscan');
  const dir = path.join(c.services, 'cweb');
  await waitFor(() => fs.existsSync(path.join(dir, 'log', 'main', 'current')) &&
    fs.readFileSync(path.join(dir, 'log', 'main', 'current'), 'latin1').includes('hello from C'), 'the C multilog');
  const st = await svctl(['status'], e);
  assert.match(st.stdout, /^cweb +up +\d+ +\d+s +- +- +up$/m, st.stdout);
  const supervisors = [dir, path.join(dir, 'log')].flatMap((d) => supervisesIn(d)).map((p) => p.pid);
  assert.equal(supervisors.length, 2, 'cweb and cweb/log supervised by the C supervise');
  ok(await svctl(['stop', 'cweb'], e), 'stop');
  assert.match((await run(cbin('svstat'), [path.join(c.scan, 'cweb')])).stdout, /: down \d+ seconds, normally up\n$/);
  ok(await svctl(['rm', '--purge', 'cweb'], e), 'rm --purge');
  assert.equal(fs.existsSync(dir), false);
  assert.deepEqual(supervisors.filter(alive), [], 'the C supervise processes exited');
});

test('svctl with svscan --host: add, status, restart, rm --purge', async () => {
  const h = treeRoot(procs, roots, 'dtn-svctl-host-', ['scan', 'services', 'logs']);
  await scanning(startSvscan(procs, h.scan, h.logs, { args: ['--host', h.scan] }).pid, h.scan);
  const e = { SVCTL_SCANDIR: h.scan, SVCTL_SERVICES: h.services };
  ok(await svctl(['add', 'hosted', '--', 'sh', '-c', 'echo hosted-here; exec sleep 1000'], e), 'add under svscan --host');
  const dir = path.join(h.services, 'hosted');
  const pid = await waitUp(dir);
  assert.match((await svctl(['status'], e)).stdout, new RegExp(`^hosted +up +${pid} +\\d+s +0 +- +up$`, 'm'));
  ok(await svctl(['restart', 'hosted'], e), 'restart');
  assert.notEqual(statusPid(dir), pid);
  ok(await svctl(['rm', '--purge', 'hosted'], e), 'rm --purge');
  assert.equal(fs.existsSync(dir), false);
  assert.equal(alive(pid), false);
});

test('svctl as an ordinary user: the places under $HOME, a tree of his own, --user refused', async () => {
  const home = procs.tmpdir('dtn-svctl-home-');
  roots.push(home);
  fs.chownSync(home, 65534, 65534);
  const base = path.join(home, '.local', 'share', 'daemontools-node');
  const scanDir = path.join(base, 'service');
  // as nobody: the scanned directory made by hand, as svscanboot would be started on it
  const mk = await run(cbin('setuidgid'), ['nobody', 'mkdir', '-p', scanDir]);
  assert.equal(mk.code, 0, mk.stderr);
  const userEnv: NodeJS.ProcessEnv = { ...process.env, HOME: home, PATH: pathFor('ours') };
  delete userEnv.SVCTL_SCANDIR;
  delete userEnv.SVCTL_SERVICES;
  delete userEnv.XDG_DATA_HOME;
  const out = fs.openSync(path.join(home, 'svscan.out'), 'w');
  const userTree = procs.start(cbin('setuidgid'), ['nobody', bin('svscan'), scanDir], { detached: true, env: userEnv, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  await scanning(userTree.pid!, scanDir);
  const asUser = (args: string[]): Promise<RunResult> => run(cbin('setuidgid'), ['nobody', bin('svctl'), ...args], { env: userEnv, timeoutMs: 30000 });

  const add = await asUser(['add', 'mine', '--', 'sh', '-c', 'id -u; exec sleep 1000']);
  assert.equal(add.code, 0, add.stderr);
  const dir = path.join(base, 'services', 'mine');
  assert.equal(fs.readlinkSync(path.join(scanDir, 'mine')), dir);
  assert.equal(fs.statSync(dir).uid, 65534);
  const pid = await waitRunning(dir, 'sleep');
  assert.equal(procStatus(pid, 'Uid').split(/\s+/)[0], '65534');
  assert.match((await asUser(['status'])).stdout, /^mine +up /m);
  await waitFor(async () => /\d+:\d\d:\d\d\.\d{9} 65534$/m.test((await asUser(['logs', 'mine'])).stdout), 'its log, read by its owner');

  const other = await asUser(['add', '--user', 'root', 'theirs', '--', 'true']);
  assert.equal(other.code, 100);
  assert.match(other.stderr, /only root can run a service as another account/);
  assert.equal(fs.existsSync(path.join(base, 'services', 'theirs')), false);

  const rm = await asUser(['rm', '--purge', 'mine']);
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal(fs.existsSync(dir), false);
  assert.equal(alive(pid), false);
});

test('svctl --help and --version', async () => {
  const v = await svctl(['--version']);
  assert.deepEqual([v.code, v.stdout], [0, 'svctl (daemontools-node) 0.1.0\n']);
  const h = await svctl(['--help']);
  assert.equal(h.code, 0);
  for (const word of ['add', 'start', 'stop', 'restart', 'once', 'kill', 'pause', 'continue', 'status', 'logs', 'rm', 'show']) {
    assert.match(h.stdout, new RegExp(`svctl ${word} `), word);
  }
  const a = await svctl(['add', '--help']);
  assert.match(a.stdout, /svctl add NAME \[options\] -- COMMAND \[ARGS\.\.\.\]/);
  const none = await svctl([]);
  assert.equal(none.code, 100);
});
