import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cbin, run } from './helpers';
import { format, fromDate, now, pack, parse, readTai64, unpack, writeTai64 } from '../lib/tai64';

test('known labels: unix 0 is 2^62 + 10', () => {
  assert.equal(format({ sec: 0, nano: 0 }), '@400000000000000a00000000');
  assert.equal(format({ sec: 1, nano: 1 }), '@400000000000000b00000001');
  assert.equal(format({ sec: -10, nano: 0 }), '@400000000000000000000000');
  assert.equal(format({ sec: -11, nano: 999999999 }), '@3fffffffffffffff3b9ac9ff');
  assert.equal(format({ sec: 0x100000000 - 10, nano: 0 }), '@400000010000000000000000');
  assert.equal(format({ sec: 1700000000, nano: 123456789 }), '@400000006553f10a075bcd15');
  assert.deepEqual(parse('@400000000000000a00000000'), { sec: 0, nano: 0 });
});

test('round trips: pack/unpack, format/parse, writeTai64/readTai64', () => {
  const secs = [0, 1, -1, -10, -11, 59, 1e9, 1700000000, 2 ** 32 - 11, 2 ** 32 - 10, 2 ** 32, 2 ** 40 + 12345, -(2 ** 33)];
  for (const sec of secs) {
    for (const nano of [0, 1, 500, 999999999]) {
      const t = { sec, nano };
      assert.deepEqual(unpack(pack(t)), t);
      assert.deepEqual(parse(format(t)), t);
      const b = Buffer.alloc(10);
      writeTai64(b, 2, sec);
      assert.equal(readTai64(b, 2), sec);
      assert.deepEqual(unpack(Buffer.concat([Buffer.from('xx'), pack(t)]), 2), t);
    }
  }
});

test('parse: `@` optional, any case of hex, anything else rejected', () => {
  assert.deepEqual(parse('400000000000000A00000001'), { sec: 0, nano: 1 });
  for (const bad of ['', '@', '@400000000000000a0000000', '@400000000000000a000000000', '@400000000000000g00000000', '@@400000000000000a00000000',
    ' @400000000000000a00000000']) {
    assert.equal(parse(bad), undefined, bad);
  }
});

test('now() and fromDate()', () => {
  const before = Date.now();
  const t = now();
  const after = Date.now();
  assert.ok(t.sec * 1000 + t.nano / 1e6 >= before - 1 && t.sec * 1000 + t.nano / 1e6 <= after + 1);
  assert.equal(t.nano % 1000, 500, 'microseconds, as daemontools takes them');
  assert.ok(t.nano >= 0 && t.nano < 1e9);
  assert.deepEqual(fromDate(new Date(Date.UTC(2024, 1, 29, 12, 0, 1, 250))), { sec: Date.UTC(2024, 1, 29, 12, 0, 1) / 1000, nano: 250000000 });
  assert.deepEqual(fromDate(new Date(-1500)), { sec: -2, nano: 500000000 });
});

function utc(sec: number, nano: number): string {
  return new Date(sec * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '') + '.' + String(nano).padStart(9, '0');
}

test('our labels read by the C tai64nlocal (TZ=UTC) give the same time', async () => {
  const times = [{ sec: 0, nano: 0 }, { sec: 1700000000, nano: 123456789 }, { sec: 951825600, nano: 999999999 }, { sec: 4102444799, nano: 1 }];
  const input = times.map((t) => `${format(t)} line\n`).join('');
  const r = await run(cbin('tai64nlocal'), [], { input, env: { ...process.env, TZ: 'UTC' } });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, times.map((t) => `${utc(t.sec, t.nano)} line\n`).join(''));
});

test('labels written by the C tai64n parse to the current time', async () => {
  const before = Math.floor(Date.now() / 1000);
  const r = await run(cbin('tai64n'), [], { input: 'a\nb\n' });
  const after = Math.ceil(Date.now() / 1000);
  const lines = r.stdout.split('\n');
  assert.equal(lines.length, 3);
  for (const [i, text] of [[0, 'a'], [1, 'b']] as const) {
    const m = /^(@[0-9a-f]{24}) (.*)$/.exec(lines[i]);
    assert.ok(m, lines[i]);
    assert.equal(m[2], text);
    const t = parse(m[1])!;
    assert.ok(t.sec >= before && t.sec <= after, `${m[1]} within [${before}, ${after}]`);
    assert.equal(format(t), m[1]);
  }
});
