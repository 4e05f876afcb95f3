// `make install` and `make install-systemd` into a temporary PREFIX: the
// programs run from there (found through PATH), the unit starts that
// svscanboot, and `make uninstall` takes everything away again.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, ROOT, cbin, run } from './helpers';

const procs = new Procs();
after(() => procs.cleanup());

const PROGRAMS = fs.readdirSync(path.join(ROOT, 'commands')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();

test('make install-systemd PREFIX=DIR: every program on PATH from DIR/bin, the unit starts DIR/bin/svscanboot; make uninstall removes them', async () => {
  const prefix = procs.tmpdir('dtn-install-');
  const units = path.join(prefix, 'units');
  // -o build: the programs are built already, and other tests are using them
  const vars = [`PREFIX=${prefix}`, `UNITDIR=${units}`];
  const install = await run('make', ['-s', '-o', 'build', '-C', ROOT, 'install-systemd', ...vars]);
  assert.equal(install.code, 0, install.stderr);

  assert.deepEqual(fs.readdirSync(path.join(prefix, 'bin')).sort(), PROGRAMS);
  const unit = fs.readFileSync(path.join(units, 'svscanboot.service'), 'utf8');
  assert.match(unit, new RegExp(`^ExecStart=${prefix}/bin/svscanboot \\$SVSCANBOOT_OPTS /service$`, 'm'));
  assert.match(unit, /^Environment=SVSCANBOOT_OPTS=$/m, 'per-process mode unless --host is chosen');

  // run from the installed copy, as a user would: through PATH, from another directory
  const env = { ...process.env, PATH: `${prefix}/bin:/usr/bin:/bin` };
  const missing = path.join(prefix, 'missing');
  const ours = await run('svok', [missing], { env, cwd: '/' });
  const theirs = await run(cbin('svok'), [missing], { cwd: '/' });
  assert.deepEqual(ours, theirs);
  assert.equal(ours.code, 111);
  const chain = await run('envdir', [path.join(ROOT, 'service-template', 'env'), 'sh', '-c', 'echo "$GREETING"'], { env, cwd: '/' });
  assert.deepEqual(chain, { code: 0, signal: null, stdout: 'hello from the service template\n', stderr: '' });

  const uninstall = await run('make', ['-s', '-C', ROOT, 'uninstall', ...vars]);
  assert.equal(uninstall.code, 0, uninstall.stderr);
  assert.deepEqual(fs.readdirSync(path.join(prefix, 'bin')), []);
  assert.equal(fs.existsSync(path.join(prefix, 'lib', 'daemontools-node')), false);
  assert.equal(fs.existsSync(path.join(units, 'svscanboot.service')), false);
});
