// multilog against the C multilog: the same input (from a regular file, so
// that the C tool's reads are deterministic) through both, for a set of
// scripts; directories, modes, contents (timestamps masked), `e` output and
// status files must agree. Also the pattern language, the lock, and odd input.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { bin, cbin, Procs, run, waitFor } from './helpers';
import { compareWithC, mask, Outcome } from './multilog-util';

const procs = new Procs();
after(() => procs.cleanup());

/** The C multilog and ours on the same input (a regular file) in fresh directories: same exit code, stderr, files. */
const compare = (args: readonly string[], input: Buffer): Promise<Outcome> => compareWithC(procs, { args, input });

/** Deterministic input: lines of many lengths (around the 200, 512, 1000 and 2000 limits), binary bytes, NULs. */
function mixedInput(seed: number, lines: number, finalNewline: boolean): Buffer {
  let x = seed;
  const rand = (n: number): number => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
  const lengths = [0, 1, 5, 37, 99, 100, 199, 200, 201, 262, 511, 512, 513, 974, 975, 999, 1000, 1001, 1500, 2047, 3000, 5000, 20000];
  const parts: Buffer[] = [];
  for (let i = 0; i < lines; i++) {
    const len = lengths[rand(lengths.length)];
    const b = Buffer.alloc(len, 0x61 + (i % 26));
    const kind = rand(4);
    for (let j = 0; j < Math.min(len, 40); j++) {
      if (kind === 0) b[j] = rand(256);
      else if (kind === 1) b[j] = 0x20 + rand(90);
    }
    for (let j = 0; j < b.length; j++) if (b[j] === 0x0a) b[j] = 0;
    b.write(`${i} x ERROR y`.slice(0, len), 0, 'latin1');
    parts.push(b, Buffer.from('\n'));
  }
  if (!finalNewline) parts.push(Buffer.from('partial last line'));
  return Buffer.concat(parts);
}

function regularLines(n: number, len: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`${String(i).padStart(6, '0')} ${'z'.repeat(len - 8)}\n`);
  return Buffer.from(parts.join(''));
}

test('multilog: plain directory, timestamps, missing final newline', async () => {
  const input = mixedInput(1, 300, false);
  await compare(['./d'], input);
  await compare(['t', './d'], input);
});

test('multilog: s/n rotation over many files, size and number clamped', async () => {
  await compare(['s4096', 'n5', './d'], mixedInput(2, 600, true));
  await compare(['s4096', 'n100', './d'], regularLines(3000, 100));
  await compare(['s5000', 'n3', './d'], regularLines(2000, 37));
  await compare(['s1', 'n1', './d'], regularLines(1000, 262));
  await compare(['s99999999x', 'n0', './d'], regularLines(500, 100));
  await compare(['t', 's4096', 'n200', './d'], mixedInput(3, 400, true));
});

test('multilog: patterns, e, =status, several directories', async () => {
  const input = mixedInput(4, 400, false);
  await compare(['-*', '+*ERROR*', './d', '+*', '-*a', './e'], input);
  await compare(['e', '-*', '+1*', 'e'], input);
  await compare(['=status', '-*', '+2*', '=status2', 's4096', './d'], input);
  await compare(['t', 'e', 's5000', 'n3', './d', '-*', '+*y*', '=st', 's4096', './e'], input);
  await compare(['x', 'unknown', '', 't', './d'], regularLines(10, 20));
});

test('multilog: processor output, state and modes', async () => {
  const input = mixedInput(5, 300, true);
  await compare(['s4096', 'n4', '!tr a-z A-Z; cat <&4; echo state >&5', './d'], input);
  await compare(['t', 's5000', '!wc -c; pwd | sed "s|.*/||"; readlink /proc/$$/fd/0 | sed "s|.*/||"; ls /proc/$$/fd', './d'], input);
  await compare(['s4096', '!echo "$0"; tr "\\0" " " < /proc/$$/cmdline', './d'], input);
});

test('multilog: signals its caller ignored stay ignored in the processor, as with the C multilog', async () => {
  const script = `trap '' INT QUIT; seq 1 1500 | "$0" s4096 '!grep ^SigIgn: /proc/self/status' ./d; cat d/@* | sort -u`;
  const [ours, theirs] = await Promise.all([bin('multilog'), cbin('multilog')].map((m) => run('/bin/sh', ['-c', script, m], { cwd: procs.tmpdir('ml-ign-') })));
  assert.equal(theirs.stdout, 'SigIgn:\t0000000000000006\n', theirs.stderr);
  assert.deepEqual(ours, theirs);
});

test('multilog: a processor that fails is reported, retried after a pause, then its output kept', async () => {
  const input = regularLines(80, 100);
  await compare(['s4096', '!if [ -e ../failed ]; then tr a-z A-Z; echo ok >&5; else touch ../failed; exit 1; fi', './d'], input);
});

test('multilog: a processor killed by a signal: the C two warnings (crashed, with its stale errno; failed), two pauses, a retry', async () => {
  const input = regularLines(80, 100);
  await compare(['s4096', '!if [ -e ../crashed ]; then tr a-z A-Z; else touch ../crashed; kill -9 $$; fi', './d'], input);
});

test('multilog: a 1 MB line, NUL and binary bytes', async () => {
  const big = Buffer.alloc(1 << 20, 0x62);
  big[10] = 0;
  big[500000] = 0xff;
  const input = Buffer.concat([Buffer.from('before\n'), big, Buffer.from('\nafter\n\0\0\n'), big.subarray(0, 3000)]);
  await compare(['./d'], input);
  await compare(['e', 's16777215', './d'], input);
  await compare(['t', '=st', 's4096', 'n30', './d'], input);
});

test('multilog: pattern table selects the same lines as the C multilog', async () => {
  const lines = [
    '', 'a', 'ab', 'abc', 'abcabc', 'fatal: x', 'warning: y', 'x fatal: y', '*', 'a*b', 'aXb', 'a b c',
    '@400000006b0202e4337fc8d4 fatal: disk', 'abcb', 'bbb', 'ab*', 'aa', 'ba',
  ];
  const patterns = ['', '*', 'a', 'a*', '*a', '*b', 'a*b', 'a*c', '*fatal: *', 'fatal: *', '* *', '**', 'a**', '*a*',
    '@*', '@* fatal: *', 'ab*b', '*b*', 'a*b*c', 'b*', '\\*', 'a\\*b'];
  const input = Buffer.from(lines.join('\n') + '\n');
  for (const p of patterns) {
    await compare(['-*', `+${p}`, 'e'], input);
    await compare([`-${p}`, 'e'], input);
  }
});

test('multilog: a second multilog on a locked directory fails like the C one', async () => {
  const dir = procs.tmpdir('ml-lock-');
  for (const holder of [bin('multilog'), cbin('multilog')]) {
    const d = path.join(dir, path.basename(holder) + (holder.startsWith('/usr') ? 'c' : 'o'));
    const child = procs.start(holder, [d], { stdio: ['pipe', 'ignore', 'ignore'] });
    await waitFor(() => fs.existsSync(path.join(d, 'current')), 'the first multilog to open its directory');
    for (const second of [bin('multilog'), cbin('multilog')]) {
      const out = await new Promise<{ code: number | null; err: string }>((resolve) => {
        const c = spawn(second, [d], { stdio: ['pipe', 'ignore', 'pipe'] });
        let err = '';
        c.stderr!.on('data', (b: Buffer) => (err += b.toString()));
        c.on('close', (code) => resolve({ code, err }));
        c.stdin!.on('error', () => undefined);
        c.stdin!.end('x\n');
      });
      assert.equal(out.code, 111, `${second} on a directory locked by ${holder}`);
      assert.equal(out.err, `multilog: fatal: unable to lock directory ${d}: temporary failure\n`);
    }
    child.stdin!.end();
    await waitFor(() => child.exitCode !== null, 'the first multilog to exit');
    assert.equal(child.exitCode, 0);
  }
});

test('multilog: unusable directory and status file: the C messages and exit codes', async () => {
  await compare(['./d', '/nonexistent/x'], Buffer.from('a\n'));
  await compare(['./d', '=/nonexistent/f'], Buffer.from('a\n'));
  await compare([], Buffer.from('a\nb\n'));
});

test('multilog: a dangling symlink as current or previous counts as absent, as for the C multilog', async () => {
  const listing = async (prog: string): Promise<string[]> => {
    const dir = procs.tmpdir('ml-link-');
    fs.mkdirSync(path.join(dir, 'm'));
    fs.symlinkSync('nowhere', path.join(dir, 'm', 'current'));
    fs.symlinkSync('gone', path.join(dir, 'm', 'previous'));
    const r = await run(prog, ['./m'], { cwd: dir, input: 'a\n' });
    assert.equal(r.code, 0, r.stderr);
    return fs.readdirSync(path.join(dir, 'm')).sort().map((name) => {
      const st = fs.lstatSync(path.join(dir, 'm', name));
      const what = st.isSymbolicLink() ? `-> ${fs.readlinkSync(path.join(dir, 'm', name))}` : fs.readFileSync(path.join(dir, 'm', name), 'latin1');
      return `${mask(name)} ${(st.mode & 0o777).toString(8)} ${what}`;
    });
  };
  const [ours, theirs] = await Promise.all([listing(bin('multilog')), listing(cbin('multilog'))]);
  assert.ok(theirs.includes('current 777 -> nowhere'), theirs.join('\n'));
  assert.deepEqual(ours, theirs);
});
