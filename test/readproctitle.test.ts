// readproctitle: exit codes like the C one, and the last bytes of its input
// at the end of its process title (/proc/PID/cmdline and ps).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { Procs, bin, cbin, run, waitFor, endOf, exitOf } from './helpers';

const procs = new Procs();
after(() => procs.cleanup());

test('readproctitle: exit codes match the C readproctitle', async () => {
  for (const [args, input] of [[[], ''], [['abcd'], 'x'], [['a', 'b', 'abcd'], 'x'], [['abcde'], 'hello\n'], [['x', '.....'], '']] as const) {
    const ours = await run(bin('readproctitle'), args, { input });
    const theirs = await run(cbin('readproctitle'), args, { input });
    assert.deepEqual({ code: ours.code, out: ours.stdout, err: ours.stderr }, { code: theirs.code, out: theirs.stdout, err: theirs.stderr }, `readproctitle ${args.join(' ')}`);
  }
});

/** The title as ps shows it: arguments joined by spaces, trailing NULs dropped. */
function title(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0+$/, '').replaceAll('\0', ' ');
}

/** Starts file with args, writes input to it, waits until its title ends with end: the child and that title. */
async function startShowing(cmd: string, file: string, args: string[], input: string | Buffer, end: string): Promise<{ child: ChildProcess; pid: number; t: string }> {
  const child = procs.start(file, args, { stdio: ['pipe', 'ignore', 'ignore'] });
  child.stdin!.write(input);
  const pid = child.pid!;
  const t = await waitFor(() => {
    const s = title(pid);
    return s.endsWith(end) ? s : '';
  }, `${cmd}: the input in the title`);
  return { child, pid, t };
}

test('readproctitle: the last bytes of its input show in the process title, as with the C one', async () => {
  const dots = '.'.repeat(40);
  const input = 'svscan: warning: unable to stat x: file does not exist\nsecond\0 line';
  const shown: string[] = [];
  for (const cmd of [bin('readproctitle'), cbin('readproctitle')]) {
    const { child, pid, t } = await startShowing(cmd, cmd, ['service', 'errors:', dots], input, 'second line');
    const ps = await run('ps', ['-o', 'args=', '-p', String(pid)]);
    assert.match(ps.stdout, /second line\n$/, 'ps shows it');
    assert.equal(fs.readFileSync(`/proc/${pid}/comm`, 'latin1'), 'readproctitle\n', 'command name (ps -o comm, pgrep -x) as the C one');
    shown.push(t.slice(t.indexOf('service errors: ')));
    child.stdin!.end();
    assert.equal((await exitOf(child))?.code, 0, 'exit 0 at EOF');
  }
  assert.equal(shown[0], shown[1]);
  // the window is the last argument less its first 3 bytes (shown as dots)
  assert.equal(shown[0], `service errors: ...${input.replace('\0', '').slice(-(dots.length - 3))}`);
});

test('readproctitle: bytes that are not UTF-8, in its input and its arguments, show as they are, as with the C one', async () => {
  const input = Buffer.from([0x61, 0xff, 0x62, 0xc3, 0xa9, 0x63, 0xc3]); // a, a lone byte, b, é, c, half of a character
  const shown: string[] = [];
  for (const cmd of [bin('readproctitle'), cbin('readproctitle')]) {
    // the shell makes the argument's bytes (Node would pass UTF-8) and execs: same pid
    const { child, t } = await startShowing(cmd, '/bin/sh', ['-c', `exec "$0" "$(printf 'x\\376y')" errors: ....................`, cmd], input, 'c\xc3');
    shown.push(t.slice(t.indexOf(' ')));
    child.stdin!.end();
    assert.equal((await exitOf(child))?.code, 0, 'exit 0 at EOF');
  }
  assert.equal(shown[0], shown[1]);
  assert.equal(shown[0], ` x\xfey errors: ${'.'.repeat(3 + 17 - input.length)}a\xffb\xc3\xa9c\xc3`);
});

test('readproctitle: SIGUSR1 (no Node debugger), SIGPIPE and SIGXFSZ end it, as they end the C one', async () => {
  for (const sig of ['SIGUSR1', 'SIGPIPE', 'SIGXFSZ'] as const) {
    for (const cmd of [bin('readproctitle'), cbin('readproctitle')]) {
      const child = procs.start(cmd, ['a', 'b', '.....'], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const pid = child.pid!;
      // the title is shown once the program is set up (not yet: our launcher, /bin/sh, then node)
      await waitFor(() => /^\S*readproctitle a b \.{5}$/.test(title(pid)), `${cmd}: its title`);
      process.kill(pid, sig);
      const end = await endOf(child, 5000);
      assert.equal(end?.signal ?? `exit ${end?.code}`, sig, `${cmd} ${sig}`);
      assert.equal(err, '', `${cmd} ${sig}`);
    }
  }
});
