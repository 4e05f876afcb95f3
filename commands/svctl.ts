// svctl (beyond daemontools 0.76): a command line made a supervised service
// in one step, and services managed by name. It writes ordinary service
// directories and speaks to supervise through its files, as svc and svstat
// do, so the C tools and ours handle what it makes.
//
//   svctl add NAME [options] -- COMMAND [ARGS...]
//   svctl start|stop|restart|once|pause|continue NAME...   svctl kill SIGNAL NAME...
//   svctl status [--json] [NAME...]   svctl logs [-f] [-n N] NAME   svctl rm [--purge] NAME   svctl show NAME
import yargs from 'yargs/yargs';
import type { Argv } from 'yargs';
import fs from 'node:fs';
import path from 'node:path';
import { Diag, EXIT_FAIL, EXIT_USAGE, writeStderr } from '../lib/os/errors';
import { VERSION } from '../lib/os/help';
import { rawArgs } from '../lib/os/raw-argv';
import { showAs } from '../lib/os/proctitle';
import { writeAllSync } from '../lib/os/write-all';
import { SvctlError, asBytes, usageError } from '../lib/svctl/fail';
import { checkName, utf8Arg } from '../lib/svctl/name';
import { Places, placesFor } from '../lib/svctl/places';
import { LOG_FILES_MIN, LOG_SIZE_MAX, LOG_SIZE_MIN, ServiceSpec, checkCount, parseEnv } from '../lib/svctl/scripts';
import { addService, existingDir, waitAdded } from '../lib/svctl/add';
import { LETTERS, Verb, before, scanEntry, sendTo, signalLetter, waitForVerb } from '../lib/svctl/control';
import { formatJsonRows, formatTable, readRows } from '../lib/svctl/status-table';
import { scannedServices } from '../lib/scan/tree-ready';
import { follow, localTimes, logDirOf, tail } from '../lib/svctl/log-view';
import { locate, removeService } from '../lib/svctl/remove';
import { describe } from '../lib/svctl/show';
import { requireSvscan } from '../lib/svctl/svscan-check';

const diag: Diag = new Diag('svctl', 'latin1');
// Node would open its inspector on SIGUSR1 (ARCHITECTURE.md pitfall 8) while this waits or follows a log
process.on('SIGUSR1', () => undefined);
// byte strings (lib/os/raw-argv.ts): the command after -- and --env values reach the service as their exact bytes
const raw = rawArgs(2);
const words = raw.map((b) => b.toString('latin1'));
// ps, pidof, pgrep see `svctl ...` while it waits (add, the verbs, rm, logs -f); not before: koffi costs a quick answer some ms
let titled = false;
function showTitle(): void {
  if (!titled) showAs('svctl', raw);
  titled = true;
}
const dash = words.indexOf('--');
const own = dash < 0 ? words : words.slice(0, dash);
const command = dash < 0 ? [] : raw.slice(dash + 1);

const DEFAULT_TIMEOUT = '10';

function fail(e: unknown): never {
  if (e instanceof SvctlError) diag.fatal(asBytes(e.what), e.cause, e.code);
  diag.fatal(asBytes(`internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`));
}

function out(data: Buffer | string): void {
  try {
    writeAllSync(1, typeof data === 'string' ? Buffer.from(data) : data);
  } catch {
    // nobody reads any more (a closed pipe: `svctl logs -f | head`)
    process.exit(0);
  }
}

const names = (y: Argv): Argv => y.positional('name', { type: 'string', array: true, describe: 'service names' });
const verb = (name: Verb, text: string) => [`${name} <name..>`, text, names] as const;

const parser = yargs(own)
  .scriptName('svctl')
  .usage('svctl COMMAND [options]\n\n' +
    'Makes a command line a supervised service (a service directory with ./run and ./log/run, linked into the ' +
    'directory svscan scans) and manages services by name. Root uses /service and /etc/daemontools-node/services; ' +
    'others $HOME/.local/share/daemontools-node/service and .../services. Exit 0 on success, 100 on a usage error, ' +
    '111 on a system failure (svctl status: when a service named is not there).')
  .parserConfiguration({
    'parse-numbers': false,
    'parse-positional-numbers': false,
    'dot-notation': false,
    'camel-case-expansion': false,
    'duplicate-arguments-array': true,
    'greedy-arrays': false,
  })
  .option('scan-dir', { type: 'string', global: true, describe: 'the directory svscan scans (or SVCTL_SCANDIR)' })
  .option('services-dir', { type: 'string', global: true, describe: 'where service directories are made (or SVCTL_SERVICES)' })
  .option('timeout', { type: 'string', global: true, default: DEFAULT_TIMEOUT, describe: 'seconds to wait for a state; 0: do not wait' })
  .command('add <name>', 'create the service NAME running COMMAND (after --) and wait until it is up', (y) => y
    .usage('svctl add NAME [options] -- COMMAND [ARGS...]\n\n' +
      'Writes the service directory NAME in the services directory (./run: envdir, setuidgid, softlimit, then ' +
      'COMMAND, every argument exactly as given; ./log/run: multilog t ./main), links it into the scanned ' +
      'directory and waits until it is up and stays up for a second; if it does not, says how its last run ended ' +
      'and shows the end of its log (exit 111; the service stays, svctl rm NAME removes it).')
    .positional('name', { type: 'string' })
    .option('user', { type: 'string', describe: 'run as this account (setuidgid; root only)' })
    .option('env', { type: 'string', array: true, describe: 'K=V: set a variable (envdir ./env), repeatable' })
    .option('env-dir', { type: 'string', describe: 'also read variables from this envdir directory' })
    .option('cwd', { type: 'string', describe: 'run COMMAND in this directory' })
    .option('limit-mem', { type: 'string', describe: 'softlimit -m BYTES' })
    .option('limit-files', { type: 'string', describe: 'softlimit -o N' })
    .option('down', { type: 'boolean', describe: 'do not start it (./down): svctl start NAME does' })
    .option('log', { type: 'boolean', default: true, describe: 'a log service (multilog t) in log/main; --no-log: none' })
    .option('log-size', { type: 'string', describe: `bytes per log file (multilog s; ${LOG_SIZE_MIN} to ${LOG_SIZE_MAX}, default 1000000)` })
    .option('log-files', { type: 'string', describe: 'log files kept (multilog n; at least 2, default 10)' }))
  .command(...verb('start', 'start (svc -u) and wait until up'))
  .command(...verb('stop', 'stop (svc -d) and wait until down'))
  .command(...verb('restart', 'stop and start again (svc -du) and wait until up again'))
  .command(...verb('once', 'start once, no restart (svc -o)'))
  .command(...verb('pause', 'send STOP (svc -p)'))
  .command(...verb('continue', 'send CONT (svc -c)'))
  .command('kill <signal> <name..>', 'send a signal: HUP INT QUIT KILL USR1 USR2 ALRM TERM CONT STOP WINCH (or its number)',
    (y) => names(y.positional('signal', { type: 'string' })))
  .command('status [name..]', 'a table of the services (all of them by default)', (y) => names(y)
    .option('json', { type: 'boolean', describe: 'one JSON object per service and line (svstat --json\'s, with name and log)' }))
  .command('logs <name>', 'the end of the service\'s log, labels in local time', (y) => y
    .positional('name', { type: 'string' })
    .option('f', { alias: 'follow', type: 'boolean', describe: 'then go on showing what is logged, across rotations' })
    .option('n', { alias: 'lines', type: 'string', default: '10', describe: 'how many lines' }))
  .command('rm <name>', 'take the service out of the scanned directory, stop it and its supervise', (y) => y
    .positional('name', { type: 'string' })
    .option('purge', { type: 'boolean', describe: 'also remove its directory (with its log)' }))
  .command('show <name>', 'where the service is, its state, run scripts and environment', (y) => y.positional('name', { type: 'string' }))
  .demandCommand(1, 'a command is needed')
  .strict()
  .help()
  .version(`svctl (daemontools-node) ${VERSION}`)
  .wrap(100)
  .fail((msg, err) => {
    if (err) throw err;
    writeStderr(`svctl: usage: ${msg}\nsvctl: usage: svctl COMMAND [options] (svctl --help)\n`, 'latin1');
    process.exit(EXIT_USAGE);
  });

type Parsed = Record<string, unknown> & { _: Array<string | number> };
const argv = parser.parseSync() as Parsed;
const sub = String(argv._[0]);

/** A single-valued option or positional; given twice is a usage error (yargs makes an array of it). */
function str(key: string): string | undefined {
  const v = argv[key];
  if (Array.isArray(v)) throw usageError(`${key.length === 1 ? '-' : '--'}${key} given more than once`);
  return typeof v === 'string' ? v : undefined;
}
const list = (key: string): string[] => {
  const v = argv[key];
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];
};

function timeoutMs(): number {
  const t = str('timeout') ?? DEFAULT_TIMEOUT;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(t)) throw usageError(`--timeout ${JSON.stringify(t)}: seconds are needed`);
  return Math.round(Number(t) * 1000);
}

function places(): Places {
  const scan = str('scan-dir');
  const services = str('services-dir');
  return placesFor({
    scanDir: scan === undefined ? undefined : utf8Arg('--scan-dir', scan),
    servicesDir: services === undefined ? undefined : utf8Arg('--services-dir', services),
  });
}

function spec(): ServiceSpec {
  const opt = (key: string): string | undefined => {
    const v = str(key);
    return v === undefined ? undefined : utf8Arg(`--${key}`, v);
  };
  const size = str('log-size');
  const files = str('log-files');
  const mem = str('limit-mem');
  const fds = str('limit-files');
  const envDir = opt('env-dir');
  const cwd = opt('cwd');
  return {
    command,
    user: opt('user'),
    env: list('env').map((e) => parseEnv(Buffer.from(e, 'latin1'))),
    envDir: envDir === undefined ? undefined : existingDir('--env-dir', envDir),
    cwd: cwd === undefined ? undefined : existingDir('--cwd', cwd),
    limitMem: mem === undefined ? undefined : checkCount('--limit-mem', mem, 1),
    limitFiles: fds === undefined ? undefined : checkCount('--limit-files', fds, 1),
    down: argv.down === true,
    log: argv.log !== false,
    logSize: size === undefined ? undefined : checkCount('--log-size', size, LOG_SIZE_MIN, LOG_SIZE_MAX),
    logFiles: files === undefined ? undefined : checkCount('--log-files', files, LOG_FILES_MIN),
  };
}

async function add(): Promise<number> {
  const name = checkName(str('name') ?? '');
  const where = places();
  const s = spec();
  const wait = timeoutMs();
  const added = addService(where, name, s);
  showTitle();
  const problem = wait === 0 ? undefined : await waitAdded(added, name, s, wait);
  if (!problem) {
    out(`svctl: ${name} ${wait === 0 ? 'added' : s.down ? 'added, down' : 'is up'} (${added.dir}, linked as ${added.link})\n`);
    return 0;
  }
  writeStderr(asBytes(`svctl: fatal: ${problem.why}\n`) + problem.log, 'latin1');
  return EXIT_FAIL;
}

async function control(v: Verb): Promise<number> {
  const where = places();
  const given = list('name').map(checkName);
  const letters = v === 'kill' ? signalLetter(str('signal') ?? '') : LETTERS[v as Exclude<Verb, 'kill'>];
  // every name first: nothing is sent when one is wrong
  const dirs = given.map((name) => {
    const dir = scanEntry(where.scanDir, name);
    if (locate(where.scanDir, where.servicesDir, name).entry === undefined) {
      throw usageError(`${name} is not in ${where.scanDir} (its directory was kept: link it again with ln -s ${path.join(where.servicesDir, name)} ${dir})`);
    }
    return dir;
  });
  const was = before(dirs);
  dirs.forEach((dir, i) => sendTo(dir, given[i], letters));
  const wait = timeoutMs();
  if (wait === 0) return 0;
  showTitle();
  const end = await waitForVerb(v, dirs, was, wait);
  if (end.kind === 'timeout') diag.fatal(asBytes(`${given.join(' ')}: ${v} not done after ${wait / 1000} seconds`));
  if (end.kind === 'failed') diag.fatal(end.what, end.cause);
  return 0;
}

function status(): number {
  const where = places();
  const given = list('name').map(checkName);
  // a tree never started here: say how to start one
  if (!fs.existsSync(where.scanDir)) requireSvscan(where.scanDir);
  const all = scannedServices(where.scanDir);
  const missing = given.filter((n) => !all.includes(n));
  for (const n of missing) diag.warn(asBytes(`no service ${n} in ${where.scanDir}`));
  const rows = readRows(where.scanDir, given.length ? given.filter((n) => all.includes(n)) : all);
  out(argv.json === true ? formatJsonRows(rows) : formatTable(rows, process.stdout.isTTY === true && !process.env.NO_COLOR));
  return missing.length ? EXIT_FAIL : 0;
}

function logs(): Promise<number> | number {
  const where = places();
  const name = checkName(str('name') ?? '');
  const n = Number(checkCount('-n', str('n') ?? '10', 0));
  const dir = logDirOf(locate(where.scanDir, where.servicesDir, name).dir);
  if (!fs.existsSync(path.dirname(dir))) throw usageError(`${name} has no log service (${path.dirname(dir)}): its output goes to svscan's`);
  const local = localTimes();
  let shown;
  try {
    shown = tail(dir, n);
  } catch (e) {
    throw new SvctlError(`unable to read ${dir}`, EXIT_FAIL, e);
  }
  out(local(shown.text));
  if (argv.f !== true) return 0;
  showTitle();
  return new Promise<number>(() => {
    follow(dir, shown.position, (block) => out(local(block)), (e) => diag.fatal(asBytes(`unable to read ${path.join(dir, 'current')}`), e));
  });
}

async function rm(): Promise<number> {
  const where = places();
  const name = checkName(str('name') ?? '');
  const wait = timeoutMs();
  showTitle();
  // rm always waits for the supervise processes to go: --timeout 0 waits the default
  const used = wait || Number(DEFAULT_TIMEOUT) * 1000;
  const done = await removeService(where.scanDir, where.servicesDir, name, argv.purge === true, Date.now() + used);
  for (const dir of done.left) diag.warn(asBytes(`supervise still running for ${dir} after ${used / 1000} seconds (svc -dx sent)`));
  const what = done.purged ? ` (${done.dir} deleted)` : fs.existsSync(done.dir) ? ` (${done.dir} kept)` : '';
  out(`svctl: ${name} removed${what}\n`);
  return done.left.length ? EXIT_FAIL : 0;
}

function show(): number {
  const where = places();
  const name = checkName(str('name') ?? '');
  out(describe(name, locate(where.scanDir, where.servicesDir, name), where.scanDir));
  return 0;
}

async function main(): Promise<number> {
  if (dash >= 0 && sub !== 'add') throw usageError(`only svctl add takes a command after --`);
  switch (sub) {
    case 'add':
      return add();
    case 'status':
      return status();
    case 'logs':
      return logs();
    case 'rm':
      return rm();
    case 'show':
      return show();
    default:
      return control(sub as Verb);
  }
}

main().then((code) => process.exit(code), fail);
