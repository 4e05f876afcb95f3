// svstat's lifecycle facts (beyond 0.76), from our supervise's info: the
// line ends as s6-svstat's does (`, ready N seconds`), and tells of back-off
// (`, restarting in N seconds`, `, gave up after N failed starts`); the
// JSON form has ready, readySince, finishing, failedInRow, restartAt,
// gaveUp. Without those facts the line is the C svstat's.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, bin, cbin, run, waitFor } from './helpers';
import { makeService, waitUp } from './fixtures/service';
import { startSupervise } from './fixtures/supervised';
import { lifecycleService, release, s6, startS6 } from './wait-util';
import { StatusReport, formatJson, formatLine } from '../lib/control/svstat-report';
import { format, fromDate } from '../lib/tai64';

const procs = new Procs();
after(() => procs.cleanup());

const svstat = bin('svstat');
const NOW = Date.UTC(2026, 11, 5, 12, 0, 0, 250);

function labelAt(ms: number): string {
  return format(fromDate(new Date(ms)));
}

function report(over: Partial<StatusReport>): StatusReport {
  return {
    kind: 'status', pid: 0, seconds: 10n, paused: false, want: 'up', normallyUp: true, since: labelAt(NOW - 10000), ...over,
  };
}

describe('svstat lines from a report with info (unit)', () => {
  test('ready N seconds: only for a service with notification-fd that told it; after everything else, as s6-svstat', () => {
    const info = { supervise: 1, starts: 1, failures: 0, lastExit: null, notification: 3, readySince: labelAt(NOW - 4000) };
    assert.equal(formatLine('s', report({ pid: 123, info }), NOW), 's: up (pid 123) 10 seconds, ready 4 seconds\n');
    assert.equal(
      formatLine('s', report({ pid: 123, normallyUp: false, paused: true, want: 'down', info }), NOW),
      's: up (pid 123) 10 seconds, normally down, paused, want down, ready 4 seconds\n',
    );
    // not ready yet, or no notification-fd: the C line
    const notYet = { ...info, readySince: undefined };
    assert.equal(formatLine('s', report({ pid: 123, info: notYet }), NOW), 's: up (pid 123) 10 seconds\n');
    const noFd = { ...info, notification: undefined };
    assert.equal(formatLine('s', report({ pid: 123, info: noFd }), NOW), 's: up (pid 123) 10 seconds\n');
    assert.equal(formatLine('s', report({ pid: 123 }), NOW), 's: up (pid 123) 10 seconds\n');
  });

  test('restarting in N seconds while back-off delays the start; gave up after N failed starts', () => {
    const info = { supervise: 1, starts: 3, failures: 0, lastExit: null, failedInRow: 2 };
    assert.equal(
      formatLine('s', report({ info: { ...info, restartAt: labelAt(NOW + 3200) } }), NOW),
      's: down 10 seconds, normally up, want up, restarting in 4 seconds\n',
    );
    // a moment already past, or a malformed label: nothing
    assert.equal(formatLine('s', report({ info: { ...info, restartAt: labelAt(NOW - 10) } }), NOW), 's: down 10 seconds, normally up, want up\n');
    assert.equal(formatLine('s', report({ info: { ...info, restartAt: 'soon' } }), NOW), 's: down 10 seconds, normally up, want up\n');
    assert.equal(
      formatLine('s', report({ want: 'down', info: { ...info, failedInRow: 3, gaveUp: 3 } }), NOW),
      's: down 10 seconds, normally up, gave up after 3 failed starts\n',
    );
    assert.equal(formatLine('s', report({ want: 'down' }), NOW), 's: down 10 seconds, normally up\n');
  });

  test('JSON: ready, readySince, finishing, failedInRow, restartAt, gaveUp (null when info does not tell)', () => {
    const parse = (r: StatusReport) => JSON.parse(formatJson('s', r)) as Record<string, unknown>;
    const pick = (o: Record<string, unknown>) =>
      Object.fromEntries(['ready', 'readySince', 'finishing', 'failedInRow', 'restartAt', 'gaveUp'].map((k) => [k, o[k]]));
    const none = { ready: true, readySince: null, finishing: null, failedInRow: null, restartAt: null, gaveUp: null };
    // the C supervise (no info): up is ready
    assert.deepEqual(pick(parse(report({ pid: 9 }))), none);
    assert.deepEqual(pick(parse(report({}))), { ...none, ready: false });
    const since = labelAt(NOW - 10000);
    const base = { supervise: 1, starts: 1, failures: 0, lastExit: null };
    assert.deepEqual(pick(parse(report({ pid: 9, since, info: { ...base, notification: 3 } }))), { ...none, ready: false });
    const readySince = labelAt(NOW - 2000);
    assert.deepEqual(pick(parse(report({ pid: 9, since, info: { ...base, notification: 3, readySince } }))), { ...none, readySince });
    const restartAt = labelAt(NOW + 2000);
    assert.deepEqual(
      pick(parse(report({ info: { ...base, finishing: true, failedInRow: 2, restartAt } }))),
      { ...none, ready: false, finishing: true, failedInRow: 2, restartAt },
    );
    assert.deepEqual(pick(parse(report({ want: 'down', info: { ...base, failedInRow: 4, gaveUp: 4 } }))), { ...none, ready: false, failedInRow: 4, gaveUp: 4 });
  });
});

/** Waits until `prog dir` prints a line matching re; returns it. */
async function lineWith(prog: string, dir: string, re: RegExp, what: string): Promise<string> {
  let line = '';
  await waitFor(async () => {
    line = (await run(prog, [dir])).stdout;
    return re.test(line);
  }, what, 15000, 50);
  return line;
}

const mask = (line: string) => line.replace(/\(pid \d+\)/, '(pid P)').replace(/ \d+ seconds/g, ' N seconds');

describe('svstat under our supervise (end to end)', () => {
  test('readiness: the line ends with `, ready N seconds` once ./run told it, where s6-svstat puts it', async () => {
    const root = procs.tmpdir();
    const dir = lifecycleService(root, 'ours', { ready: true });
    await startSupervise(procs, dir).ready();
    const pid = await waitUp(dir, { procs });
    await waitFor(() => fs.existsSync(path.join(dir, 'supervise/info')), 'supervise/info');
    const r = await run(svstat, [dir]);
    assert.match(r.stdout, new RegExp(`^${dir}: up \\(pid ${pid}\\) \\d+ seconds\\n$`));
    let j = JSON.parse((await run(svstat, ['--json', dir])).stdout) as Record<string, unknown>;
    assert.deepEqual([j.ready, j.readySince], [false, null]);
    release(dir, 'go');
    const line = await lineWith(svstat, dir, /ready/, 'the ready line');
    assert.match(line, new RegExp(`^${dir}: up \\(pid ${pid}\\) \\d+ seconds, ready \\d+ seconds\\n$`));
    j = JSON.parse((await run(svstat, ['--json', dir])).stdout) as Record<string, unknown>;
    assert.equal(j.ready, true);
    assert.match(String(j.readySince), /^@[0-9a-f]{24}$/);

    // s6-svstat on the same service under s6-supervise (it prints no dir)
    const other = lifecycleService(root, 's6', { ready: true });
    await startS6(procs, other);
    release(other, 'go');
    const theirs = await lineWith(s6('s6-svstat'), other, /ready/, 's6-svstat ready');
    assert.equal(mask(line.slice(dir.length + 2)), mask(theirs));
    await run(s6('s6-svc'), ['-dx', other]);
  });

  test('back-off: `, restarting in N seconds`, then `, gave up after N failed starts`; JSON failedInRow, restartAt, gaveUp', async () => {
    const root = procs.tmpdir();
    const dir = makeService(path.join(root, 'crash'), '#!/bin/sh\nexit 1\n');
    fs.writeFileSync(path.join(dir, 'start-secs'), '5\n');
    fs.writeFileSync(path.join(dir, 'backoff-max'), '30\n');
    fs.writeFileSync(path.join(dir, 'start-retries'), '3\n');
    await startSupervise(procs, dir).ready();
    const restarting = await lineWith(svstat, dir, /restarting/, 'a delayed restart');
    assert.match(restarting, new RegExp(`^${dir}: down \\d+ seconds, normally up, want up, restarting in [12] seconds\\n$`));
    const gaveUp = await lineWith(svstat, dir, /gave up/, 'the supervisor to give up');
    assert.match(gaveUp, new RegExp(`^${dir}: down \\d+ seconds, normally up, gave up after 3 failed starts\\n$`));
    const j = JSON.parse((await run(svstat, ['--json', dir])).stdout) as Record<string, unknown>;
    assert.deepEqual([j.state, j.want, j.ready, j.failedInRow, j.gaveUp, j.restartAt, j.finishing], ['down', 'down', false, 3, 3, null, null]);
    // the C svstat reads the same status: its line is ours without the suffix
    const c = await run(cbin('svstat'), [dir]);
    assert.equal(mask(c.stdout), mask(gaveUp.replace(', gave up after 3 failed starts', '')));
  });

  test('a service without notification-fd or back-off: the line is the C svstat\'s', async () => {
    const root = procs.tmpdir();
    const dir = makeService(path.join(root, 'plain'), '#!/bin/sh\nexec sleep 1000\n');
    await startSupervise(procs, dir).ready();
    await waitUp(dir, { procs });
    await waitFor(() => fs.existsSync(path.join(dir, 'supervise/info')), 'supervise/info');
    const [ours, theirs] = [await run(svstat, [dir]), await run(cbin('svstat'), [dir])];
    assert.equal(mask(ours.stdout), mask(theirs.stdout));
    assert.equal(ours.stdout.split(',').length, 1);
  });
});
