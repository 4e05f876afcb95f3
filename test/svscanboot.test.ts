// svscanboot DIR: stale supervise stopped first, then svscan DIR with its
// errors shown by readproctitle; SIGTERM stops the whole tree.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, alive, bin, cbin, waitFor, exitOf } from './helpers';
import { CATLOG, COUNTER, SLEEPER, makeService, statusPid, waitUp } from './fixtures/service';
import { allProcs, killUnder, supervisesIn } from './fixtures/tree';

const procs = new Procs();
const roots: string[] = [];
after(async () => {
  await procs.cleanup();
  killUnder(roots);
});

test('svscanboot: stops stale supervise, runs svscan DIR | readproctitle, stops everything on SIGTERM', async () => {
  const r = procs.tmpdir('dtn-boot-');
  roots.push(r);
  const scan = path.join(r, 'service');
  const a = makeService(path.join(scan, 'a'), SLEEPER);
  const b = makeService(path.join(scan, 'b'), COUNTER, { log: CATLOG });
  fs.symlinkSync('/nonexistent-dtn', path.join(scan, 'dangling'));

  // a supervise left from a "previous boot"
  const stale = procs.start(cbin('supervise'), [a], { detached: true });
  const staleRun = await waitUp(a, { what: 'stale a' });

  const boot = procs.start(bin('svscanboot'), [scan], { detached: true, stdio: ['ignore', 'ignore', 'ignore'] });
  const bootPid = boot.pid ?? 0;
  assert.ok(bootPid > 0, 'svscanboot started');
  assert.notEqual((await exitOf(stale))?.code ?? null, null, 'the stale supervise was told to exit');
  assert.equal(alive(staleRun), false, 'and its service brought down');
  const runA = await waitFor(() => {
    const p = statusPid(a);
    return p && p !== staleRun && alive(p) ? p : 0;
  }, 'a started again by the new tree');
  await waitUp(path.join(b, 'log'));

  const tree = allProcs().filter((p) => p.pgrp === bootPid);
  const svscan = tree.find((p) => p.argv.some((x) => path.basename(x) === 'svscan.js' || path.basename(x) === 'svscan'));
  assert.ok(svscan, 'svscan runs');
  assert.equal(svscan.ppid, bootPid);
  assert.equal(fs.realpathSync(svscan.cwd), fs.realpathSync(scan));
  assert.equal(supervisesIn(a)[0].ppid, svscan.pid);
  const title = tree.find((p) => p.argv[0]?.startsWith('readproctitle'));
  assert.ok(title, 'readproctitle runs');
  await waitFor(() => {
    const t = fs.readFileSync(`/proc/${title.pid}/cmdline`, 'latin1');
    return t.startsWith('readproctitle service errors: ...') && t.includes('unable to stat dangling: file does not exist');
  }, 'svscan\'s warning in the title of readproctitle');
  const env = fs.readFileSync(`/proc/${svscan.pid}/environ`, 'latin1').split('\0').filter(Boolean);
  // the launcher records the limits it was given: none of our other variables reach the tree
  // (and the PWD its sh exported, marked as not given: the program drops it for its children)
  const noPwd = env.includes('DAEMONTOOLS_NODE_NOPWD=1');
  const leaked = env.filter((e) => !/^(PATH|DAEMONTOOLS_NODE_LIMITS|DAEMONTOOLS_NODE_NOPWD)=/.test(e) && !(noPwd && e.startsWith('PWD=')));
  assert.deepEqual(leaked, [], 'the environment is PATH alone');
  const PATH = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '';
  assert.equal(PATH.split(':')[0], path.dirname(bin('svscan')), 'our commands first in PATH');

  process.kill(bootPid, 'SIGTERM');
  assert.equal((await exitOf(boot))?.code, 0);
  for (const p of [...tree.map((x) => x.pid), runA]) assert.equal(alive(p), false, `pid ${p} stopped`);
  assert.equal(allProcs().filter((p) => p.pgrp === bootPid).length, 0, 'nothing left running');
});
