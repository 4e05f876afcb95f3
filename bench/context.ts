// What every section of the benchmark gets: where to work, what it started,
// and how much to measure (quick or full run).
import { Procs } from './procs';

export interface Params {
  quick: boolean;
  /** Interleaved rounds of each CLI and chain-loading figure. */
  cliRounds: number;
  /** Rounds of svc -t/-d/-u and of crash restart. */
  controlRounds: number;
  /** New services linked into svscan's directory, per implementation. */
  detectRounds: number;
  /** Idle window, seconds. */
  idleSeconds: number;
  /** svscan start-ups per implementation, for 50 and for 200 services. */
  scaleRounds: number;
  /** Input of the throughput figures, MB of 100-byte lines. */
  throughputMB: number;
  throughputRounds: number;
}

export const QUICK: Params = {
  quick: true,
  cliRounds: 9,
  controlRounds: 3,
  detectRounds: 3,
  idleSeconds: 10,
  scaleRounds: 1,
  throughputMB: 50,
  throughputRounds: 1,
};

export const FULL: Params = {
  quick: false,
  cliRounds: 31,
  controlRounds: 11,
  detectRounds: 7,
  idleSeconds: 60,
  scaleRounds: 3,
  throughputMB: 200,
  throughputRounds: 3,
};

export interface Ctx {
  procs: Procs;
  /** The benchmark's temporary directory: everything it creates is in here. */
  root: string;
  p: Params;
  log(msg: string): void;
}
