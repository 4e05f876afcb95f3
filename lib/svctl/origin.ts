// The starting directory, opened once: svctl enters service directories
// (svc's and svstat's code works from inside them) and comes back through
// it, and Origin keeps its descriptor for the life of the process.
import { Origin } from '../control/cwd';

let opened: Origin | undefined;

export function origin(): Origin {
  opened ??= Origin.open();
  return opened;
}
