// tai64n and tai64nlocal against the C tools: byte-identical local times
// under several TZ values (DST changes included), and each reading the
// other's output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bin, cbin, run } from './helpers';
import { format } from '../lib/tai64';

function label(unix: number, nano: number): string {
  return format({ sec: unix, nano });
}

// around DST changes: Europe/Berlin 2026-03-29 01:00 UTC and 2026-10-25 01:00 UTC,
// America/St_Johns 2026-03-08 05:30 UTC, plus leap-year and epoch edges
const instants = [
  0, 1, 951782400, 1709164800, 1774744200, 1774745999, 1774746000, 1774746001, 1792890000, 1792893599,
  1792893600, 1772947800, 1772951399, 1772951400, 1772951401, 2147483647, 2147483648, 4102444800,
];

function sampleInput(): string {
  const parts: string[] = [];
  instants.forEach((t, i) => {
    const l = label(t, (i * 123456789) % 1000000000);
    parts.push(`${l} message ${i}`, l, `${l}x`, `${l}\tq`, `@0000${l.slice(1)} longer run`, `not ${l} at start`, `plain ${i}`, '', '@', 'a\0b');
  });
  parts.push(`${label(1774746000, 500)} partial last line`);
  return parts.filter((p) => p !== '@').join('\n');
}

const zones = ['UTC', 'Europe/Berlin', 'America/St_Johns', 'Asia/Kolkata', 'America/New_York', 'Australia/Lord_Howe',
  ':Europe/Berlin', 'EST5EDT', 'XYZ-3:30', 'ABC+11'];

test('tai64nlocal: byte-identical to the C tai64nlocal under several TZ values', async () => {
  const input = sampleInput();
  for (const tz of zones) {
    const env = { ...process.env, TZ: tz };
    const [ours, theirs] = await Promise.all([
      run(bin('tai64nlocal'), [], { input, env }),
      run(cbin('tai64nlocal'), [], { input, env }),
    ]);
    assert.equal(theirs.code, 0, `C tai64nlocal TZ=${tz}`);
    assert.equal(ours.code, 0);
    assert.equal(ours.stdout, theirs.stdout, `TZ=${tz}`);
    assert.equal(ours.stderr, '');
  }
});

test('tai64nlocal: a label cut off by the end of input is dropped, as in the C tool', async () => {
  for (const input of [label(1774746000, 7), `x\n${label(1774746000, 7).slice(0, 10)}`, 'no newline', '']) {
    const [ours, theirs] = await Promise.all([run(bin('tai64nlocal'), [], { input }), run(cbin('tai64nlocal'), [], { input })]);
    assert.equal(ours.stdout, theirs.stdout, JSON.stringify(input));
  }
});

test('tai64n: labels read by the C tai64nlocal, the C labels read by ours', async () => {
  const input = 'one\ntwo\n\nthree\0with nul\nlast without newline';
  const before = Date.now();
  const ours = await run(bin('tai64n'), [], { input });
  const theirs = await run(cbin('tai64n'), [], { input });
  const afterMs = Date.now();
  assert.equal(ours.code, 0);
  const shape = /^(@[0-9a-f]{24} [^\n]*\n){4}@[0-9a-f]{24} last without newline$/;
  assert.match(ours.stdout, shape);
  assert.equal(ours.stdout.replace(/@[0-9a-f]{24}/g, '@'), theirs.stdout.replace(/@[0-9a-f]{24}/g, '@'));
  for (const m of ours.stdout.matchAll(/@([0-9a-f]{24})/g)) {
    const sec = Number(BigInt(`0x${m[1].slice(0, 16)}`) - 2n ** 62n - 10n);
    assert.ok(sec * 1000 >= before - 1000 && sec * 1000 <= afterMs + 1000, 'the label is the current time');
    assert.equal(parseInt(m[1].slice(16), 16) % 1000, 500, 'microseconds + 500 ns, like the C tools');
  }
  const env = { ...process.env, TZ: 'Europe/Berlin' };
  const [cOfOurs, oursOfOurs] = await Promise.all([
    run(cbin('tai64nlocal'), [], { input: ours.stdout, env }),
    run(bin('tai64nlocal'), [], { input: ours.stdout, env }),
  ]);
  assert.equal(oursOfOurs.stdout, cOfOurs.stdout);
  assert.match(cOfOurs.stdout, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} one\n/);
  const [cOfC, oursOfC] = await Promise.all([
    run(cbin('tai64nlocal'), [], { input: theirs.stdout, env }),
    run(bin('tai64nlocal'), [], { input: theirs.stdout, env }),
  ]);
  assert.equal(oursOfC.stdout, cOfC.stdout);
});

test('tai64n: empty input, binary bytes, long lines', async () => {
  const big = Buffer.alloc(300000, 0x78);
  big[5] = 0xff;
  const input = Buffer.concat([big, Buffer.from('\n\n'), big]);
  const [ours, theirs] = await Promise.all([run(bin('tai64n'), [], { input }), run(cbin('tai64n'), [], { input })]);
  assert.equal(ours.stdout.replace(/@[0-9a-f]{24}/g, '@'), theirs.stdout.replace(/@[0-9a-f]{24}/g, '@'));
  assert.equal((await run(bin('tai64n'), [], { input: '' })).stdout, '');
});

/** A label for any second count (BigInt), wrapped to 64 bits as the C tool reads it. */
function farLabel(unix: bigint, nano: number): string {
  const secs = BigInt.asUintN(64, 2n ** 62n + 10n + unix);
  return `@${secs.toString(16).padStart(16, '0')}${nano.toString(16).padStart(8, '0')}`;
}

test('tai64nlocal: far labels (years past 275760, negative years, the C int wrap) as the C tool prints them', async () => {
  const unixes = [
    8640000000001n, 100000000000000n, -8640000000001n, -100000000000n, -62167219201n,
    67767976233532799n, 67767976233532800n, -67767976233532801n, 185542587187199n,
  ];
  const input = unixes.map((u, i) => `${farLabel(u, i * 7)} far ${i}\n`).join('');
  for (const tz of ['UTC', 'Europe/Berlin', 'America/New_York', 'XYZ-3:30']) {
    const env = { ...process.env, TZ: tz };
    const [ours, theirs] = await Promise.all([run(bin('tai64nlocal'), [], { input, env }), run(cbin('tai64nlocal'), [], { input, env })]);
    assert.equal(theirs.code, 0, `C tai64nlocal TZ=${tz}`);
    assert.equal(ours.code, 0);
    assert.equal(ours.stdout, theirs.stdout, `TZ=${tz}`);
  }
});

test('tai64nlocal: where the C tool crashes (year beyond a C int: short, uppercase, bare @), the line passes through unchanged', async () => {
  const inputs = ['@ x\n', 'first line\n@4000000063C4A1B20000000A x\n', '@4000000063c4a1b2 x\n', '@\n',
    '@ffffffffffffffffffffffff x\n', `${farLabel(67768036191676800n, 0)} x\n`, '@hello\nnext\n'];
  for (const input of inputs) {
    const theirs = await run(cbin('tai64nlocal'), [], { input });
    assert.equal(theirs.signal, 'SIGSEGV', `C tai64nlocal ${JSON.stringify(input)}`);
    const ours = await run(bin('tai64nlocal'), [], { input });
    assert.deepEqual(ours, { code: 0, signal: null, stdout: input, stderr: '' }, JSON.stringify(input));
  }
  // a label split across reads is passed through whole
  const split = await run('/bin/sh', ['-c', `{ printf '@ABCDEF'; sleep 0.2; printf '0123 y\\n'; } | "$0"`, bin('tai64nlocal')]);
  assert.deepEqual(split, { code: 0, signal: null, stdout: '@ABCDEF0123 y\n', stderr: '' });
});

test('tai64n, tai64nlocal: unreadable input or unwritable output: exit 111 without a word, as the C tools', async () => {
  for (const prog of ['tai64n', 'tai64nlocal']) {
    for (const script of [`exec "$0" < /`, `echo a | "$0" > /dev/full`]) {
      const [ours, theirs] = await Promise.all([run('/bin/sh', ['-c', script, bin(prog)]), run('/bin/sh', ['-c', script, cbin(prog)])]);
      assert.deepEqual(theirs, { code: 111, signal: null, stdout: '', stderr: '' }, `C ${prog}: ${script}`);
      assert.deepEqual(ours, theirs, `${prog}: ${script}`);
    }
  }
});
