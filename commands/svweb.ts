// svweb [options] dir (beyond daemontools 0.76): a web page and a JSON API
// about the services of dir, the directory svscan scans; or, with
// --textfile FILE, their metrics written to FILE on every change; or, with
// --passwd USER FILE, a user added to a password file.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import yargs from 'yargs/yargs';
import { Diag, EXIT_USAGE } from '../lib/os/errors';
import { answerHelp } from '../lib/os/help';
import { rawArgs } from '../lib/os/raw-argv';
import { showAs } from '../lib/os/proctitle';
import { Auth, addUser, isUserName } from '../lib/web/auth';
import { SvwebServer } from '../lib/web/server';
import { METRICS_CONTENT_TYPE, renderMetrics } from '../lib/web/metrics';
import { runTextfile } from '../lib/web/textfile';

const USAGE = '[--listen HOST:PORT] [--password-file FILE] [--read-only] dir | --textfile FILE dir | --passwd USER FILE';
const DEFAULT_PORT = 8080;
const diag: Diag = new Diag('svweb');
// Node would open its inspector on SIGUSR1 (ARCHITECTURE.md pitfall 8): anyone on the machine could then run code as svweb
process.on('SIGUSR1', () => undefined);
const args = process.argv.slice(2);
answerHelp('svweb', args, {
  usage: `svweb ${USAGE}`,
  description:
    'Serves a web page and a JSON API about the services of dir, the directory svscan scans (beyond daemontools 0.76): ' +
    'their state live, their logs, and buttons for svc\'s commands. It listens on 127.0.0.1:8080 unless told otherwise; ' +
    'any address other than a loopback one needs --password-file. Exits 100 on a usage error, 111 when it cannot ' +
    'listen or read dir or the password file.',
  options: [
    ['--listen HOST:PORT', `the address to listen on (default 127.0.0.1:${DEFAULT_PORT}; HOST alone: port ${DEFAULT_PORT}; [::1]:PORT for IPv6)`],
    ['--password-file FILE', 'users allowed in: user:hash lines (see --passwd); HTTP basic or the login form'],
    ['--read-only', 'show, never control: no buttons, and POST .../control is refused (403)'],
    ['--textfile FILE', 'no server: write the metrics of /metrics to FILE on every change, for node_exporter\'s textfile collector'],
    ['--passwd USER FILE', 'add USER to the password file FILE (or change its password), the password read from standard input'],
  ],
});

interface Options {
  listen?: string;
  'password-file'?: string;
  'read-only'?: boolean;
  textfile?: string;
  passwd?: string;
  _: Array<string | number>;
}

function usage(message?: string): never {
  if (message) diag.warn(message);
  return diag.usage(USAGE);
}

const argv = yargs(args)
  .scriptName('svweb')
  .help(false)
  .version(false)
  .strictOptions()
  .string(['listen', 'password-file', 'textfile', 'passwd'])
  .boolean('read-only')
  .fail((msg) => usage(msg))
  .parseSync() as Options;

const rest = argv._.map(String);

/** HOST:PORT, [V6]:PORT, HOST, :PORT → host and port. */
function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*))(?::(\d{1,5}))?$/.exec(text);
  const host = m ? m[1] ?? m[2] : undefined;
  const port = m?.[3] === undefined ? DEFAULT_PORT : Number(m[3]);
  if (!m || host === undefined || port > 65535) return usage(`bad --listen: ${text}`);
  return { host: host === '' ? '127.0.0.1' : host, port };
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  if (net.isIPv6(host)) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

async function passwd(user: string, file: string): Promise<void> {
  if (!isUserName(user)) usage(`bad user name: ${JSON.stringify(user)} (no colon, space or control character; at most 64)`);
  const password = (await readStdin()).split('\n')[0].replace(/\r$/, '');
  if (password === '') usage('no password on standard input');
  try {
    await addUser(file, user, password);
  } catch (e) {
    diag.fatal(`unable to add ${user} to ${file}`, e);
  }
}

async function main(): Promise<void> {
  if (argv.passwd !== undefined) {
    if (rest.length !== 1) usage('--passwd USER FILE');
    await passwd(argv.passwd, rest[0]);
    return;
  }
  if (rest.length !== 1) usage();
  const dir = path.resolve(rest[0]);
  try {
    fs.readdirSync(dir);
  } catch (e) {
    diag.fatal(`unable to read ${rest[0]}`, e);
  }
  if (argv.textfile !== undefined) {
    showAs('svweb', rawArgs(2));
    await runTextfile(dir, argv.textfile);
  }
  const { host, port } = parseListen(argv.listen ?? `127.0.0.1:${DEFAULT_PORT}`);
  const file = argv['password-file'];
  if (file === undefined && !isLoopback(host)) {
    diag.fatal(
      `refusing to listen on ${host} without --password-file: anyone who reaches it could control the services ` +
        '(add a user with svweb --passwd USER FILE)',
      undefined,
      EXIT_USAGE,
    );
  }
  let auth: Auth;
  try {
    auth = new Auth(file);
  } catch (e) {
    diag.fatal(`unable to read password file ${file}`, e);
  }
  const server = new SvwebServer({
    dir,
    auth,
    readOnly: argv['read-only'] === true,
    metrics: { contentType: METRICS_CONTENT_TYPE, render: (services) => renderMetrics(services) },
  });
  try {
    await server.listen(port, host);
  } catch (e) {
    diag.fatal(`unable to listen on ${argv.listen ?? `127.0.0.1:${DEFAULT_PORT}`}`, e);
  }
  showAs('svweb', rawArgs(2));
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
