// multilog against the C multilog where the broad tests do not look: odd
// numbers in the script, directory names the kernel resolves, start-up over
// a directory left in odd states, FIFOs, status files that cannot be
// rewritten, processor descriptors that cannot be opened. Same setup in two
// fresh directories, same input; a run that would pause forever is stopped
// once its first messages are out and compared on those.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { bin, cbin, Procs, run, waitFor } from './helpers';
import { Case, compareWithC, mask, Outcome, snapshot } from './multilog-util';
import { mkfifo } from './fixtures/fake';

const procs = new Procs();
after(() => procs.cleanup());

const compare = (c: Case): Promise<Outcome> => compareWithC(procs, c);

/** Setup: ./d with an empty `current` marked finished (so no crash recovery at start-up) and the files `names`, each holding its name. */
function finishedWith(names: string[]): (w: string) => void {
  return (w: string): void => {
    fs.mkdirSync(path.join(w, 'd'));
    fs.writeFileSync(path.join(w, 'd', 'current'), '');
    fs.chmodSync(path.join(w, 'd', 'current'), 0o744);
    for (const n of names) fs.writeFileSync(path.join(w, 'd', n), `${n}\n`);
  };
}

function numberedLines(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += `${String(i).padStart(6, '0')} some text for the line\n`;
  return s;
}

test('multilog: s and n numbers wrap at 2^64 as the C scan_ulong does', async () => {
  const input = numberedLines(3000);
  // 2^64 + 1 wraps to 1, then is raised to 4096
  const small = await compare({ args: ['s18446744073709551617', './d'], input });
  assert.equal(small.tree!.filter((l) => l.startsWith('d/@')).length, 9, small.tree!.join('\n'));
  // 2^64 + 2 wraps to 2: one old file kept
  const two = await compare({ args: ['n18446744073709551618', 's4096', './d'], input });
  assert.equal(two.tree!.filter((l) => l.startsWith('d/@')).length, 1, two.tree!.join('\n'));
});

test('multilog: a directory name is resolved by the kernel, not tidied (d/., d/.., symlinks)', async () => {
  const input = 'a\nb\n';
  const gone = await compare({ args: ['./d/.'], input });
  assert.equal(gone.code, 111);
  assert.equal(gone.stderr, 'multilog: fatal: unable to open directory ./d/.: file does not exist\n');
  await compare({ args: ['./d/../e'], input });
  await compare({ args: ['./d/../e'], input, setup: (w) => fs.mkdirSync(path.join(w, 'd')) });
  const viaLink = await compare({
    args: ['./l/../z'],
    input,
    setup: (w) => {
      fs.mkdirSync(path.join(w, 'x', 'y'), { recursive: true });
      fs.symlinkSync('x/y', path.join(w, 'l'));
    },
  });
  assert.ok(viaLink.tree!.includes('x/z/ 700'), viaLink.tree!.join('\n'));
});

test('multilog: start-up over an unfinished directory: state, newstate, processed, previous, current as the C one treats them', async () => {
  const input = 'x\0y\nERROR foo\nplain\n';
  const d = (w: string): string => path.join(w, 'd');
  const stateDir = await compare({ args: ['./d'], input, setup: (w) => fs.mkdirSync(path.join(d(w), 'state'), { recursive: true }) });
  assert.equal(stateDir.stderr, 'multilog: fatal: unable to write to ./d/state: is a directory\n');
  const newstateDir = await compare({ args: ['./d'], input, setup: (w) => fs.mkdirSync(path.join(d(w), 'newstate'), { recursive: true }) });
  assert.equal(newstateDir.code, 0);
  const processedDir = await compare({
    args: ['./d'], input, stopAfterLines: 1,
    setup: (w) => {
      fs.mkdirSync(path.join(d(w), 'processed'), { recursive: true });
      fs.writeFileSync(path.join(d(w), 'state'), 'old state\n');
      fs.writeFileSync(path.join(d(w), 'newstate'), 'old newstate\n');
    },
  });
  assert.equal(processedDir.stderr, 'multilog: warning: unable to remove ./d/processed, pausing: is a directory');
  assert.deepEqual(processedDir.tree, ['d/ 755', 'd/lock 600 0 ', 'd/processed/ 755'], 'state and newstate removed first');
  // state is removed and created again, not truncated in place
  const rootsState = await compare({
    args: ['./d'], input, asNobody: true,
    setup: (w) => {
      fs.mkdirSync(d(w));
      fs.writeFileSync(path.join(d(w), 'state'), 'root\'s\n');
      fs.chownSync(d(w), 65534, 65534);
    },
  });
  assert.equal(rootsState.code, 0, rootsState.stderr);
  const loop = await compare({
    args: ['./d'], input, stopAfterLines: 1,
    setup: (w) => {
      fs.mkdirSync(d(w));
      fs.symlinkSync('previous', path.join(d(w), 'previous'));
    },
  });
  assert.equal(loop.stderr, 'multilog: warning: unable to stat ./d/previous, pausing: symbolic link loop');
  const danglingCurrent = await compare({
    args: ['./d'], input,
    setup: (w) => {
      fs.mkdirSync(d(w));
      fs.symlinkSync('nowhere/x', path.join(d(w), 'current'));
    },
  });
  assert.equal(danglingCurrent.stderr, 'multilog: fatal: unable to write to ./d/current: file does not exist\n');
  const previousDir = await compare({ args: ['./d'], input, stopAfterLines: 1, setup: (w) => fs.mkdirSync(path.join(d(w), 'previous'), { recursive: true }) });
  assert.equal(previousDir.stderr, 'multilog: warning: unable to remove ./d/previous, pausing: is a directory');
});

test('multilog: a previous or current already linked to an @ file (crash between link and unlink) is not saved twice', async () => {
  const input = 'new\n';
  for (const f of ['previous', 'current']) {
    const r = await compare({
      args: ['./d'], input,
      setup: (w) => {
        fs.mkdirSync(path.join(w, 'd'));
        fs.writeFileSync(path.join(w, 'd', f), 'old\n');
        fs.linkSync(path.join(w, 'd', f), path.join(w, 'd', '@400000006b0000000000000000.s'));
      },
    });
    assert.equal(r.tree!.filter((l) => l.startsWith('d/@')).length, 1, r.tree!.join('\n'));
  }
});

test('multilog: a failed link names the @ file it tried', async () => {
  // protected_hardlinks: nobody may not link to root's file
  const r = await compare({
    args: ['./d'], input: 'a\n', asNobody: true, stopAfterLines: 1,
    setup: (w) => {
      fs.mkdirSync(path.join(w, 'd'));
      fs.chownSync(path.join(w, 'd'), 65534, 65534);
      fs.writeFileSync(path.join(w, 'd', 'previous'), 'old\n');
    },
  });
  assert.match(r.stderr, /^multilog: warning: unable to link to \.\/d\/@[0-9a-f]{24}\.u, pausing: permission denied$/);
});

test('multilog: FIFOs without a reader fail at once (non-blocking opens) as in the C multilog', async () => {
  const input = 'a\n';
  const fifoStatus = await compare({ args: ['=st'], input, setup: (w) => mkfifo(path.join(w, 'st')) });
  assert.equal(fifoStatus.stderr, 'multilog: fatal: unable to create st: device not configured\n');
  const fifoCurrent = await compare({
    args: ['./d'], input,
    setup: (w) => {
      fs.mkdirSync(path.join(w, 'd'));
      mkfifo(path.join(w, 'd', 'current'));
      fs.chmodSync(path.join(w, 'd', 'current'), 0o744);
    },
  });
  assert.equal(fifoCurrent.stderr, 'multilog: fatal: unable to append to ./d/current: device not configured\n');
  const fifoLock = await compare({
    args: ['./d'], input,
    setup: (w) => {
      fs.mkdirSync(path.join(w, 'd'));
      mkfifo(path.join(w, 'd', 'lock'));
    },
  });
  assert.equal(fifoLock.stderr, 'multilog: fatal: unable to lock directory ./d: device not configured\n');
});

test('multilog: a status file is rewritten by seeking to its start and writing, as the C one does', async () => {
  const proc = await compare({ args: ['=/proc/self/status'], input: 'a\n', stopAfterLines: 1 });
  assert.equal(proc.stderr, 'multilog: warning: unable to write /proc/self/status, pausing: invalid argument');
  // a FIFO that has a reader (this process) opens, but cannot seek
  const readers: number[] = [];
  try {
    const fifo = await compare({
      args: ['=st'], input: 'a\n', stopAfterLines: 1,
      setup: (w) => {
        mkfifo(path.join(w, 'st'));
        readers.push(fs.openSync(path.join(w, 'st'), 'r+'));
      },
    });
    assert.equal(fifo.stderr, 'multilog: warning: unable to move to beginning of st, pausing: unseekable descriptor');
  } finally {
    for (const fd of readers) fs.closeSync(fd);
  }
});

test('multilog: a processor whose descriptors cannot be opened: "unable to run", then "processor failed"', async () => {
  const input = numberedLines(300);
  const noState = await compare({ args: ['s4096', '!cat', './d'], input, stopAfterLines: 2, setup: finishedWith([]) });
  assert.equal(noState.stderr, 'multilog: fatal: unable to run cat: file does not exist\nmultilog: warning: processor failed in ./d, pausing');
  const processedDir = await compare({
    args: ['s4096', '!cat', './d'], input, stopAfterLines: 2,
    setup: (w) => {
      finishedWith([])(w);
      fs.mkdirSync(path.join(w, 'd', 'processed'));
    },
  });
  assert.equal(processedDir.stderr, 'multilog: fatal: unable to run cat: is a directory\nmultilog: warning: processor failed in ./d, pausing');
});

/** Names (raw bytes as latin1) and contents under dir, two levels deep. */
function rawListing(dir: string): string[] {
  const out: string[] = [];
  const list = (d: Buffer, rel: string): void => {
    for (const name of fs.readdirSync(d, { encoding: 'buffer' })) {
      const full = Buffer.concat([d, Buffer.from('/'), name]);
      const r = `${rel}${name.toString('latin1')}`;
      if (fs.statSync(full).isDirectory()) list(full, `${r}/`);
      else out.push(`${mask(r)} ${mask(fs.readFileSync(full))}`);
    }
  };
  list(Buffer.from(dir), '');
  return out.sort();
}

test('multilog: arguments are bytes: patterns, directory and status file names that are not UTF-8', async () => {
  const script = [
    `printf 'a\\377b\\nabc\\n\\303\\251x\\n' | "$0" "$(printf -- '-*\\377*')" e "$(printf './d\\377')" "$(printf -- '-a\\377b')" "$(printf '=s\\377')"`,
    `echo "rc=$?"`,
    `printf 'x\\n' | "$0" "$(printf './d\\377/sub/x')"`,
    `echo "rc=$?"`,
  ].join('; ');
  const outcome = async (prog: string): Promise<[string, string[]]> => {
    const dir = procs.tmpdir('mlqa-raw-');
    const r = await run('/bin/sh', ['-c', script, prog], { cwd: dir });
    return [r.stdout + Buffer.from(r.stderr, 'latin1').toString('latin1'), rawListing(dir)];
  };
  const [theirs, ours] = await Promise.all([outcome(cbin('multilog')), outcome(bin('multilog'))]);
  assert.equal(theirs[0], 'rc=0\nrc=111\nabc\n\xc3\xa9x\nmultilog: fatal: unable to open directory ./d\xff/sub/x: file does not exist\n');
  assert.ok(theirs[1].includes('s\xff \xc3\xa9x\n' + '\n'.repeat(997)), theirs[1].join('|'));
  assert.deepEqual(ours, theirs);
});

test('multilog: only @ names of 25 bytes or more count as old files; one that cannot be removed is reported as the scan failing', async () => {
  const input = numberedLines(300);
  const short = await compare({
    args: ['s4096', 'n2', './d'], input,
    setup: finishedWith(['@0', '@0.u', '@00000000000000000000000', '@0000000000000000000000.u', '@000000000000000000000000', '@zzzzzzzzzzzzzzzzzzzzzzzz']),
  });
  const names = short.tree!.map((l) => l.split(' ')[0]);
  assert.ok(names.includes('d/@0') && names.includes('d/@00000000000000000000000'), names.join(' '));
  assert.ok(!names.includes('d/@000000000000000000000000'), names.join(' '));
  const dirAsOld = await compare({
    args: ['s4096', 'n2', './d'], input, stopAfterLines: 1,
    setup: (w) => {
      finishedWith([])(w);
      fs.mkdirSync(path.join(w, 'd', '@000000000000000000000000'));
    },
  });
  assert.equal(dirAsOld.stderr, 'multilog: warning: unable to read ./d, pausing: is a directory');
});

test('multilog: a read error on standard input ends it silently, as in the C multilog', async () => {
  const outcome = async (prog: string): Promise<[string, string[]]> => {
    const dir = procs.tmpdir('mlqa-in-');
    const r = await run('/bin/sh', ['-c', '"$0" e ./d < /; echo "rc=$?"', prog], { cwd: dir });
    return [r.stdout + r.stderr, snapshot(dir)];
  };
  const [theirs, ours] = await Promise.all([outcome(cbin('multilog')), outcome(bin('multilog'))]);
  assert.equal(theirs[0], 'rc=0\n');
  assert.deepEqual(ours, theirs);
});

test('multilog: which old file goes: the oldest 25-byte @ prefix below @z, first such file in directory order, as the C multilog picks', async () => {
  const input = numberedLines(80); // one rotation with s4096
  const zeros = '@' + '0'.repeat(24);
  for (const names of [
    ['b', 'a'].map((x) => zeros + x),
    ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((x) => zeros + x),
    ['zz', 'zy', '@a'].map((x) => `@${x}${'0'.repeat(25)}`),
  ]) {
    const r = await compare({ args: ['s4096', 'n3', './d'], input, setup: finishedWith(names) });
    assert.equal(r.tree!.filter((l) => l.startsWith('d/@')).length, 2, r.tree!.join('\n'));
  }
  // previous already linked (no new @ file): prefixes shared by all three
  const linked = await compare({
    args: ['n2', './d'], input: 'new\n',
    setup: (w) => {
      fs.mkdirSync(path.join(w, 'd'));
      fs.writeFileSync(path.join(w, 'd', 'previous'), 'x\n');
      fs.linkSync(path.join(w, 'd', 'previous'), path.join(w, 'd', '@400000006b0000000000000001.s'));
      fs.writeFileSync(path.join(w, 'd', '@400000006b0000000000000000.s'), 'y\n');
      fs.writeFileSync(path.join(w, 'd', '@400000006b0000000000000002.s'), 'z\n');
    },
  });
  assert.equal(linked.tree!.filter((l) => l.startsWith('d/@')).length, 1, linked.tree!.join('\n'));
});

test('multilog: start-up after a crash once the processor had finished: its processed output is kept as an @….s file, previous dropped', async () => {
  const input = 'after\n';
  const withProcessed = (mode: number, previous: boolean) => (w: string): void => {
    const d = path.join(w, 'd');
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'processed'), 'PROCESSED\n');
    fs.chmodSync(path.join(d, 'processed'), mode);
    if (previous) fs.writeFileSync(path.join(d, 'previous'), 'raw\n');
    fs.writeFileSync(path.join(d, 'current'), 'cur\n');
    fs.writeFileSync(path.join(d, 'state'), 'old\n');
  };
  const done = await compare({ args: ['./d'], input, setup: withProcessed(0o744, true) });
  assert.ok(done.tree!.includes('d/@LABEL.s 744 10 PROCESSED\n'), done.tree!.join('\n'));
  assert.ok(!done.tree!.some((l) => l.includes('raw')), done.tree!.join('\n'));
  const notDone = await compare({ args: ['./d'], input, setup: withProcessed(0o644, true) });
  assert.ok(notDone.tree!.includes('d/@LABEL.u 644 4 raw\n'), notDone.tree!.join('\n'));
  await compare({ args: ['./d'], input, setup: withProcessed(0o744, false) });
  const loop = await compare({
    args: ['./d'], input,
    setup: (w) => {
      fs.mkdirSync(path.join(w, 'd'));
      fs.symlinkSync('processed', path.join(w, 'd', 'processed'));
    },
  });
  assert.equal(loop.stderr, 'multilog: fatal: unable to stat ./d/processed: symbolic link loop\n');
});

test('multilog: an unreadable working directory, a log directory that cannot be entered: the C fatal messages', async () => {
  const input = 'a\n';
  const unreadable = await compare({ args: ['./d'], input, asNobody: true, setup: (w) => fs.chmodSync(w, 0o333) });
  assert.equal(unreadable.stderr, 'multilog: fatal: unable to switch to current directory: access denied\n');
  for (const mode of [0o600, 0o300]) {
    const r = await compare({
      args: ['./d'], input, asNobody: true,
      setup: (w) => {
        fs.mkdirSync(path.join(w, 'd'));
        fs.chownSync(path.join(w, 'd'), 65534, 65534);
        fs.chmodSync(path.join(w, 'd'), mode);
      },
    });
    assert.equal(r.stderr, 'multilog: fatal: unable to open directory ./d: access denied\n', mode.toString(8));
  }
});

test('multilog: the processor gets the descriptors multilog was given beyond 0-2 (3, 7 here), as through a fork and exec', async () => {
  const script = `head -c 3000 "$1" | "$0" s4096 '!ls /proc/$$/fd >&2; cat >/dev/null' ./d 3</dev/null 7</dev/null`;
  const outcome = async (prog: string): Promise<string> => {
    const dir = procs.tmpdir('mlqa-fd-');
    fs.writeFileSync(path.join(dir, 'in'), numberedLines(200));
    const r = await run('/bin/sh', ['-c', script, prog, path.join(dir, 'in')], { cwd: dir });
    return `${r.code} ${r.stderr.split('\n').join(' ')}`;
  };
  const [theirs, ours] = await Promise.all([outcome(cbin('multilog')), outcome(bin('multilog'))]);
  const listed = theirs.split(' ');
  assert.ok(listed[0] === '0' && ['0', '1', '2', '3', '4', '5', '7'].every((fd) => listed.includes(fd)), theirs);
  assert.equal(ours, theirs);
});

test('multilog: a log directory renamed while multilog runs is followed (the C one works in it through a descriptor)', async () => {
  const outcome = async (prog: string): Promise<string[]> => {
    const base = procs.tmpdir('mlqa-mv-');
    const ml = procs.start(prog, ['s4096', './d'], { cwd: base, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    ml.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    ml.stdin!.write(numberedLines(10));
    await waitFor(() => fs.existsSync(path.join(base, 'd', 'current')) && fs.statSync(path.join(base, 'd', 'current')).size > 0, 'the first lines');
    fs.renameSync(path.join(base, 'd'), path.join(base, 'moved'));
    ml.stdin!.end(numberedLines(150));
    await waitFor(() => ml.exitCode !== null, `${prog} to finish`, 15000);
    return [`${ml.exitCode} ${err}`, ...snapshot(base)];
  };
  const [theirs, ours] = await Promise.all([outcome(cbin('multilog')), outcome(bin('multilog'))]);
  assert.equal(theirs[0], '0 ');
  assert.ok(theirs.some((l) => l.startsWith('moved/@LABEL.s ')), theirs.join('\n'));
  assert.deepEqual(ours, theirs);
});
