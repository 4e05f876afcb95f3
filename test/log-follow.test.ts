// The two followers of a multilog directory (svctl logs -f, svweb's live
// log) against a producer that stops in the middle of a line (even in the
// middle of its TAI64N label), then bursts, then a rotation: every line once,
// whole, in order, in local time exactly as the C tai64nlocal shows it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { cbin, Procs, run, waitFor } from './helpers';
import { format, fromDate } from '../lib/tai64';
import { follow, localTimes } from '../lib/svctl/log-view';
import { LogFollower } from '../lib/web/log';

const procs = new Procs();
after(() => procs.cleanup());

function stamped(from: number, to: number, tag: string): string {
  let s = '';
  for (let i = from; i < to; i++) s += `${format(fromDate(new Date(Date.UTC(2026, 11, 5, 4, 0, i % 60, i % 1000))))} ${tag} ${i}\n`;
  return s;
}

/** The steps of the producer: each a piece appended to current, or a rotation. */
function pieces(): Array<string | 'rotate'> {
  const first = stamped(0, 3, 'first');
  const half = stamped(3, 4, 'split');
  return [
    first,
    half.slice(0, 10), // inside the label
    half.slice(10, 30), // after the label, inside the text
    half.slice(30) + stamped(4, 504, 'burst'),
    'rotate',
    stamped(504, 510, 'after'),
  ];
}

async function cLocal(text: string): Promise<string> {
  const r = await run(cbin('tai64nlocal'), [], { input: text });
  assert.equal(r.code, 0);
  return r.stdout;
}

/** Plays the producer into dir, waiting after each step until seen() has grown to cover it. */
async function produce(dir: string, seen: () => string, expectAfter: (written: string) => Promise<string>): Promise<string> {
  let written = '';
  let rotations = 0;
  for (const p of pieces()) {
    if (p === 'rotate') {
      fs.renameSync(path.join(dir, 'current'), path.join(dir, `@40000000690000000000000${rotations++}.s`));
      fs.writeFileSync(path.join(dir, 'current'), '');
      continue;
    }
    fs.appendFileSync(path.join(dir, 'current'), p);
    written += p;
    // what a reader can show once this piece is there: the whole lines so far
    const want = await expectAfter(written.slice(0, written.lastIndexOf('\n') + 1));
    await waitFor(() => seen() === want, `the follower at ${JSON.stringify(p.slice(-20))}`);
  }
  return written;
}

test('svctl logs -f: a line paused in its label and in its text, a burst, a rotation: all of it once, in local time as tai64nlocal shows it', async () => {
  const dir = procs.tmpdir('log-follow-svctl-');
  fs.writeFileSync(path.join(dir, 'current'), '');
  const local = localTimes();
  let shown = '';
  const stop = follow(dir, undefined, (block) => {
    shown += local(block).toString('latin1');
  }, (e) => assert.fail(String(e)));
  try {
    // the svctl follower passes bytes on as they come, as tail -f: a partial line shows as far as written
    const written = await produce(dir, () => shown.slice(0, shown.lastIndexOf('\n') + 1), cLocal);
    assert.equal(shown, await cLocal(written));
  } finally {
    stop();
  }
});

test('svweb\'s log follower: a line paused in its label and in its text, a burst, a rotation: whole lines only, each once, in local time as tai64nlocal shows it', async () => {
  const dir = procs.tmpdir('log-follow-svweb-');
  fs.writeFileSync(path.join(dir, 'current'), '');
  const lines: string[] = [];
  const follower = new LogFollower(path.join(dir, 'current'), 0, (got) => lines.push(...got));
  try {
    const shown = (): string => lines.map((l) => `${l}\n`).join('');
    const written = await produce(dir, shown, cLocal);
    assert.equal(shown(), await cLocal(written));
    assert.ok(lines.every((l) => !l.includes('\n')), 'no line cut or joined');
  } finally {
    follower.close();
  }
});
