// What svctl's modules throw when a request cannot be done: a message in
// daemontools' form (`what`, and the system error that caused it, if any),
// and the exit code: 100 for a bad request, 111 for a system failure.
import { EXIT_FAIL, EXIT_USAGE } from '../os/errors';

export class SvctlError extends Error {
  constructor(
    public readonly what: string,
    public readonly code: typeof EXIT_USAGE | typeof EXIT_FAIL,
    public readonly cause?: unknown,
  ) {
    super(what);
  }
}

/** A bad request (exit 100). */
export function usageError(what: string): SvctlError {
  return new SvctlError(what, EXIT_USAGE);
}

/** A system failure (exit 111), with the error that caused it when there is one. */
export function systemError(what: string, cause?: unknown): SvctlError {
  return new SvctlError(what, EXIT_FAIL, cause);
}

/** Text as the bytes Diag writes ('latin1' strings, lib/os/raw-argv.ts): names print as they are. */
export function asBytes(text: string): string {
  return Buffer.from(text).toString('latin1');
}
