// Where services live. Two directories: the scanned one (svscan watches it;
// each entry is a link to a service) and the services directory (where
// svctl builds the service directories, outside the scanned one, so that
// svscan never sees one half written).
//
//   root:   /service                                   /etc/daemontools-node/services
//   others: $XDG_DATA_HOME/daemontools-node/service    $XDG_DATA_HOME/daemontools-node/services
//           ($XDG_DATA_HOME defaults to $HOME/.local/share)
//
// --scan-dir / --services-dir win over SVCTL_SCANDIR / SVCTL_SERVICES,
// which win over these defaults.
import path from 'node:path';
import { usageError } from './fail';

export interface Places {
  /** the directory svscan scans (absolute) */
  scanDir: string;
  /** where svctl builds service directories (absolute) */
  servicesDir: string;
}

export const ROOT_SCAN_DIR = '/service';
export const ROOT_SERVICES_DIR = '/etc/daemontools-node/services';

export interface PlaceOptions {
  scanDir?: string;
  servicesDir?: string;
}

function userBase(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_DATA_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'daemontools-node');
  const home = env.HOME;
  if (!home || !path.isAbsolute(home)) {
    throw usageError('HOME is not set (or not absolute): give --scan-dir and --services-dir, or SVCTL_SCANDIR and SVCTL_SERVICES');
  }
  return path.join(home, '.local', 'share', 'daemontools-node');
}

/** The two directories for this user, options first, then the environment, then the defaults. */
export function placesFor(opts: PlaceOptions, env: NodeJS.ProcessEnv = process.env, euid: number = process.geteuid!()): Places {
  const given = (option: string | undefined, variable: string | undefined): string | undefined =>
    option !== undefined && option !== '' ? option : variable !== undefined && variable !== '' ? variable : undefined;
  const scan = given(opts.scanDir, env.SVCTL_SCANDIR);
  const services = given(opts.servicesDir, env.SVCTL_SERVICES);
  const base = (): string => userBase(env);
  return {
    scanDir: path.resolve(scan ?? (euid === 0 ? ROOT_SCAN_DIR : path.join(base(), 'service'))),
    servicesDir: path.resolve(services ?? (euid === 0 ? ROOT_SERVICES_DIR : path.join(base(), 'services'))),
  };
}
