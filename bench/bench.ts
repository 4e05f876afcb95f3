// `make bench`: this suite and the C daemontools side by side in one run,
// interleaved; prints a Markdown table of medians with the ratio ours/C and
// the budgets of issue 6. Usage: node build/bench.js [--quick] [--only a,b]
// [--ours DIR] (sections: cli control detect scale host wait svweb throughput startup; --ours
// measures DIR instead of ./bin, e.g. /usr/bin to check the benchmark). Progress goes to stderr,
// the table to stdout. Every process started is stopped at the end, also on
// failure and on Ctrl-C.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliLatency } from './cli';
import { Ctx, FULL, QUICK } from './context';
import { controlAndCrash } from './control';
import { Procs } from './procs';
import { detection, scale } from './scan';
import { hostAt200 } from './host';
import { waitLatency } from './wait';
import { svwebIdle } from './svweb';
import { renderStartup, startup } from './startup';
import { setOursDir } from './suites';
import { throughput } from './throughput';
import { addRow, render, rows } from './table';
import { Aborted, errorText, nowMs, run } from './util';

const SECTIONS: Record<string, (ctx: Ctx) => Promise<void>> = {
  cli: cliLatency,
  control: controlAndCrash,
  detect: detection,
  scale,
  host: hostAt200,
  wait: waitLatency,
  svweb: svwebIdle,
  throughput,
  startup,
};

function usage(): never {
  process.stderr.write(`usage: bench [--quick] [--only ${Object.keys(SECTIONS).join(',')}] [--ours DIR]\n`);
  process.exit(100);
}

function parseArgs(argv: string[]): { quick: boolean; only: string[] } {
  let quick = false;
  let only = Object.keys(SECTIONS);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--quick') quick = true;
    else if (argv[i] === '--only' && argv[i + 1]) only = argv[++i].split(',');
    else if (argv[i] === '--ours' && argv[i + 1]) setOursDir(argv[++i]);
    else usage();
  }
  if (only.some((o) => !(o in SECTIONS))) usage();
  return { quick, only };
}

function loadavg(): string {
  return fs.readFileSync('/proc/loadavg', 'latin1').split(' ')[0];
}

function machine(loadBefore: string): string {
  const cpu = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'latin1'))?.[1] ?? os.cpus()[0]?.model ?? '?';
  const dt = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'daemontools'], { encoding: 'latin1' }).stdout || '?';
  return [
    `Machine: ${cpu}, ${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(1)} GB RAM, Linux ${os.release()}`,
    `Node ${process.version}; C daemontools: Debian package ${dt}; load average ${loadBefore} before, ${loadavg()} after`,
  ].join('\n');
}

async function main(): Promise<number> {
  const { quick, only } = parseArgs(process.argv.slice(2));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dtn-bench-'));
  const procs = new Procs(root);
  const ctx: Ctx = { procs, root, p: quick ? QUICK : FULL, log: (m) => process.stderr.write(`bench: ${m}\n`) };

  let stopped = false;
  const stopAll = (): string[] => {
    if (stopped) return [];
    stopped = true;
    const left = procs.stopAll();
    fs.rmSync(root, { recursive: true, force: true });
    return left;
  };
  const interrupt = (sig: string) => (): void => {
    run.aborted = true;
    process.stderr.write(`bench: ${sig}: stopping everything\n`);
    const left = stopAll();
    if (left.length) process.stderr.write(`bench: could not stop: ${left.join(', ')}\n`);
    process.exit(130);
  };
  process.on('SIGINT', interrupt('SIGINT'));
  process.on('SIGTERM', interrupt('SIGTERM'));
  process.on('SIGHUP', interrupt('SIGHUP'));
  process.on('exit', () => stopAll());

  const t0 = nowMs();
  const loadBefore = loadavg();
  try {
    for (const name of only) {
      ctx.log(`${name}...`);
      const t = nowMs();
      try {
        await SECTIONS[name](ctx);
      } catch (e) {
        if (e instanceof Aborted) throw e;
        addRow({ section: name, figure: 'section failed', unit: '', note: `${name}: ${errorText(e)}` });
      }
      ctx.log(`${name}: ${((nowMs() - t) / 1000).toFixed(1)} s`);
    }
  } finally {
    const left = stopAll();
    if (left.length) {
      process.stderr.write(`bench: could not stop: ${left.join(', ')}\n`);
      process.exitCode = 1;
    }
  }
  const mode = quick ? 'make bench QUICK=1' : 'make bench';
  process.stdout.write(`\`${mode}\`, ${new Date().toISOString().slice(0, 16)}Z, ${((nowMs() - t0) / 1000).toFixed(0)} s\n${machine(loadBefore)}\n\n${[...(rows.length ? [render()] : []), renderStartup()].filter(Boolean).join('\n')}`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode ??= code;
  },
  (e: unknown) => {
    process.stderr.write(`bench: ${errorText(e)}\n`);
    process.exitCode = 1;
  },
);
