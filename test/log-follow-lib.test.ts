// lib/multilog/follow.ts and lib/multilog/last-lines.ts on their own: a
// producer that stops in the middle of a line, bursts, rotates `current`
// (renamed to `@LABEL.s`, a new one started) several times, and a `current`
// that appears only after the following began. Both ways of handing the log
// on (blocks as read, whole lines only): every line once, whole, in order.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, waitFor } from './helpers';
import { follow, openCurrent, type FollowOptions, type Position } from '../lib/multilog/follow';
import { lastLinesOf, readEnd } from '../lib/multilog/last-lines';

const procs = new Procs();
after(() => procs.cleanup());

// the poll finds a log directory made after the following began (no watch could be set on it)
const RAW: FollowOptions = { pollMs: 500, keepAlive: true, wholeLines: false };
const LINES: FollowOptions = { pollMs: 500, keepAlive: false, wholeLines: true };

/** A follower of logDir whose blocks are kept, with what it was handed so far. */
function following(logDir: string, position: Position | undefined, options: FollowOptions): { blocks: Buffer[]; seen: () => string; errors: unknown[]; stop: () => void } {
  const blocks: Buffer[] = [];
  const errors: unknown[] = [];
  const stop = follow(logDir, position, (b) => blocks.push(b), (e) => errors.push(e), options);
  return { blocks, seen: () => Buffer.concat(blocks).toString(), errors, stop };
}

/** A multilog directory written to as multilog does, step by step. */
class Producer {
  written = '';
  private rotations = 0;

  constructor(private readonly logDir: string) {}

  append(text: string): void {
    fs.appendFileSync(path.join(this.logDir, 'current'), text);
    this.written += text;
  }

  /** multilog's rotation: current renamed to an old file, a new empty current. */
  rotate(): void {
    const label = `@400000006900000000000${String(this.rotations++).padStart(3, '0')}.s`;
    fs.renameSync(path.join(this.logDir, 'current'), path.join(this.logDir, label));
    fs.writeFileSync(path.join(this.logDir, 'current'), '');
  }

  /** What a follower can have handed on by now: all of it, or its whole lines. */
  expected(options: FollowOptions): string {
    return options.wholeLines ? this.written.slice(0, this.written.lastIndexOf('\n') + 1) : this.written;
  }
}

function burst(tag: string, count: number): string {
  let s = '';
  for (let i = 0; i < count; i++) s += `${tag} line ${i} ${'x'.repeat(i % 40)}\n`;
  return s;
}

/** Every line once, in order, as written; in whole-lines mode every block made of whole lines. */
function assertAllOnce(blocks: Buffer[], written: string, options: FollowOptions): void {
  const got = Buffer.concat(blocks).toString();
  assert.deepEqual(got.split('\n'), written.split('\n'));
  if (options.wholeLines) {
    for (const b of blocks) assert.equal(b[b.length - 1], 0x0a, 'a block of whole lines');
  }
}

for (const [mode, options] of [['blocks as read', RAW], ['whole lines', LINES]] as const) {
  test(`follow (${mode}): a line in pieces, a burst, rotations with lines just before them: every line once, whole, in order`, async () => {
    const dir = procs.tmpdir('dtn-follow-lib-');
    fs.writeFileSync(path.join(dir, 'current'), 'there before\n');
    const log = new Producer(dir);
    const f = following(dir, openCurrent(dir, 'there before\n'.length), options);
    const caughtUp = (what: string): Promise<boolean> => waitFor(() => f.seen() === log.expected(options), what);
    try {
      log.append('a line stopped in its mid');
      await caughtUp('the first piece');
      log.append('dle and finished\n');
      await caughtUp('the rest of the line');
      log.append(burst('burst', 5000));
      await caughtUp('the burst');
      for (let r = 0; r < 4; r++) {
        // written just before the rename: read from the old file
        log.append(burst(`before rotation ${r}`, 3));
        log.rotate();
        log.append(`after rotation ${r}, in pie`);
        await caughtUp(`the first piece after rotation ${r}`);
        log.append(`ces\n${burst(`after rotation ${r}`, 200)}`);
        await caughtUp(`the lines after rotation ${r}`);
      }
      assertAllOnce(f.blocks, log.written, options);
      assert.deepEqual(f.errors, []);
    } finally {
      f.stop();
    }
  });

  test(`follow (${mode}): a log directory and \`current\` that appear only after the following began, then rotate`, async () => {
    const dir = path.join(procs.tmpdir('dtn-follow-lib-'), 'main');
    const f = following(dir, undefined, options);
    const log = new Producer(dir);
    const caughtUp = (what: string): Promise<boolean> => waitFor(() => f.seen() === log.expected(options), what);
    try {
      fs.mkdirSync(dir);
      log.append('the first line, in');
      await caughtUp('the first piece of the first current');
      log.append(' two pieces\n');
      await caughtUp('the first line');
      log.rotate();
      log.append(burst('after', 1000));
      await caughtUp('the new current');
      assertAllOnce(f.blocks, log.written, options);
      assert.deepEqual(f.errors, []);
    } finally {
      f.stop();
    }
  });
}

test('follow: a line left unfinished by a rotation shows as written in blocks, and not at all in whole lines', async () => {
  const dir = procs.tmpdir('dtn-follow-lib-');
  fs.writeFileSync(path.join(dir, 'current'), '');
  const raw = following(dir, undefined, RAW);
  const lines = following(dir, undefined, LINES);
  try {
    fs.appendFileSync(path.join(dir, 'current'), 'whole\nunfinished');
    await waitFor(() => raw.seen() === 'whole\nunfinished', 'the unfinished line read');
    await waitFor(() => lines.seen() === 'whole\n', 'the whole line');
    const log = new Producer(dir);
    log.rotate();
    fs.appendFileSync(path.join(dir, 'current'), 'next\n');
    await waitFor(() => raw.seen() === 'whole\nunfinishednext\n', 'the new current in blocks');
    await waitFor(() => lines.seen() === 'whole\nnext\n', 'the new current in whole lines');
  } finally {
    raw.stop();
    lines.stop();
  }
});

test('follow: an error reading the log stops the following and goes to failed, in either mode', async () => {
  for (const options of [RAW, LINES]) {
    const dir = procs.tmpdir('dtn-follow-lib-');
    // open(2) of a directory succeeds, read(2) fails with EISDIR
    fs.mkdirSync(path.join(dir, 'current'));
    const f = following(dir, undefined, options);
    await waitFor(() => f.errors.length > 0, 'the error');
    assert.equal((f.errors[0] as NodeJS.ErrnoException).code, 'EISDIR');
    assert.deepEqual(f.blocks, []);
    f.stop();
  }
});

test('lastLinesOf: the last n lines, a last line without its newline counting as one', () => {
  const of = (text: string, n: number): [string, number] => {
    const r = lastLinesOf(Buffer.from(text), n);
    return [r.lines.toString(), r.count];
  };
  assert.deepEqual(of('a\nb\nc\n', 2), ['b\nc\n', 2]);
  assert.deepEqual(of('a\nb\nc', 2), ['b\nc', 2]);
  assert.deepEqual(of('a\nb\n', 5), ['a\nb\n', 2]);
  assert.deepEqual(of('a\n\n\n', 2), ['\n\n', 2]);
  assert.deepEqual(of('a\nb\n', 0), ['', 0]);
  assert.deepEqual(of('', 3), ['', 0]);
});

test('readEnd: reads back only as far as n lines need, or maxBytes, across chunks', () => {
  const dir = procs.tmpdir('dtn-follow-lib-');
  const file = path.join(dir, 'current');
  const text = burst('tail', 20000); // several 64 KiB chunks
  fs.writeFileSync(file, text);
  const fd = fs.openSync(file, 'r');
  try {
    const three = readEnd(fd, 3);
    assert.equal(three.size, text.length);
    assert.equal(three.from + three.data.length, text.length);
    assert.ok(three.from > 0, 'not the whole file for three lines');
    assert.equal(lastLinesOf(three.data, 3).lines.toString(), text.split('\n').slice(-4).join('\n'));
    const all = readEnd(fd, 1e9);
    assert.equal(all.from, 0);
    assert.equal(all.data.toString(), text);
    const limited = readEnd(fd, 1e9, 100000);
    assert.ok(limited.from > 0 && limited.data.length >= 100000 && limited.data.length < 100000 + 65536, 'stops at maxBytes');
    assert.equal(limited.data.toString(), text.slice(limited.from));
  } finally {
    fs.closeSync(fd);
  }
});
