// setlock holds its lock through the exec'd child; fghack waits for every
// copy of its pipe, even one a background process keeps.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ChildProcess } from 'node:child_process';
import { Procs, alive, bin, cbin, endOf, exitOf, run, waitFor } from './helpers';

const procs = new Procs();
let dir = '';

before(() => {
  dir = procs.tmpdir('dtn-lock-');
});
after(() => procs.cleanup());

function output(child: ChildProcess): () => string {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return () => out;
}

test('setlock: while the child holds the lock, -n fails like the C setlock, -nx exits 0; the lock goes with the child', async () => {
  const file = path.join(dir, 'lock');
  const holder = procs.start(bin('setlock'), [file, 'sh', '-c', 'echo $$; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const out = output(holder);
  await waitFor(() => out().includes('\n'), 'the first child');
  assert.equal(out().trim(), String(holder.pid), 'the child runs in the setlock process');

  for (const cmd of [bin('setlock'), cbin('setlock')]) {
    const busy = await run(cmd, ['-n', file, 'echo', 'should not run']);
    assert.deepEqual({ code: busy.code, out: busy.stdout, err: busy.stderr },
      { code: 111, out: '', err: `setlock: fatal: unable to lock ${file}: temporary failure\n` }, cmd);
    const quiet = await run(cmd, ['-nx', file, 'echo', 'should not run']);
    assert.deepEqual({ code: quiet.code, out: quiet.stdout, err: quiet.stderr }, { code: 0, out: '', err: '' }, cmd);
  }
  // a waiting setlock gets the lock once the holder is gone
  const waiter = procs.start(bin('setlock'), [file, 'echo', 'got it'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const waited = output(waiter);
  const waiterDone = endOf(waiter);
  // a blocked flock shows in /proc/locks as "-> FLOCK ... WRITE PID"
  await waitFor(() => new RegExp(`-> FLOCK\\s+ADVISORY\\s+WRITE ${waiter.pid} `).test(fs.readFileSync('/proc/locks', 'utf8')) || waiter.exitCode !== null,
    'the waiter to block on the lock');
  assert.equal(waiter.exitCode, null, 'the waiter must wait while the lock is held');
  holder.kill('SIGKILL');
  assert.deepEqual(await waiterDone, { code: 0, signal: null });
  assert.equal(waited(), 'got it\n');
  const free = await run(bin('setlock'), ['-n', file, 'echo', 'free']);
  assert.deepEqual({ code: free.code, out: free.stdout }, { code: 0, out: 'free\n' });
});

test('fghack: returns only when a backgrounded grandchild closes its copies, with the child\'s exit code', async () => {
  const go = path.join(dir, 'go');
  const bgpid = path.join(dir, 'bg.pid');
  const script = `(echo $(exec sh -c 'echo $PPID') > ${bgpid}; while [ ! -e ${go} ]; do sleep 0.02; done) & exit 3`;
  const child = procs.start(bin('fghack'), ['sh', '-c', script], { stdio: 'ignore' });
  const done = exitOf(child);
  const bg = await waitFor(() => {
    const t = fs.existsSync(bgpid) ? fs.readFileSync(bgpid, 'utf8').trim() : '';
    return /^\d+$/.test(t) ? Number(t) : 0;
  }, 'the background process');
  procs.adopt(bg);
  // the shell (the direct child) has exited; the background process keeps fghack waiting
  await waitFor(() => !fs.readdirSync('/proc').some((p) => /^\d+$/.test(p) && ppidOf(Number(p)) === child.pid && alive(Number(p))),
    'the direct child to exit');
  assert.equal(child.exitCode, null, 'fghack returned while a copy of the pipe was open');
  assert.ok(alive(bg));
  fs.writeFileSync(go, '');
  assert.deepEqual(await done, { code: 3, signal: null });
});

test('fghack: a background process that closes its descriptors does not hold it', async () => {
  const closeAll = Array.from({ length: 40 }, (_, i) => `${i + 3}>&-`).join(' ');
  // bash: dash cannot name descriptors above 9 in a redirection
  const r = await run(bin('fghack'), ['bash', '-c', `sleep 30 </dev/null >/dev/null 2>&1 ${closeAll} & echo $! ; exit 5`], { timeoutMs: 15000 });
  procs.adopt(Number(r.stdout.trim()));
  assert.deepEqual({ code: r.code, signal: r.signal }, { code: 5, signal: null });
});

function ppidOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}
