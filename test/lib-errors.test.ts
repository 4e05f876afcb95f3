import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { Diag, EXIT_FAIL, EXIT_USAGE, SysError, errnoCode, reason, writeStderr } from '../lib/os/errors';

// This file doubles as the child that exercises Diag's exits (see the last tests).
const CHILD = process.env.LIB_ERRORS_CHILD;
if (CHILD) {
  const diag = new Diag('prog');
  const enoent = Object.assign(new Error('x'), { code: 'ENOENT' });
  if (CHILD === 'warn') {
    diag.warn('unable to do it', enoent);
    diag.warn('plain');
    process.exit(0);
  }
  if (CHILD === 'fatal') diag.fatal('unable to open x', enoent);
  if (CHILD === 'fatal100') diag.fatal('no', undefined, EXIT_USAGE);
  if (CHILD === 'usage') diag.usage('dir');
  if (CHILD === 'closed') {
    fs.closeSync(2);
    writeStderr('into the void\n');
    diag.warn('still alive');
    process.exit(7);
  }
}

const SPEC: Record<string, string> = {
  ENOENT: 'file does not exist', EACCES: 'access denied', EPERM: 'permission denied', EAGAIN: 'temporary failure',
  ENXIO: 'device not configured', ENOTDIR: 'not a directory', EEXIST: 'file already exists', EISDIR: 'is a directory',
  ENOSPC: 'out of disk space', ELOOP: 'symbolic link loop', ENOMEM: 'out of memory', EINVAL: 'invalid argument',
  EINTR: 'interrupted system call', EIO: 'input/output error', EPIPE: 'broken pipe', ENOEXEC: 'exec format error',
  EMFILE: 'process cannot open more files', ENAMETOOLONG: 'file name too long', EROFS: 'read-only file system',
  EBUSY: 'device busy', ETXTBSY: 'text busy', E2BIG: 'argument list too long', ECHILD: 'no child processes',
  ESRCH: 'no such process',
};

test('errno wording: the SPEC table', () => {
  for (const [code, text] of Object.entries(SPEC)) {
    assert.equal(reason(Object.assign(new Error('x'), { code })), text, code);
    assert.equal(reason(new SysError(code, 'open', 1)), text, `SysError ${code}`);
  }
});

test('errno wording: every phrase is one the C daemontools carries', () => {
  // the C tools embed the whole errno table of their library; each of our phrases must be in it
  // (not through helpers.ts: this file's child closes fd 2, and with koffi
  // loaded, as helpers.ts loads it, Node's exit then hangs)
  const cbin = (name: string): string => `/usr/bin/${name}`;
  const text = fs.readFileSync(cbin('svstat')).toString('latin1') + fs.readFileSync(cbin('supervise')).toString('latin1');
  for (const [code, phrase] of Object.entries(SPEC)) assert.ok(text.includes(`\0${phrase}\0`), `${code}: "${phrase}"`);
});

test('errno wording: real Node errors, unknown codes, non-system errors', () => {
  let caught: unknown;
  try {
    fs.readFileSync('/nonexistent/file');
  } catch (e) {
    caught = e;
  }
  assert.equal(errnoCode(caught), 'ENOENT');
  assert.equal(reason(caught), 'file does not exist');
  assert.equal(reason(Object.assign(new Error('x'), { code: 'EWEIRD' })), 'error');
  assert.equal(reason(new Error('plain message')), 'plain message');
  assert.equal(reason('a string'), 'a string');
  assert.equal(errnoCode({ code: 5 }), undefined);
  assert.equal(errnoCode(null), undefined);
  assert.equal(EXIT_USAGE, 100);
  assert.equal(EXIT_FAIL, 111);
});

function child(mode: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [__filename], { env: { ...process.env, LIB_ERRORS_CHILD: mode }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('Diag: warning, fatal (111 or given code), usage (100), in daemontools form on stderr', () => {
  assert.deepEqual(child('warn'), {
    status: 0, stdout: '', stderr: 'prog: warning: unable to do it: file does not exist\nprog: warning: plain\n',
  });
  assert.deepEqual(child('fatal'), { status: 111, stdout: '', stderr: 'prog: fatal: unable to open x: file does not exist\n' });
  assert.deepEqual(child('fatal100'), { status: 100, stdout: '', stderr: 'prog: fatal: no\n' });
  assert.deepEqual(child('usage'), { status: 100, stdout: '', stderr: 'prog: usage: prog dir\n' });
});

test('writeStderr and Diag.warn survive a closed stderr', () => {
  assert.deepEqual(child('closed'), { status: 7, stdout: '', stderr: '' });
});
