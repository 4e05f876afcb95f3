// svweb's watch between file events: the look every 5 s reads again only the
// services whose files changed (lib/web/watch.ts), so what it hands out must
// still be current: the seconds in a state for a page that connects later,
// and a service directory swapped for another, whose files no watch follows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from './helpers';
import { fixtures, statusRecord } from './fixtures/fake';
import { StatusWatch, WatchEvent } from '../lib/web/watch';

const { procs, fake } = fixtures();

function viewOf(events: readonly WatchEvent[], name: string): { state: string; pid?: number | null } | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e.kind === 'service' && e.service.name === name) return e.service;
    if (e.kind === 'services') return e.services.find((v) => v.name === name);
  }
  return undefined;
}

test('a page that connects later gets the seconds in each state counted to now', async () => {
  const d = procs.tmpdir('dtn-web-watch-');
  const since = Math.floor(Date.now() / 1000) - 100;
  fake(path.join(d, 'a'), statusRecord(since, 4242, 0, 0x75));
  const watch = new StatusWatch(d);
  const stopFirst = watch.subscribe(() => undefined);
  try {
    // two seconds later, with nothing changed in between
    const t0 = Date.now();
    await waitFor(() => Date.now() - t0 >= 2000, 'two seconds to pass', 5000, 100);
    const events: WatchEvent[] = [];
    const stopSecond = watch.subscribe((e) => events.push(e));
    const now = Math.floor(Date.now() / 1000);
    stopSecond();
    assert.equal(events[0].kind, 'services');
    const a = events[0].kind === 'services' ? events[0].services[0] : undefined;
    assert.equal(a?.pid, 4242);
    assert.ok(a?.seconds !== undefined && Math.abs(a.seconds - (now - since)) <= 1, `seconds ${a?.seconds}, not ${now - since}`);
  } finally {
    stopFirst();
  }
});

test('a service directory swapped for another is read again, and then followed by the look every 5 s', async () => {
  const d = procs.tmpdir('dtn-web-watch-');
  const scan = path.join(d, 'service');
  fs.mkdirSync(scan);
  const now = Math.floor(Date.now() / 1000);
  fake(path.join(d, 'one'), statusRecord(now, 4242, 0, 0x75));
  const two = fake(path.join(d, 'two'), statusRecord(now, 0, 0, 0x64));
  fs.symlinkSync(path.join(d, 'one'), path.join(scan, 'a'));
  const events: WatchEvent[] = [];
  const watch = new StatusWatch(scan);
  const stop = watch.subscribe((e) => events.push(e));
  try {
    assert.equal(viewOf(events, 'a')?.pid, 4242);
    // the link replaced at once by one to the other directory
    fs.symlinkSync(path.join(d, 'two'), path.join(d, 'a.new'));
    fs.renameSync(path.join(d, 'a.new'), path.join(scan, 'a'));
    await waitFor(() => viewOf(events, 'a')?.state === 'down', 'a down (the other directory)');
    // the watches still follow the first directory: only the look sees this
    two.setStatus(statusRecord(now + 1, 77, 0, 0x75));
    await waitFor(() => viewOf(events, 'a')?.pid === 77, 'a up as pid 77 (at the next look)', 12000, 50);
    assert.equal(viewOf(events, 'a')?.state, 'up');
  } finally {
    stop();
  }
});
