// Builds one bundled file per program (dist/NAME.js) and its launcher
// (bin/NAME). Usage:
//   node scripts/build.mjs [NAME...]                 build into ./dist and ./bin
//   node scripts/build.mjs --launchers BINDIR LIBDIR write launchers for an install
//   node scripts/build.mjs --tests [NAME...]         tests into ./build/test
//   node scripts/build.mjs --bench                   the benchmark into ./build/bench.js
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const template = fs.readFileSync(path.join(root, 'scripts/launcher.sh'), 'utf8');

// Extra Node flags per program (see README, "Benchmark").
// svscan: an idle svscan should wake only for its 5-second rescan (12 times
// a minute, as the C one). V8 wakes it far more: its memory reducer shrinks
// the heap after a busy start with incremental collections driven by timers
// of its own (20-60 wakeups a minute for the first minutes of a host of 200
// services), and by default V8 hands collections and compilations to worker
// threads. --single-threaded keeps all of V8's work on the main thread, in
// the wakeups svscan has anyway; --no-memory-reducer drops the timers, and
// svscan trims its heap itself at a rescan after the heap has grown
// (lib/os/heap-trim.ts, which needs --expose-gc). Measured over a minute of
// 200 idle hosted services, 20-80 s after start: 17-27 voluntary switches
// by default, 12 with these flags.
const nodeFlags = {
  svscan: ['--single-threaded', '--no-memory-reducer', '--expose-gc'],
  // svweb, for the same reasons (its 5-second look with a page open is the wakeup it has anyway)
  svweb: ['--single-threaded', '--no-memory-reducer', '--expose-gc'],
};

// The chain-loaders pass on only their raw environment (lib/exec/exec.ts), which
// tells from the size of the environment given to the launcher whether its
// sh added PWD, so their launcher need not read /proc/PID/environ (a byte
// at a time: 2-3 ms for 1.5 kB). The programs that also use process.env
// for their children (fghack, supervise, svscan, multilog, svscanboot) keep
// the launcher's own check (DAEMONTOOLS_NODE_NOPWD).
const pwdBySize = new Set(['envdir', 'envuidgid', 'pgrphack', 'setlock', 'setuidgid', 'softlimit']);

function programs() {
  return fs.readdirSync(path.join(root, 'commands'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

function shQuote(s) {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

// Lines between `#@NAME` and `#@end` in the template are kept only if
// keep[NAME] is true.
function sections(text, keep) {
  return text.replace(/^#@(\w+)\n([\s\S]*?)^#@end\n/gm, (_, name, body) => (keep[name] ? body : ''));
}

// script: the bundle's absolute path (an install: `--launchers`), or null
// for a launcher that finds it as ../dist/NAME.js from its own directory
// (./bin, and so the npm package). Either way the node running this build is
// the one the launcher prefers.
function writeLauncher(name, bindir, script) {
  // what the bundle reads decides what the launcher records (launcher.sh)
  const bundle = fs.readFileSync(path.join(root, 'dist', `${name}.js`), 'utf8');
  const limits = bundle.includes('DAEMONTOOLS_NODE_LIMITS');
  const text = sections(template, {
    locate: script === null,
    limits,
    sigign: bundle.includes('SigIgn'),
    pwdsize: limits && pwdBySize.has(name),
    // only programs with children (the ones that restore limits) pass PWD on
    nopwd: limits && !pwdBySize.has(name),
  })
    .replaceAll('@NODE@', () => shQuote(process.execPath))
    .replaceAll('@NODE_FLAGS@', () => (nodeFlags[name] ?? []).join(' '))
    .replaceAll('@SCRIPT@', () => (script === null ? `"$daemontools_node_d/../dist/${name}.js"` : shQuote(script)))
    .replaceAll('@PROG@', name);
  fs.mkdirSync(bindir, { recursive: true });
  const file = path.join(bindir, name);
  fs.writeFileSync(file + '.tmp', text, { mode: 0o755 });
  fs.renameSync(file + '.tmp', file);
}

// esbuild turns `import fs from 'node:fs'` into `__toESM(require("node:fs"))`,
// which defines a getter on a new object for every property of the module
// (fs has about a hundred), at every import of every file: 1-2 ms of each
// start. A builtin is a plain CommonJS object, so an object inheriting from
// it with `default` added reads the same (the same live values, the same
// functions), for nothing.
const nodeModuleHelper = 'var __nodeModule = (m) => ({ __proto__: m, default: m });';
function cheapBuiltins(text) {
  return text.replace(/__toESM\(require\("(node:[a-z_/]+)"\)\)/g, '__nodeModule(require("$1"))');
}

// First statement of every program: the launcher moved NODE_EXTRA_CA_CERTS
// and NODE_OPTIONS out of Node's way, and its sh added PWD (see launcher.sh); children must
// get the environment as it was.
// ("use strict" first: the bundles are strict, and a banner before esbuild's
// own directive would turn that into a plain string.)
const restoreCa = '"use strict";\nif (process.env.DAEMONTOOLS_NODE_CA !== undefined) {'
  + ' process.env.NODE_EXTRA_CA_CERTS = process.env.DAEMONTOOLS_NODE_CA;'
  + ' delete process.env.DAEMONTOOLS_NODE_CA; }\n'
  + 'if (process.env.DAEMONTOOLS_NODE_OPTIONS !== undefined) {'
  + ' process.env.NODE_OPTIONS = process.env.DAEMONTOOLS_NODE_OPTIONS;'
  + ' delete process.env.DAEMONTOOLS_NODE_OPTIONS; }\n'
  + 'if (process.env.DAEMONTOOLS_NODE_NOPWD !== undefined) {'
  + ' delete process.env.PWD; delete process.env.DAEMONTOOLS_NODE_NOPWD; }\n'
  + nodeModuleHelper;

// What every bundle shares: Node 20, CommonJS, koffi's native module left
// to be loaded at run time.
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['koffi'],
  logLevel: 'warning',
  legalComments: 'none',
};

// Bundles, written through a temporary file (a program starting meanwhile
// reads the old one or the new one, never half of one).
async function bundle(options) {
  const result = await build({ ...options, ...common, write: false });
  for (const out of result.outputFiles) {
    fs.mkdirSync(path.dirname(out.path), { recursive: true });
    fs.writeFileSync(out.path + '.tmp', cheapBuiltins(out.text));
    fs.renameSync(out.path + '.tmp', out.path);
  }
}

async function buildOne(name) {
  await bundle({
    banner: { js: restoreCa },
    entryPoints: [path.join(root, 'commands', `${name}.ts`)],
    outfile: path.join(root, 'dist', `${name}.js`),
  });
  writeLauncher(name, path.join(root, 'bin'), null);
}

async function buildHelp() {
  await bundle({
    banner: { js: nodeModuleHelper },
    entryPoints: [path.join(root, 'lib', 'os', 'help-render.ts')],
    outfile: path.join(root, 'dist', '_help.js'),
  });
}

// Tests: all of test/*.test.ts, or only the named files (e.g. `--tests svc`).
async function buildTests(only) {
  const dir = path.join(root, 'test');
  const entryPoints = fs.readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
    .map((f) => path.join(dir, f));
  if (only.length === 0) fs.rmSync(path.join(root, 'build', 'test'), { recursive: true, force: true });
  await build({
    entryPoints,
    outdir: path.join(root, 'build', 'test'),
    ...common,
    // bundled, playwright-core looks for its own package.json beside the bundle
    external: [...common.external, 'playwright-core'],
  });
}

// The benchmark (`make bench`): bench/bench.ts -> build/bench.js.
async function buildBench() {
  await build({
    entryPoints: [path.join(root, 'bench', 'bench.ts')],
    outfile: path.join(root, 'build', 'bench.js'),
    ...common,
  });
}

const args = process.argv.slice(2);
if (args[0] === '--tests') {
  await buildTests(args.slice(1));
} else if (args[0] === '--bench') {
  await buildBench();
} else if (args[0] === '--launchers') {
  const [, bindir, libdir] = args;
  for (const name of programs()) writeLauncher(name, bindir, path.join(libdir, 'dist', `${name}.js`));
} else {
  const names = args.length ? args : programs();
  let failed = 0;
  if (!fs.existsSync(path.join(root, 'dist', '_help.js')) || args.length === 0) await buildHelp();
  for (const name of names) {
    try {
      await buildOne(name);
    } catch (e) {
      failed++;
      console.error(`build: ${name} failed: ${e.message}`);
    }
  }
  if (failed) process.exit(1);
}
