// svweb's metrics in the Prometheus text exposition format (prom-client):
// one series per service and metric, labelled `service`, from what
// `svstat --json` reports (lib/web/services.ts), and svweb's own process
// metrics. The names and labels are documented in the README and stay
// stable: dashboards and alert rules are written against them.
import os from 'node:os';
import { Counter, Gauge, Registry } from 'prom-client';
import { VERSION } from '../os/help';
import { parse } from '../tai64';
import { lastExitIn } from '../control/svstat-info';
import type { ServiceView } from './services';

/** The Content-Type of renderMetrics' text (the Prometheus text format 0.0.4). */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

const P = 'daemontools_service_';
const LABELS = ['service'] as const;
type Label = (typeof LABELS)[number];

/** The help line of each per-service gauge (every one 0/1 or a number, labelled `service`). */
const GAUGES = {
  supervised: 'Whether a supervisor runs for the service and its supervise/status could be read (1) or not (0).',
  up: 'Whether the service runs (1: supervise/status names a pid) or not (0).',
  state_seconds: 'Seconds since the service last went up or down (svstat\'s figure).',
  state_change_timestamp_seconds: 'Unix time of the last time the service went up or down (supervise/status).',
  want_up: 'Whether the supervisor is asked to keep the service up (1) or not (0: down, or once).',
  normally_up: 'Whether the service starts when its supervisor starts (1: no ./down file).',
  paused: 'Whether the service is paused (svc -p: SIGSTOP sent).',
  ready: 'Whether the service is up and ready (notification-fd told it, or it has none).',
  failed_starts_in_row: 'Failed starts in a row (our supervise only).',
  gave_up: 'Whether the supervisor gave up after start-retries failed starts (our supervise only).',
  last_exit_code: 'Exit code of the last ./run that exited (absent when it was killed by a signal or is unknown).',
  last_exit_signal: 'Signal number that ended the last ./run, 0 when it exited (absent when unknown).',
  last_exit_timestamp_seconds: 'Unix time of the end of the last ./run (our supervise only).',
} as const;

const COUNTERS = {
  starts_total: 'Starts of ./run since the supervisor started (our supervise only).',
  failures_total: 'Start attempts that failed since the supervisor started (our supervise only).',
} as const;

type GaugeName = keyof typeof GAUGES;
type CounterName = keyof typeof COUNTERS;

// svweb's own process: one registry for the life of the process (its
// collectors keep state: CPU totals, GC histograms), made at the first scrape
let processRegistry: Registry | undefined;

type DefaultMetric = (registry: Registry, config: object) => void;

/**
 * prom-client's default metrics (collectDefaultMetrics) but the event loop
 * lag: its monitorEventLoopDelay() wakes the process every 10 ms, and svweb
 * must idle with no wakeups beyond its own timers.
 */
function defaultMetrics(): DefaultMetric[] {
  /* eslint-disable @typescript-eslint/no-require-imports */
  return [
    require('prom-client/lib/metrics/processCpuTotal'),
    require('prom-client/lib/metrics/processStartTime'),
    require('prom-client/lib/metrics/osMemoryHeap'),
    require('prom-client/lib/metrics/processOpenFileDescriptors'),
    require('prom-client/lib/metrics/processMaxFileDescriptors'),
    ...(typeof process.getActiveResourcesInfo === 'function' ? [require('prom-client/lib/metrics/processResources')] : []),
    require('prom-client/lib/metrics/processHandles'),
    require('prom-client/lib/metrics/processRequests'),
    require('prom-client/lib/metrics/heapSizeAndUsed'),
    require('prom-client/lib/metrics/heapSpacesSizeAndUsed'),
    require('prom-client/lib/metrics/version'),
    require('prom-client/lib/metrics/gc'),
  ] as DefaultMetric[];
  /* eslint-enable @typescript-eslint/no-require-imports */
}

const LINT_REFUSED = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

function ownProcess(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    for (const register of defaultMetrics()) register(processRegistry, {});
    // gauges named like counters (promtool's lint refuses them); the
    // per-type nodejs_active_handles and nodejs_active_resources stay
    for (const name of LINT_REFUSED) processRegistry.removeSingleMetric(name);
    new Gauge({
      name: 'daemontools_svweb_build_info',
      help: 'svweb\'s version (the value is always 1).',
      labelNames: ['version'],
      registers: [processRegistry],
    }).set({ version: VERSION }, 1);
  }
  return processRegistry;
}

/** Unix seconds (with the fraction) of a TAI64N label; undefined for anything else. */
function unixSeconds(label: unknown): number | undefined {
  if (typeof label !== 'string') return undefined;
  const t = parse(label);
  return t ? t.sec + t.nano / 1e9 : undefined;
}

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function signalNumber(name: unknown): number | undefined {
  if (typeof name !== 'string') return undefined;
  const n = (os.constants.signals as Record<string, number | undefined>)[name];
  if (n !== undefined) return n;
  const m = /^(?:SIG)?(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

function bit(b: boolean | undefined | null): number {
  return b ? 1 : 0;
}

/** The per-service registry of one rendering: fresh each time, so that removed services leave no series behind. */
function servicesRegistry(services: readonly ServiceView[]): Registry {
  const reg = new Registry();
  const gauges = Object.fromEntries(Object.entries(GAUGES).map(([name, help]) => [
    name, new Gauge<Label>({ name: P + name, help, labelNames: LABELS, registers: [reg] }),
  ])) as Record<GaugeName, Gauge<Label>>;
  const counters = Object.fromEntries(Object.entries(COUNTERS).map(([name, help]) => [
    name, new Counter<Label>({ name: P + name, help, labelNames: LABELS, registers: [reg] }),
  ])) as Record<CounterName, Counter<Label>>;
  const set = (name: GaugeName, service: string, v: number | undefined): void => {
    if (v !== undefined) gauges[name].set({ service }, v);
  };

  for (const s of services) {
    const service = s.name;
    const supervised = s.state === 'up' || s.state === 'down';
    set('supervised', service, bit(supervised));
    set('up', service, bit(s.state === 'up'));
    if (!supervised) continue;
    set('state_seconds', service, count(s.seconds));
    set('state_change_timestamp_seconds', service, unixSeconds(s.since));
    set('want_up', service, bit(s.want === 'up'));
    set('normally_up', service, bit(s.normallyUp));
    set('paused', service, bit(s.paused));
    set('ready', service, bit(s.ready));
    const info = s.info;
    if (!info) continue;
    // our supervise's supervise/info: what the 18 bytes of status cannot say
    const starts = count(info.starts);
    const failures = count(info.failures);
    if (starts !== undefined) counters.starts_total.inc({ service }, starts);
    if (failures !== undefined) counters.failures_total.inc({ service }, failures);
    set('failed_starts_in_row', service, count(s.failedInRow) ?? 0);
    set('gave_up', service, bit(s.gaveUp !== null && s.gaveUp !== undefined));
    const last = lastExitIn(info);
    if (last) {
      set('last_exit_timestamp_seconds', service, unixSeconds(last.at));
      if (last.code !== null) {
        set('last_exit_code', service, last.code);
        set('last_exit_signal', service, 0);
      } else {
        set('last_exit_signal', service, signalNumber(last.signal));
      }
    }
  }
  return reg;
}

export interface RenderOptions {
  /**
   * svweb's own process metrics (process_*, nodejs_*, daemontools_svweb_*);
   * true by default. The textfile leaves them out: node_exporter exposes
   * process_* of its own, and a textfile repeating those names is refused.
   */
  ownProcess?: boolean;
}

/** The Prometheus text exposition of every service (and, by default, of svweb's own process). */
export async function renderMetrics(services: readonly ServiceView[], opts: RenderOptions = {}): Promise<string> {
  const regs = [servicesRegistry(services)];
  if (opts.ownProcess !== false) regs.push(ownProcess());
  return Registry.merge(regs).metrics();
}
