// svscanboot [dir]: starts the service tree at boot. Stops the supervise
// processes a previous boot left (svc -dx dir/* dir/*/log), then runs
// `svscan dir 2>&1 | readproctitle service errors: .....`, everything with a
// fixed PATH and stdio on /dev/null. No shell ever sees a file name.
import { ignoreForOurselves } from '../lib/exec/pass-on';
import { spawn, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { answerHelp } from '../lib/os/help';
import { captureLimits, spawnWithLimits } from '../lib/exec/limits';
import { isSupervised } from '../lib/control/service';
import { reapOrphans } from '../lib/os/child-exits';
import * as sys from '../lib/os/sys';
import { showAs } from '../lib/os/proctitle';
import { rawArgs } from '../lib/os/raw-argv';

captureLimits();
const args = process.argv.slice(2);
answerHelp('svscanboot', args, {
  usage: 'svscanboot [--host] [dir]',
  description:
    'Starts the service tree at boot: runs `svc -dx dir/* dir/*/log` (supervise left from a previous boot), then ' +
    '`svscan dir` with its output piped into `readproctitle service errors: ...`, with PATH set to a default that ' +
    'includes the daemontools-node commands and stdio on /dev/null. dir defaults to /service. SIGTERM is passed to ' +
    'svscan, which brings every service down. --host is passed on to svscan (one process supervises every service).',
});
process.on('SIGUSR1', () => undefined);
// signals our caller ignored (nohup) stay ignored for us too, as for the C one
ignoreForOurselves();
// ps, pidof, pgrep see `svscanboot dir` (the C one, a sh script, is `/bin/sh /usr/bin/svscanboot`, comm svscanboot)
showAs('svscanboot', rawArgs(2));

const host = args[0] === '--host';
if (host) args.shift();
const dir = args[0] ?? '/service';
const DOTS = '.'.repeat(400);
const STALE_WAIT_MS = 5000;
const STANDARD_PATH = ['/command', '/usr/local/bin', '/usr/local/sbin', '/bin', '/sbin', '/usr/bin', '/usr/sbin'];

/** Where our own commands are: beside dist/ in a build tree, PREFIX/bin for an install under PREFIX/lib/daemontools-node. */
function ourBinDirs(): string[] {
  const candidates = [path.resolve(__dirname, '..', 'bin'), path.resolve(__dirname, '..', '..', '..', 'bin')];
  return [...new Set(candidates)].filter((d) => fs.existsSync(path.join(d, 'svscan')));
}

const env = { PATH: [...ourBinDirs(), ...STANDARD_PATH].filter((d, i, all) => all.indexOf(d) === i).join(':') };
const devnull = fs.openSync('/dev/null', 'r+');

/** The children Node waits for itself; every other child is an orphan re-parented here. */
const ours = new Set<number>();

function start(argv: readonly string[], stdio: [number, number, number]): ChildProcess {
  const child = spawnWithLimits(argv, (a) => spawn(a[0], a.slice(1), { env, stdio }));
  child.on('error', () => undefined);
  if (child.pid) ours.add(child.pid);
  return child;
}

// Beyond the C svscanboot: a child subreaper. What svscan leaves running
// when it is killed (the services a new svscan adopts) is re-parented here,
// not to init, and reaped here when it exits: no zombie is left behind.
try {
  sys.setChildSubreaper();
  reapOrphans((pid) => ours.has(pid), 5000);
} catch {
  // not Linux 3.4+: orphans go to init, as under the C svscanboot
}

function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? 111);
    child.once('exit', (code) => resolve(code ?? 111));
    child.once('error', () => resolve(111));
  });
}

/** The sh globs `dir/*` and `dir/*\/log`: sorted, no dot-names, only what exists. */
function staleTargets(): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
  } catch {
    return [];
  }
  const logs = names.map((n) => path.join(dir, n, 'log')).filter((p) => {
    try {
      fs.lstatSync(p);
      return true;
    } catch {
      return false;
    }
  });
  return [...names.map((n) => path.join(dir, n)), ...logs];
}

async function main(): Promise<void> {
  const targets = staleTargets();
  if (targets.length) {
    await exited(start(['svc', '-dx', ...targets], [devnull, devnull, devnull]));
    // svscan starts no supervise where one still answers: give the stale
    // ones a moment to see their service down and exit
    const deadline = Date.now() + STALE_WAIT_MS;
    while (Date.now() < deadline && targets.some((t) => isSupervised(t))) await new Promise((r) => setTimeout(r, 50));
  }
  const [r, w] = sys.pipe2(sys.O_CLOEXEC);
  const svscan = start(['svscan', ...(host ? ['--host'] : []), dir], [devnull, w, w]);
  const title = start(['readproctitle', 'service', 'errors:', DOTS], [r, devnull, devnull]);
  sys.close(r);
  sys.close(w);
  const forward = (): void => {
    try {
      if (svscan.pid) process.kill(svscan.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  process.on('SIGTERM', forward);
  await exited(svscan);
  process.off('SIGTERM', forward);
  process.exit(await exited(title));
}

main().catch(() => process.exit(111));
