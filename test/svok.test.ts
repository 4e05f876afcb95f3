import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bin, cbin, run } from './helpers';
import { PID_TRAP_RUN, makeService, waitUp } from './fixtures/service';
import { MODES, oursAndC, startSupervise } from './fixtures/supervised';
import { notRunningDir, fixtures } from './fixtures/fake';
import { bytePath, outcome, runBytes } from './fixtures/compare';

const { procs, fake } = fixtures();

test('svok: same exit code, stdout and stderr as the C svok in every case', async () => {
  const root = procs.tmpdir();
  const running = path.join(root, 'running');
  fs.mkdirSync(running);
  fake(running);
  const file = path.join(root, 'file');
  fs.writeFileSync(file, '');
  const nosup = path.join(root, 'nosup');
  fs.mkdirSync(nosup);
  const noOk = path.join(root, 'nook');
  fs.mkdirSync(path.join(noOk, 'supervise'), { recursive: true });
  const okDir = path.join(root, 'okdir');
  fs.mkdirSync(path.join(okDir, 'supervise/ok'), { recursive: true });
  const notRunning = notRunningDir(root, 'notrunning', 'ok');
  const cases: Array<[string[], number]> = [
    [[], 100], [[running], 0], [['running'], 0], [[running, nosup], 0], [[nosup, running], 100], [[path.join(root, 'missing')], 111],
    [[file], 111], [[nosup], 100], [[noOk], 100], [[okDir], 111], [[notRunning], 100], [[''], 111], [['-x'], 111], [['--', running], 111],
    [[`${file}/x`], 111],
  ];
  for (const [args, code] of cases) {
    const ours = await run(bin('svok'), args, { cwd: root });
    const theirs = await run(cbin('svok'), args, { cwd: root });
    assert.deepEqual(outcome(ours), outcome(theirs), `svok ${args.join(' ')}`);
    assert.equal(ours.code, code, `svok ${args.join(' ')}`);
  }
  assert.deepEqual(outcome(await run(bin('svok'), [])), { code: 100, stdout: '', stderr: 'svok: usage: svok dir\n' });
  assert.deepEqual(outcome(await run(bin('svok'), [okDir])),
    { code: 111, stdout: '', stderr: `svok: fatal: unable to open ${okDir}/supervise/ok: is a directory\n` });
  assert.deepEqual(outcome(await run(bin('svok'), [file])),
    { code: 111, stdout: '', stderr: `svok: fatal: unable to chdir to ${file}: not a directory\n` });
});

test('svok: names that are not UTF-8 are used and printed as the bytes given', async () => {
  const root = procs.tmpdir();
  const good = path.join(root, 'good');
  fs.mkdirSync(good);
  fake(good);
  fs.renameSync(good, bytePath(root, 'bad\xff'));
  for (const [args, code] of [[['bad\\377'], 0], [['missing\\376'], 111]] as const) {
    const ours = await runBytes(bin('svok'), [...args], root);
    const theirs = await runBytes(cbin('svok'), [...args], root);
    assert.deepEqual(outcome(ours), outcome(theirs), args[0]);
    assert.equal(ours.code, code);
  }
  assert.equal((await runBytes(bin('svok'), ['missing\\376'], root)).stderr, 'svok: fatal: unable to chdir to missing\xfe: file does not exist\n');
});

for (const mode of MODES) test(`svok follows a real supervisor, the C supervise and ours (${mode}): 0 while it runs, 100 once it has exited`, async () => {
  const root = procs.tmpdir();
  for (const { name, opts } of oursAndC(mode)) {
    const s = makeService(path.join(root, name), PID_TRAP_RUN);
    const sup = await startSupervise(procs, s, opts).ready();
    await waitUp(s, { pidFile: true });
    for (const prog of [bin('svok'), cbin('svok')]) assert.equal((await run(prog, [s])).code, 0, `${prog} ${name}`);
    await run(cbin('svc'), ['-dx', s]);
    await sup.ended();
    for (const prog of [bin('svok'), cbin('svok')]) {
      assert.deepEqual(outcome(await run(prog, [s])), { code: 100, stdout: '', stderr: '' }, `${prog} ${name} after exit`);
    }
  }
});

test('--help and --version (beyond)', async () => {
  const h = await run(bin('svok'), ['--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /^svok dir/);
  assert.deepEqual(outcome(await run(bin('svok'), ['--version'])), { code: 0, stdout: 'svok (daemontools-node) 0.1.0\n', stderr: '' });
});
