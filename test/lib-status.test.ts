import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Procs, cbin, run, waitFor } from './helpers';
import { PID_TRAP_RUN, makeService, rawStatus, waitDown, waitUp } from './fixtures/service';
import { startSupervise } from './fixtures/supervised';
import { STATUS_SIZE, Status, decodeStatus, encodeStatus } from '../lib/supervise/status';
import { format } from '../lib/tai64';

const procs = new Procs();
after(() => procs.cleanup());

test('encode: the 18-byte layout', () => {
  const b = encodeStatus({ when: { sec: 0, nano: 7 }, pid: 0x01020304, paused: true, want: 'down' });
  assert.equal(b.length, STATUS_SIZE);
  assert.equal(b.toString('hex'), '400000000000000a00000007' + '04030201' + '01' + '64');
  assert.equal(encodeStatus({ when: { sec: 0, nano: 0 }, pid: 0, paused: false, want: 'up' })[17], 0x75);
  assert.equal(encodeStatus({ when: { sec: 0, nano: 0 }, pid: 0, paused: false, want: 'once' })[17], 0);
  assert.equal(encodeStatus({ when: { sec: 0, nano: 0 }, pid: 4294967295, paused: false, want: 'once' }).readUInt32LE(12), 4294967295);
});

test('decode: short records are undefined, longer ones use the first 18 bytes, unknown want bytes are "once"', () => {
  const s: Status = { when: { sec: 1700000000, nano: 5 }, pid: 42, paused: false, want: 'up' };
  const b = encodeStatus(s);
  assert.equal(decodeStatus(b.subarray(0, 17)), undefined);
  assert.equal(decodeStatus(Buffer.alloc(0)), undefined);
  assert.deepEqual(decodeStatus(Buffer.concat([b, Buffer.from('more')])), s);
  const odd = Buffer.from(b);
  odd[16] = 2;
  odd[17] = 0x78;
  assert.deepEqual(decodeStatus(odd), { ...s, paused: true, want: 'once' });
});

test('records written by the C supervise decode to the right state and re-encode identically', async () => {
  const root = procs.tmpdir();
  const s = makeService(path.join(root, 's'), PID_TRAP_RUN);
  const svc = cbin('svc');
  const t0 = Math.floor(Date.now() / 1000);
  await startSupervise(procs, s, { prog: cbin('supervise') }).ready();

  const check = (expect: Omit<Status, 'when'>, what: string) => {
    const raw = rawStatus(s);
    assert.equal(raw.length, STATUS_SIZE, what);
    const st = decodeStatus(raw)!;
    assert.deepEqual({ ...st, when: undefined }, { ...expect, when: undefined }, what);
    assert.ok(st.when.sec >= t0 - 1 && st.when.sec <= Math.ceil(Date.now() / 1000), `${what}: time ${format(st.when)}`);
    assert.ok(st.when.nano >= 0 && st.when.nano < 1e9);
    assert.deepEqual(encodeStatus(st), raw, `${what}: re-encoded`);
  };

  const pid = await waitUp(s, { pidFile: true });
  check({ pid, paused: false, want: 'up' }, 'up');
  await run(svc, ['-p', s]);
  await waitFor(() => rawStatus(s)[16] === 1, 'paused');
  check({ pid, paused: true, want: 'up' }, 'paused');
  await run(svc, ['-c', s]);
  await waitFor(() => rawStatus(s)[16] === 0, 'continued');
  check({ pid, paused: false, want: 'up' }, 'continued');
  await run(svc, ['-d', s]);
  await waitDown(s);
  check({ pid: 0, paused: false, want: 'down' }, 'down');
  await run(svc, ['-o', s]);
  const pid2 = await waitUp(s, { not: pid, pidFile: true });
  check({ pid: pid2, paused: false, want: 'once' }, 'once');
  await run(svc, ['-dx', s]);
  await waitDown(s);
});
