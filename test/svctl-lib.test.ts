// svctl's pieces on their own: sh words that sh reads back as the exact
// bytes (random ones included), --env values through envdir (ours and the
// C one), the places for root and for others, durations, signal names,
// the log follower (an error ends it through its handler; a log directory
// not made yet).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, bin, cbin, run, waitFor } from './helpers';
import { shWord } from '../lib/svctl/sh-quote';
import { envFile, parseEnv, runScript } from '../lib/svctl/scripts';
import { placesFor } from '../lib/svctl/places';
import { duration } from '../lib/svctl/status-table';
import { signalLetter } from '../lib/svctl/control';
import { SvctlError } from '../lib/svctl/fail';
import { follow } from '../lib/svctl/log-view';

const procs = new Procs();
after(() => procs.cleanup());

/** A seeded generator (xorshift32): the same bytes at every run. */
function randomBytes(seed: number): (n: number) => Buffer {
  let x = seed;
  return (n) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      b[i] = (x % 255) + 1; // no NUL: argv cannot hold one
    }
    return b;
  };
}

test('shWord: sh reads every word back as its bytes (special characters, and 300 random byte strings)', async () => {
  const rnd = randomBytes(20261205);
  const words: Buffer[] = ["a b", "it's", "'", "''", '"', '$HOME', '${x}', '`id`', '$(id)', '*', '?', '[a]', '~', '~root', '#', ';', '&',
    '|', '\\', '\n', 'a\nb\n', ' ', '\t', '', '-', '--', 'x=y', '=', '!', '{a,b}', 'é', '\r\n'].map((w) => Buffer.from(w));
  words.push(Buffer.from([0xff, 0xfe, 0x80]));
  for (let i = 0; i < 300; i++) words.push(rnd(1 + (i % 40)));
  const dir = procs.tmpdir('dtn-svctl-words-');
  const script = path.join(dir, 'words');
  // the words as the arguments of one printf: each one NUL-terminated in its output
  fs.writeFileSync(script, Buffer.concat([Buffer.from("printf '%s\\0'"), ...words.flatMap((w) => [Buffer.from(' '), shWord(w)]), Buffer.from('\n')]));
  const r = await run('/bin/sh', [script]);
  assert.equal(r.code, 0, r.stderr);
  const got = Buffer.from(r.stdout, 'latin1');
  const expected = Buffer.concat(words.flatMap((w) => [w, Buffer.from([0])]));
  assert.ok(got.equals(expected), 'the same bytes');
  assert.equal(shWord(Buffer.from('plain/path-1.2:x')).toString(), 'plain/path-1.2:x', 'plain words stay as they are');
});

test('--env values through envdir, ours and the C one: newlines, quotes, $, bytes that are not UTF-8, empty', async () => {
  const dir = procs.tmpdir('dtn-svctl-env-');
  const values = ['x  y $HOME "q" \'s\' *', 'one\ntwo\n\nthree', '', ' lead', 'tab\tinside', 'cr\rinside'].map((v) => Buffer.from(v));
  values.push(Buffer.from([0x61, 0xff, 0x62]));
  values.forEach((v, i) => fs.writeFileSync(path.join(dir, `V${i}`), envFile(v)));
  for (const envdir of [bin('envdir'), cbin('envdir')]) {
    const r = await run(envdir, [dir, 'sh', '-c', values.map((_, i) => `printf '%s\\0' "$V${i}"`).join('; ')]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Buffer.from(r.stdout, 'latin1').equals(Buffer.concat(values.flatMap((v) => [v, Buffer.from([0])]))), envdir);
  }
  assert.deepEqual(parseEnv(Buffer.from('K=a=b')), ['K', Buffer.from('a=b')]);
  for (const bad of ['=v', 'noequals', '.K=v', 'a/b=v', 'K=trailing ', 'K=tab\t']) {
    assert.throws(() => parseEnv(Buffer.from(bad)), (e: unknown) => e instanceof SvctlError && e.code === 100, bad);
  }
});

test('the run script: the chain in order, ./env by its full path when --cwd moves the command', () => {
  const text = runScript({
    command: [Buffer.from('prog'), Buffer.from('a b')],
    user: 'www',
    env: [['K', Buffer.from('v')]],
    envDir: '/etc/app env',
    cwd: '/srv/app',
    limitMem: '3000000000',
    limitFiles: '100',
    down: false,
    log: true,
  }, '/etc/daemontools-node/services/app').toString();
  assert.match(text, /^#!\/bin\/sh\n/);
  assert.match(text, /\nexec 2>&1\ncd \/srv\/app \|\| exit 111\nexec envdir '\/etc\/app env' \\\n {2}envdir \/etc\/daemontools-node\/services\/app\/env \\\n {2}setuidgid www \\\n {2}softlimit -m 3000000000 -o 100 \\\n {2}prog 'a b'\n$/);
  const bare = runScript({ command: [Buffer.from('prog')], env: [], down: false, log: true }, '/x').toString();
  assert.match(bare, /\nexec 2>&1\nexec prog\n$/);
});

test('places: root, other users (XDG_DATA_HOME, HOME), the environment, the options', () => {
  assert.deepEqual(placesFor({}, {}, 0), { scanDir: '/service', servicesDir: '/etc/daemontools-node/services' });
  assert.deepEqual(placesFor({}, { HOME: '/home/u' }, 1000), {
    scanDir: '/home/u/.local/share/daemontools-node/service',
    servicesDir: '/home/u/.local/share/daemontools-node/services',
  });
  assert.deepEqual(placesFor({}, { HOME: '/home/u', XDG_DATA_HOME: '/data' }, 1000), {
    scanDir: '/data/daemontools-node/service',
    servicesDir: '/data/daemontools-node/services',
  });
  assert.deepEqual(placesFor({}, { SVCTL_SCANDIR: '/s', SVCTL_SERVICES: '/d' }, 1000), { scanDir: '/s', servicesDir: '/d' });
  assert.deepEqual(placesFor({ scanDir: '/o', servicesDir: '/p' }, { SVCTL_SCANDIR: '/s', SVCTL_SERVICES: '/d' }, 0), { scanDir: '/o', servicesDir: '/p' });
  assert.throws(() => placesFor({}, {}, 1000), (e: unknown) => e instanceof SvctlError && e.code === 100 && /HOME/.test(e.what));
});

test('durations and signal names', () => {
  assert.deepEqual([0, 42, 63, 3600 + 5 * 60, 3 * 86400 + 4 * 3600].map(duration), ['0s', '42s', '1m03s', '1h05m', '3d04h']);
  assert.deepEqual(['TERM', 'SIGTERM', 'term', '15', 'HUP', 'KILL', '9', 'USR1', 'WINCH', 'STOP', 'CONT'].map(signalLetter),
    ['t', 't', 't', 't', 'h', 'k', 'k', '1', 'w', 'p', 'c']);
  for (const bad of ['SEGV', '11', '', 'SIG']) assert.throws(() => signalLetter(bad), (e: unknown) => e instanceof SvctlError && e.code === 100, bad);
});

test('svctl logs -f: an error reading the log stops the follower and goes to its handler (no exception escapes)', async () => {
  const dir = procs.tmpdir('dtn-svctl-follow-');
  // a `current` that cannot be read as a file: open(2) succeeds, read(2) fails with EISDIR
  fs.mkdirSync(path.join(dir, 'current'));
  const blocks: Buffer[] = [];
  const failed = await new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no error reported')), 10000);
    follow(dir, undefined, (b) => blocks.push(b), (e) => {
      clearTimeout(timer);
      resolve(e);
    });
  });
  assert.equal((failed as NodeJS.ErrnoException).code, 'EISDIR');
  assert.deepEqual(blocks, []);
});

test('svctl logs -f before the log directory exists: follows from the start of the first current to appear', async () => {
  const logDir = path.join(procs.tmpdir('dtn-svctl-follow-'), 'main');
  const blocks: Buffer[] = [];
  const errors: unknown[] = [];
  const stop = follow(logDir, undefined, (b) => blocks.push(b), (e) => errors.push(e));
  try {
    fs.mkdirSync(logDir);
    fs.writeFileSync(path.join(logDir, 'current'), 'first line\n');
    await waitFor(() => Buffer.concat(blocks).toString() === 'first line\n', 'the first current read from its start');
    fs.appendFileSync(path.join(logDir, 'current'), 'second line\n');
    await waitFor(() => Buffer.concat(blocks).toString() === 'first line\nsecond line\n', 'what follows');
  } finally {
    stop();
  }
  assert.deepEqual(errors, []);
});
