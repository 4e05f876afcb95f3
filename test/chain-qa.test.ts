// Corner cases of the chain-loaders found by comparing with the C tools,
// where a row in chain-compat's table cannot set the scene (another user,
// another working directory).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, bin, cbin, run } from './helpers';

const procs = new Procs();
let dir = '';

before(() => {
  dir = procs.tmpdir('dtn-chain-qa-');
  fs.chmodSync(dir, 0o755);
  fs.mkdirSync(path.join(dir, 'e'), { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'e', 'FOO'), 'foo\n', { mode: 0o644 });
});
after(() => procs.cleanup());

/** Runs `setuidgid nobody TOOL args` (the C setuidgid) in cwd, for ours and the C TOOL. */
async function asNobody(prog: string, args: string[], cwd: string) {
  const [ours, theirs] = await Promise.all([bin(prog), cbin(prog)].map((cmd) => run(cbin('setuidgid'), ['nobody', cmd, ...args], { cwd })));
  return { ours, theirs };
}

test('envdir: a working directory it may enter but not read is fatal, checked before the directory, as in the C envdir', async () => {
  const cwd = path.join(dir, 'enter-only');
  fs.mkdirSync(cwd);
  fs.chmodSync(cwd, 0o711);
  for (const args of [[path.join(dir, 'e'), 'sh', '-c', 'echo $FOO'], ['nonexistent', 'true'], [path.join(dir, 'e')]]) {
    const { ours, theirs } = await asNobody('envdir', args, cwd);
    assert.deepEqual(ours, theirs, args.join(' '));
  }
  const { ours } = await asNobody('envdir', [path.join(dir, 'e'), 'true'], cwd);
  assert.deepEqual({ code: ours.code, err: ours.stderr }, { code: 111, err: 'envdir: fatal: unable to switch to current directory: access denied\n' });
});
