import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { parseProcLimits } from '../lib/exec/limits';
import { RLIMIT, getrlimit } from '../lib/os/sys';

test('parseProcLimits: this process\'s /proc/self/limits matches getrlimit for every resource', () => {
  const parsed = parseProcLimits(fs.readFileSync('/proc/self/limits', 'utf8'));
  assert.equal(parsed.size, Object.keys(RLIMIT).length, 'all 16 resources');
  for (const [name, resource] of Object.entries(RLIMIT)) {
    assert.equal(parsed.get(resource), getrlimit(resource).soft, name);
  }
});

/** What the shell of these tests set: ulimit -S -n 123 -c 0 -s 4096 -t 77 -v unlimited. */
function assertShellLimits(parsed: Map<number, number>): void {
  assert.equal(parsed.get(RLIMIT.NOFILE), 123);
  assert.equal(parsed.get(RLIMIT.CORE), 0);
  assert.equal(parsed.get(RLIMIT.STACK), 4096 * 1024);
  assert.equal(parsed.get(RLIMIT.CPU), 77);
  assert.equal(parsed.get(RLIMIT.AS), Infinity);
}

test('parseProcLimits: limits set by a shell, lines joined by ";" as the launcher records them', () => {
  const r = spawnSync('/bin/sh', ['-c', 'ulimit -S -n 123; ulimit -S -c 0; ulimit -S -s 4096; ulimit -S -t 77; ulimit -S -v unlimited; ' +
    'r=; while IFS= read -r l; do r="$r$l;"; done </proc/$$/limits; printf %s "$r"'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.ok(!r.stdout.includes('\n'));
  const parsed = parseProcLimits(r.stdout);
  assertShellLimits(parsed);
  assert.equal(parsed.size, 16);
});

test('parseProcLimits: limits recorded as the launcher does, /proc/PID/limits run by `.` (one space between words)', () => {
  const r = spawnSync('/bin/sh', ['-c', 'ulimit -S -n 123; ulimit -S -c 0; ulimit -S -s 4096; ulimit -S -t 77; ulimit -S -v unlimited; ' +
    'r=; Limit() { :; }; Max() { r="${r}Max $*;"; }; . /proc/$$/limits; printf %s "$r"'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Max cpu time [0-9a-z]+ [0-9a-z]+ seconds;/);
  const parsed = parseProcLimits(r.stdout);
  assertShellLimits(parsed);
  assert.equal(parsed.get(RLIMIT.NICE), 0);
  assert.equal(parsed.size, 16);
});

test('parseProcLimits: the header, units-less lines and junk are ignored', () => {
  const text = 'Limit                     Soft Limit           Hard Limit           Units     \n' +
    'Max nice priority         0                    0                    \n' +
    'Max open files            1024                 4096                 files     \n' +
    'Max bogus thing           1                    1                    x\n' +
    'Max processes             abc                  1                    processes\n' +
    'garbage\n';
  const parsed = parseProcLimits(text);
  assert.deepEqual([...parsed.entries()].sort((a, b) => a[0] - b[0]), [[RLIMIT.NOFILE, 1024], [RLIMIT.NICE, 0]]);
  assert.equal(parseProcLimits('').size, 0);
});
