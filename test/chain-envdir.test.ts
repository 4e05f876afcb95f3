// envdir: how files become variables, checked directly and against the C envdir.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, bin, cbin, run } from './helpers';

const procs = new Procs();
let dir = '';

before(() => {
  dir = procs.tmpdir('dtn-envdir-');
  const e = path.join(dir, 'e');
  fs.mkdirSync(e);
  const files: Record<string, string> = {
    FIRST: 'one\ntwo\n',
    TRIM: 'a b \t \t\nrest',
    NUL: 'x\0y\0\n',
    KEEP: ' \r lead\r\n',
    NEWLINE: '\n',
    NOEOL: 'no end of line',
    REMOVE: '',
    HOME: '',
    '.HIDDEN': 'hidden\n',
  };
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(e, name), content);
  fs.symlinkSync('nonexistent', path.join(e, 'DANGLING'));
  fs.writeFileSync(path.join(e, 'LONG'), 'y'.repeat(10000) + '\n' + 'z'.repeat(10000));
  fs.mkdirSync(path.join(dir, 'fifo'));
  makeFifo(path.join(dir, 'fifo', 'PIPE'));
  fs.mkdirSync(path.join(dir, 'unreadable'));
  fs.writeFileSync(path.join(dir, 'unreadable', 'SECRET'), 'x\n', { mode: 0o600 });
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(path.join(dir, 'unreadable'), 0o755);
  fs.mkdirSync(path.join(dir, 'noexec'), { mode: 0o644 });
  fs.chmodSync(path.join(dir, 'noexec'), 0o644);
});
after(() => procs.cleanup());

function makeFifo(p: string): void {
  // mkfifo(1) keeps the test free of FFI
  const r = spawnSync('mkfifo', [p]);
  assert.equal(r.status, 0, 'mkfifo');
}

/** The child's environment as name → value. */
function parseEnv(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const entry of out.split('\0').filter(Boolean)) {
    const eq = entry.indexOf('=');
    m.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return m;
}

const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/root', REMOVE: 'was set', FIRST: 'old' };

test('envdir: first line, trailing blanks trimmed, NUL as newline, empty file removes, dot-files ignored', async () => {
  const r = await run(bin('envdir'), ['e', 'env', '-0'], { cwd: dir, env: baseEnv });
  assert.equal(r.code, 0, r.stderr);
  const env = parseEnv(r.stdout);
  assert.equal(env.get('FIRST'), 'one');
  assert.equal(env.get('TRIM'), 'a b');
  assert.equal(env.get('NUL'), 'x\ny\n');
  assert.equal(env.get('KEEP'), ' \r lead\r');
  assert.equal(env.get('NEWLINE'), '');
  assert.equal(env.get('NOEOL'), 'no end of line');
  assert.equal(env.get('LONG'), 'y'.repeat(10000));
  assert.equal(env.has('REMOVE'), false);
  assert.equal(env.has('HOME'), false);
  assert.equal(env.has('DANGLING'), false, 'a dangling symlink reads as empty');
  assert.equal(env.has('.HIDDEN'), false);
  assert.equal(env.get('PATH'), baseEnv.PATH);
});

test('envdir: the child environment is the C envdir\'s, with the directory\'s variables last, in directory order', async () => {
  const e2 = path.join(dir, 'e2');
  fs.mkdirSync(e2);
  for (const [n, v] of Object.entries({ A: 'a\n', B: 'b  \n', EMPTY: '', HOME: 'home\n' })) fs.writeFileSync(path.join(e2, n), v);
  const env = { ...baseEnv, PWD: dir };
  const ours = await run(bin('envdir'), ['e2', 'env', '-0'], { cwd: dir, env });
  const theirs = await run(cbin('envdir'), ['e2', 'env', '-0'], { cwd: dir, env });
  assert.equal(ours.code, 0, ours.stderr);
  assert.deepEqual({ ...ours, stdout: '' }, { ...theirs, stdout: '' });
  // the launcher's /bin/sh may reorder the inherited variables, not the new ones
  assert.deepEqual(parseEnv(ours.stdout), parseEnv(theirs.stdout));
  const tail = (out: string) => out.split('\0').filter(Boolean).slice(-3);
  assert.deepEqual(tail(ours.stdout), tail(theirs.stdout));
});

test('envdir: an environment without PWD stays without PWD, one with PWD keeps it as it was', async () => {
  for (const env of [{ PATH: baseEnv.PATH, A: '1' }, { PATH: baseEnv.PATH, PWD: dir, OLDPWD: '/' }]) {
    const ours = await run(bin('envdir'), ['e2', 'env', '-0'], { cwd: dir, env });
    const theirs = await run(cbin('envdir'), ['e2', 'env', '-0'], { cwd: dir, env });
    assert.equal(ours.code, 0, ours.stderr);
    assert.deepEqual(parseEnv(ours.stdout), parseEnv(theirs.stdout));
  }
});

test('every chain-loader: no PWD stays no PWD (an OLDPWD naming the directory too), a PWD stays as it was, like the C tools', async () => {
  const envs = [{ PATH: baseEnv.PATH, A: '1' }, { PATH: baseEnv.PATH, OLDPWD: dir }, { PATH: baseEnv.PATH, PWD: dir, OLDPWD: '/' }];
  const tools: string[][] = [['envdir', 'e2'], ['envuidgid', 'root'], ['setuidgid', 'root'], ['softlimit', '-o', '100'], ['setlock', 'lockfile'], ['pgrphack']];
  for (const env of envs) {
    for (const [tool, ...args] of tools) {
      const ours = await run(bin(tool), [...args, 'env', '-0'], { cwd: dir, env });
      const theirs = await run(cbin(tool), [...args, 'env', '-0'], { cwd: dir, env });
      assert.equal(ours.code, 0, ours.stderr);
      assert.deepEqual(parseEnv(ours.stdout), parseEnv(theirs.stdout), `${tool} ${JSON.stringify(env)}`);
    }
  }
});

test('envdir: a FIFO without a writer reads as empty instead of hanging', async () => {
  const r = await run(bin('envdir'), ['fifo', 'sh', '-c', 'echo ${PIPE-unset}'], { cwd: dir, env: { ...baseEnv, PIPE: 'x' }, timeoutMs: 10000 });
  assert.deepEqual({ code: r.code, out: r.stdout, err: r.stderr }, { code: 0, out: 'unset\n', err: '' });
});

test('envdir: missing directory, a file, an unreadable file and an unsearchable directory are fatal errors like the C envdir', async () => {
  const cases = [
    ['nonexistent', 'true'],
    ['e/FIRST', 'true'],
  ];
  for (const args of cases) {
    const ours = await run(bin('envdir'), args, { cwd: dir, env: baseEnv });
    const theirs = await run(cbin('envdir'), args, { cwd: dir, env: baseEnv });
    assert.equal(ours.code, 111);
    assert.deepEqual(ours, theirs, args.join(' '));
  }
  // permissions only matter to a non-root user
  for (const sub of ['unreadable', 'noexec']) {
    const script = (envdir: string) => `cd ${dir} && ${bin('setuidgid')} nobody ${envdir} ${sub} true`;
    const ours = await run('/bin/sh', ['-c', script(bin('envdir'))], { env: baseEnv });
    const theirs = await run('/bin/sh', ['-c', script(cbin('envdir'))], { env: baseEnv });
    assert.equal(ours.code, 111, sub);
    assert.match(ours.stderr, /^envdir: fatal: unable to (read unreadable\/SECRET|switch to directory noexec): access denied\n$/);
    assert.deepEqual(ours, theirs, sub);
  }
});

test('envdir: PATH for the search is the one envdir was given, as in the C envdir', async () => {
  const bindir = path.join(dir, 'pathbin');
  fs.mkdirSync(bindir);
  fs.writeFileSync(path.join(bindir, 'only-here'), '#!/bin/sh\necho found\n', { mode: 0o755 });
  const pe = path.join(dir, 'pe');
  fs.mkdirSync(pe);
  fs.writeFileSync(path.join(pe, 'PATH'), `${bindir}\n`);
  const ours = await run(bin('envdir'), ['pe', 'only-here'], { cwd: dir, env: baseEnv });
  const theirs = await run(cbin('envdir'), ['pe', 'only-here'], { cwd: dir, env: baseEnv });
  assert.equal(ours.code, 111);
  assert.deepEqual(ours, theirs);
});
