import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bin, cbin, run, tmpdir } from './helpers';

test('svok: usage, missing dir, unsupervised dir match the C svok', async () => {
  const d = tmpdir();
  for (const args of [[], ['/nonexistent-dir'], [d]]) {
    const ours = await run(bin('svok'), args);
    const theirs = await run(cbin('svok'), args);
    assert.deepEqual({ code: ours.code, out: ours.stdout, err: ours.stderr.replaceAll('svok', 'X') },
      { code: theirs.code, out: theirs.stdout, err: theirs.stderr.replaceAll('svok', 'X') }, `svok ${args.join(' ')}`);
  }
});
