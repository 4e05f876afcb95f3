// --help and --version (beyond the original): answered only when they are
// the first argument, so they never change how a child's arguments are read.
// yargs renders the help; it is loaded only on this path.
import fs from 'node:fs';

export interface HelpText {
  usage: string;
  description: string;
  options?: Array<[string, string]>;
}

export const VERSION = '0.1.0';

function writeStdout(text: string): void {
  try {
    fs.writeSync(1, text);
  } catch {
    // nothing to report to
  }
}

/** Handles `--help` / `--version` as the first argument; returns false otherwise. */
export function answerHelp(prog: string, args: readonly string[], help: HelpText): boolean {
  if (args[0] === '--version') {
    writeStdout(`${prog} (daemontools-node) ${VERSION}\n`);
    process.exit(0);
  }
  if (args[0] !== '--help') return false;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const yargs = require('yargs/yargs') as typeof import('yargs/yargs');
  const parser = yargs([])
    .scriptName(prog)
    .usage(`${help.usage}\n\n${help.description}`)
    .version(false)
    .help(false)
    .wrap(Math.min(100, 80));
  for (const [flag, text] of help.options ?? []) parser.option(flag, { describe: text, type: 'boolean' });
  parser.showHelp((s: string) => writeStdout(s + '\n'));
  process.exit(0);
}
