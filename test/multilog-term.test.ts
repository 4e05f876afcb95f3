// multilog and SIGTERM, whatever the timing of its input: a producer that
// writes bursts of numbered lines and pauses in the middle of a line (at
// several offsets), TERM at random moments (during a wait mid-line, a write,
// a rotation, a processor run), a slow processor, and a multilog run by
// supervise under svscan stopped with `svc -dx`. Each time multilog exits 0,
// `current` is finished (mode 0744, ends with a newline), and what it logged
// followed by what it left in the pipe is exactly what the producer wrote:
// nothing read is lost, no line is split or doubled.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { bin, Procs, readAvailable, waitFor, endOf, exitOf } from './helpers';
import { makeService } from './fixtures/service';
import { startSvscan } from './fixtures/tree';

const procs = new Procs();
after(() => procs.cleanup());

const LINE_TAIL = ' abcdefghijklmnopqrstuvwxyz0123456';
const LINE_LEN = 'line '.length + 9 + LINE_TAIL.length + 1;

function expectedLine(i: number): string {
  return `line ${String(i).padStart(9, '0')}${LINE_TAIL}\n`;
}

/**
 * Lines `line 000000001 ...` on and on, in bursts: every `every`th line is
 * written up to offset `cut`, flushed, and finished after `pauseMs`.
 */
function producer(cut: number, every: number, pauseMs: number, count = 0): string {
  const limit = count > 0 ? `i <= ${count}` : '';
  return `awk -v cut=${cut} -v every=${every} 'BEGIN { for (i = 1; ${limit}; i++) {` +
    ` l = sprintf("line %09d${LINE_TAIL}", i);` +
    ' if (i % every) { print l; continue };' +
    ' printf "%s", substr(l, 1, cut); fflush();' +
    ` system("sleep ${pauseMs / 1000}"); print substr(l, cut + 1) } }'`;
}

const STAMP = /^@[0-9a-f]{24} /;

/** The directory's lines, oldest file first, with `t` labels checked and removed. */
function logged(dir: string, stamped: boolean): string {
  const names = fs.readdirSync(dir).filter((n) => n.startsWith('@')).sort();
  names.push('current');
  const text = names.map((n) => fs.readFileSync(path.join(dir, n), 'latin1')).join('');
  if (!stamped) return text;
  return text.split('\n').map((l, i, all) => {
    if (i === all.length - 1 && l === '') return l;
    assert.match(l, STAMP, `line ${i + 1} of the log has its label`);
    return l.replace(STAMP, '');
  }).join('\n');
}

/** `text` is the producer's lines 1, 2, ... (the last one possibly cut short); returns how many whole lines. */
function assertProducerPrefix(text: string, what: string): number {
  let n = 0;
  let pos = 0;
  while (pos < text.length) {
    const want = expectedLine(n + 1);
    const got = text.slice(pos, pos + want.length);
    if (got.length < want.length) {
      assert.ok(want.startsWith(got), `${what}: the last piece is the start of line ${n + 1}: ${JSON.stringify(got)}`);
      return n;
    }
    if (got !== want) assert.fail(`${what}: line ${n + 1} is ${JSON.stringify(got)}, not ${JSON.stringify(want)}`);
    n++;
    pos += want.length;
  }
  return n;
}

function exitWithin(child: ChildProcess, ms: number): Promise<number | null | 'still running'> {
  return endOf(child, ms).then((e) => (e ? e.code : 'still running'));
}

function assertFinished(dir: string): void {
  const current = path.join(dir, 'current');
  assert.equal(fs.statSync(current).mode & 0o777, 0o744, 'current is marked finished');
  const text = fs.readFileSync(current, 'latin1');
  if (text.length > 0) assert.equal(text[text.length - 1], '\n', 'current ends with a whole line');
  for (const f of ['previous', 'processed', 'newstate']) assert.ok(!fs.existsSync(path.join(dir, f)), `no ${f} left behind`);
}

interface Round {
  script: string[];
  cut: number;
  every: number;
  /** when SIGTERM is sent after the start */
  termAfterMs: number;
  /** lines written before multilog starts (0: a producer that goes on) */
  prewritten?: number;
  pauseMs?: number;
}

/** One round: producer into a FIFO, multilog reading it, SIGTERM, then the checks. */
async function round(r: Round): Promise<{ logged: number; left: number; exitMs: number }> {
  const base = procs.tmpdir('ml-term-');
  const fifo = path.join(base, 'in');
  const dir = path.join(base, 'd');
  execFileSync('mkfifo', [fifo]);
  // the test's own end: the pipe outlives the producer, and what is left in it is read here
  const keep = fs.openSync(fifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
  try {
    const produce = producer(r.cut, r.every, r.pauseMs ?? 20, r.prewritten ?? 0);
    const prod = procs.start('sh', ['-c', `exec ${produce} > ${fifo}`], { detached: true });
    if (r.prewritten) assert.equal(await exitWithin(prod, 10000), 0, 'the producer wrote its lines');
    const input = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const ml = procs.start(bin('multilog'), [...r.script, dir], { stdio: [input, 'ignore', 'pipe'], cwd: base });
    fs.closeSync(input);
    let stderr = '';
    ml.stderr!.on('data', (b: Buffer) => (stderr += b.toString('latin1')));
    await waitFor(() => fs.existsSync(path.join(dir, 'current')), 'multilog to start');
    await new Promise((res) => setTimeout(res, r.termAfterMs));
    const sent = Date.now();
    ml.kill('SIGTERM');
    const code = await exitWithin(ml, 8000);
    const exitMs = Date.now() - sent;
    assert.equal(code, 0, `multilog ${r.script.join(' ')} exits 0 after SIGTERM (cut ${r.cut}, TERM at ${r.termAfterMs} ms)`);
    try {
      process.kill(-prod.pid!, 'SIGKILL');
    } catch {
      // it had finished
    }
    await exitOf(prod);
    assert.equal(stderr, '', 'no warning');
    assertFinished(dir);
    const log = logged(dir, r.script[0] === 't');
    // everything left in the FIFO, read through the test's own descriptor
    const rest = readAvailable(keep).toString('latin1');
    const whole = assertProducerPrefix(log, 'the log');
    assert.equal(log.length, whole * LINE_LEN, 'the log holds whole lines only');
    assertProducerPrefix(log + rest, 'the log followed by what is left in the pipe');
    return { logged: whole, left: rest.length, exitMs };
  } finally {
    fs.closeSync(keep);
  }
}

function randomMs(min: number, max: number): number {
  return Math.floor(min + Math.random() * (max - min));
}

test('multilog: SIGTERM at random moments of an input that pauses mid-line: exit 0, nothing lost, no line split (64 rounds)', async () => {
  const scripts = [['d'], ['t', 'd'], ['t', 's4096', 'n100000', 'd'], ['s4096', 'n100000', '!cat', 'd']];
  // offsets inside a 49-byte line: after its first byte, in the middle, just before its newline
  const cuts = [1, 17, 33, 48];
  let rounds = 0;
  for (const script of scripts) {
    for (const cut of cuts) {
      for (let i = 0; i < 4; i++) {
        const every = i % 2 === 0 ? 25 : 400;
        await round({ script, cut, every, termAfterMs: randomMs(20, 350) });
        rounds++;
      }
    }
  }
  assert.equal(rounds, 64);
});

test('multilog: SIGTERM during a slow processor: it finishes that run only, logs what it read, leaves the rest in the pipe', async () => {
  for (let i = 0; i < 4; i++) {
    const res = await round({
      script: ['s4096', 'n1000', '!sleep 0.3; cat', 'd'],
      cut: 20,
      every: 1000000,
      prewritten: 1000,
      termAfterMs: randomMs(150, 1200),
    });
    assert.ok(res.left > 0, 'lines are left in the pipe for the next reader');
    // one processor run (0.3 s) at most, then the exit: far from the one run per 4 KB of the old behaviour
    assert.ok(res.exitMs < 5000, `exited ${res.exitMs} ms after SIGTERM`);
  }
});

test('multilog under supervise under svscan: svc -dx on the log service stops it mid-stream; restarted, it goes on with the next line', async () => {
  const base = procs.tmpdir('ml-term-svscan-');
  const scan = path.join(base, 'service');
  fs.mkdirSync(scan);
  const svc = makeService(path.join(scan, 'talker'), `#!/bin/sh\nexec ${producer(20, 50, 20)}\n`, { log: '#!/bin/sh\nexec multilog t n1000 ./main\n' });
  const logDir = path.join(svc, 'log');
  const main = path.join(logDir, 'main');
  const tree = startSvscan(procs, scan, base);
  const count = (): number => fs.existsSync(path.join(main, 'current')) ? fs.readFileSync(path.join(main, 'current'), 'latin1').split('\n').length - 1 : 0;
  await waitFor(() => count() >= 300, 'lines logged');
  const svok = (d: string): boolean => {
    try {
      execFileSync(bin('svok'), [d]);
      return true;
    } catch {
      return false;
    }
  };
  // svscan stays out of the way (it would restart the log's supervise at its next scan)
  process.kill(tree.pid, 'SIGSTOP');
  try {
    execFileSync(bin('svc'), ['-dx', logDir]);
    await waitFor(() => !svok(logDir), 'the log service to stop and its supervise to exit', 8000);
    assertFinished(main);
    assertProducerPrefix(logged(main, true), 'the log when multilog stopped');
  } finally {
    process.kill(tree.pid, 'SIGCONT');
  }
  const before = count();
  await waitFor(() => svok(logDir), 'svscan to start the log service again', 15000);
  await waitFor(() => count() >= before + 300, 'more lines logged');
  process.kill(tree.pid, 'SIGTERM');
  assert.equal(await exitWithin(tree.child, 20000), 0, 'svscan stops the tree');
  assertFinished(main);
  // the producer was stopped too, maybe in the middle of a line: that piece ends the log with a newline
  const log = logged(main, true);
  assert.ok(log.endsWith('\n'));
  const whole = assertProducerPrefix(log.slice(0, -1), 'the whole log, none doubled or lost across the stop');
  assert.ok(whole >= before + 300, `${whole} lines, more than before the stop (${before})`);
});

test('the producer of these tests writes what assertProducerPrefix expects', async () => {
  const out = execFileSync('sh', ['-c', producer(5, 3, 1, 7)], { encoding: 'latin1' });
  assert.equal(assertProducerPrefix(out, 'producer'), 7);
  assert.throws(() => assertProducerPrefix(expectedLine(1) + expectedLine(3), 'a gap'));
});
