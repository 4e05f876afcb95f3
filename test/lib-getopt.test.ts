import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bin, cbin, run } from './helpers';
import { getopt, getoptMessage } from '../lib/os/getopt';

const ok = (options: Array<[string, string?]>, rest: string[]) => ({
  ok: true,
  options: options.map(([letter, value]) => (value === undefined ? { letter } : { letter, value })),
  rest,
});

test('grouped letters, values attached or in the next word', () => {
  assert.deepEqual(getopt(['-ab', '-c', 'x', 'rest'], 'abc'), ok([['a'], ['b'], ['c']], ['x', 'rest']));
  assert.deepEqual(getopt(['-m100', '-o', '20', 'child', '-a'], 'm:o:a'), ok([['m', '100'], ['o', '20']], ['child', '-a']));
  assert.deepEqual(getopt(['-am5', 'x'], 'am:'), ok([['a'], ['m', '5']], ['x']));
  assert.deepEqual(getopt(['-m', '-a', 'x'], 'am:'), ok([['m', '-a']], ['x']), 'a value may look like an option');
  assert.deepEqual(getopt(['-m', '--', 'x'], 'am:'), ok([['m', '--']], ['x']));
  assert.deepEqual(getopt(['-aa', '-a'], 'a'), ok([['a'], ['a'], ['a']], []), 'repeats are kept, in order');
});

test('where options end: first non-option, a lone -, and any word starting with --', () => {
  assert.deepEqual(getopt(['x', '-a'], 'a'), ok([], ['x', '-a']));
  assert.deepEqual(getopt(['-a', '-', '-a'], 'a'), ok([['a']], ['-', '-a']));
  assert.deepEqual(getopt(['-a', '--', '-a'], 'a'), ok([['a']], ['-a']));
  assert.deepEqual(getopt(['-a', '--x', '-a'], 'a'), ok([['a']], ['-a']), '--x ends the options and is consumed, as in C');
  assert.deepEqual(getopt(['--help'], 'a'), ok([], []));
  assert.deepEqual(getopt([], 'a'), ok([], []));
  assert.deepEqual(getopt([''], 'a'), ok([], ['']));
});

test('illegal options and missing values', () => {
  assert.deepEqual(getopt(['-az'], 'a'), { ok: false, problem: 'illegal', letter: 'z' });
  assert.deepEqual(getopt(['-a-'], 'a'), { ok: false, problem: 'illegal', letter: '-' });
  assert.deepEqual(getopt(['-:'], 'a:'), { ok: false, problem: 'illegal', letter: ':' });
  assert.deepEqual(getopt(['-a', 'x', '-z'], 'a'), ok([['a']], ['x', '-z']), 'after the options, nothing is checked');
  assert.deepEqual(getopt(['-m'], 'm:'), { ok: false, problem: 'missing', letter: 'm' });
  assert.deepEqual(getopt(['-am'], 'am:'), { ok: false, problem: 'missing', letter: 'm' });
  assert.equal(getoptMessage('svc', { problem: 'illegal', letter: 'z' }), 'svc: illegal option -- z\n');
  assert.equal(getoptMessage('softlimit', { problem: 'missing', letter: 'o' }), 'softlimit: option requires an argument -- o\n');
});

test('the messages are the C tools\' (first line of their stderr)', async () => {
  const c = await run(cbin('softlimit'), ['-o']);
  assert.equal(c.stderr.split('\n')[0] + '\n', getoptMessage('softlimit', { problem: 'missing', letter: 'o' }));
  const s = await run(cbin('svc'), ['-y']);
  assert.equal(s.stderr.split('\n')[0] + '\n', getoptMessage('svc', { problem: 'illegal', letter: 'y' }));
  const ours = await run(bin('svc'), ['-y']);
  assert.equal(ours.stderr, s.stderr);
});
