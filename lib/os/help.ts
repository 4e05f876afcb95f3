// --help and --version (beyond the original): answered only when they are
// the first argument, so they never change how a child's arguments are read.
// The help is rendered by dist/_help.js (yargs), a separate bundle loaded
// only on this path so that no program pays for yargs otherwise.
import fs from 'node:fs';
import path from 'node:path';

export interface HelpText {
  usage: string;
  description: string;
  /** [flag, description] pairs, e.g. ['-u', 'up: start the service'] */
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

/** Handles `--help` / `--version` as the first argument (and exits); returns otherwise. */
export function answerHelp(prog: string, args: readonly string[], help: HelpText): void {
  if (args[0] === '--version') {
    writeStdout(`${prog} (daemontools-node) ${VERSION}\n`);
    process.exit(0);
  }
  if (args[0] !== '--help') return;
  const renderer = path.join(__dirname, '_help.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { renderHelp } = require(renderer) as typeof import('./help-render');
  writeStdout(renderHelp(prog, help));
  process.exit(0);
}
