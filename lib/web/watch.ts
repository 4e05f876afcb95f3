// What svweb's live page follows: the services of the scanned directory and
// their state. Driven by inotify (fs.watch) on the scanned directory, each
// service directory and each supervise/ directory (a supervise replaces
// supervise/status by a rename on every change), so a change is seen within
// milliseconds. A look at everything every 5 s catches what no file event
// tells (a supervise killed outright, a watch that could not be set): it
// stats supervise/status, supervise/info and `down` and opens supervise/ok,
// and reads in full (viewServices) only the services where any of that
// changed, so that an idle svweb with a page open costs next to nothing.
// Watching starts with the first subscriber and stops with the last.
import fs from 'node:fs';
import path from 'node:path';
import { secondsSince } from '../control/svstat-report';
import { ServiceView, serviceNames, viewServices } from './services';
import { trimHeap } from '../os/heap-trim';

const SETTLE_MS = 15;
const RESCAN_MS = 5000;

export type WatchEvent = { kind: 'services'; services: ServiceView[] } | { kind: 'service'; service: ServiceView };

/** A view without what changes every second by itself: what decides whether to tell. */
function fingerprint(v: ServiceView): string {
  const { seconds: _seconds, ...rest } = v;
  return JSON.stringify(rest);
}

/** The view with its seconds counted to now (a view is read again only when it changes). */
function secondsNow(v: ServiceView, nowUnix: number): ServiceView {
  if (v.since === undefined) return v;
  return { ...v, seconds: Number(secondsSince(Buffer.from(v.since.slice(1), 'hex').readBigUInt64BE(0), nowUnix)) };
}

const LOOK_SIZE = 10;

/**
 * What a full read of a service depends on, cheaply: whether `down` is
 * there, whether a supervise answers on supervise/ok (or the error), and
 * the identity of supervise/status and supervise/info (inode, mtime,
 * ctime, size: a supervise replaces both by a rename at every change).
 * Written into `out`; negative numbers are errnos.
 */
class Prober {
  private readonly down: string;
  private readonly ok: string;
  private readonly status: string;
  private readonly info: string;

  constructor(serviceDir: string) {
    this.down = path.join(serviceDir, 'down');
    this.ok = path.join(serviceDir, 'supervise', 'ok');
    this.status = path.join(serviceDir, 'supervise', 'status');
    this.info = path.join(serviceDir, 'supervise', 'info');
  }

  look(out: Float64Array): void {
    out[0] = fs.existsSync(this.down) ? 1 : 0;
    out[1] = answers(this.ok);
    identity(this.status, out, 2);
    identity(this.info, out, 6);
  }
}

function errno(e: unknown): number {
  const n = (e as NodeJS.ErrnoException).errno;
  return typeof n === 'number' && n < 0 ? n : -1;
}

/** 1 when a supervise holds supervise/ok open (as svstat and svok ask it), an errno (ENXIO: none) otherwise. */
function answers(p: string): number {
  try {
    fs.closeSync(fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
    return 1;
  } catch (e) {
    return errno(e);
  }
}

function identity(p: string, out: Float64Array, at: number): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(p, { throwIfNoEntry: false });
  } catch (e) {
    out.fill(errno(e), at, at + 4);
    return;
  }
  if (st === undefined) {
    out.fill(0, at, at + 4);
    return;
  }
  out[at] = st.ino;
  out[at + 1] = st.mtimeMs;
  out[at + 2] = st.ctimeMs;
  out[at + 3] = st.size;
}

/** Whether a and b hold the same numbers. */
function same(a: Float64Array, b: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class StatusWatch {
  private readonly subscribers = new Set<(e: WatchEvent) => void>();
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private views = new Map<string, ServiceView>();
  private printed = new Map<string, string>();
  private names: string[] = [];
  private readonly probers = new Map<string, Prober>();
  /** per service, what its prober saw before its view was last read */
  private readonly looks = new Map<string, Float64Array>();
  private readonly scratch = new Float64Array(LOOK_SIZE);
  private dirty = new Set<string>();
  private settle?: NodeJS.Timeout;
  private rescanTimer?: NodeJS.Timeout;
  private rescanWanted = false;

  constructor(private readonly dir: string) {}

  /** How many directories are watched now. */
  get watching(): number {
    return this.watchers.size;
  }

  /** Calls fn with every change from now on (after one `services` event with them all); returns the unsubscribe. */
  subscribe(fn: (e: WatchEvent) => void): () => void {
    if (this.subscribers.size === 0) this.start();
    this.subscribers.add(fn);
    const nowUnix = Math.floor(Date.now() / 1000);
    fn({ kind: 'services', services: this.names.map((n) => secondsNow(this.views.get(n)!, nowUnix)) });
    return () => {
      this.subscribers.delete(fn);
      if (this.subscribers.size === 0) this.stop();
    };
  }

  private emit(e: WatchEvent): void {
    for (const fn of this.subscribers) fn(e);
  }

  private start(): void {
    this.rescan(false);
    this.rescanTimer = setInterval(() => {
      this.rescan(true);
      trimHeap();
    }, RESCAN_MS);
  }

  private stop(): void {
    clearInterval(this.rescanTimer);
    clearTimeout(this.settle);
    this.settle = undefined;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    this.views.clear();
    this.printed.clear();
    this.probers.clear();
    this.looks.clear();
    this.names = [];
  }

  private watch(p: string, onEvent: (file: string | null) => void): void {
    if (this.watchers.has(p)) return;
    try {
      const w = fs.watch(p, { persistent: false }, (_, file) => onEvent(file));
      w.on('error', () => {
        w.close();
        if (this.watchers.get(p) === w) this.watchers.delete(p);
      });
      this.watchers.set(p, w);
    } catch {
      // not there (yet): the rescan tries again
    }
  }

  private changed(name: string): void {
    this.dirty.add(name);
    this.settle ??= setTimeout(() => this.flush(), SETTLE_MS);
  }

  private flush(): void {
    this.settle = undefined;
    if (this.rescanWanted) {
      this.rescanWanted = false;
      this.dirty.clear();
      this.rescan(true);
      return;
    }
    const names = [...this.dirty].filter((n) => this.views.has(n));
    this.dirty.clear();
    for (const name of names) this.look(name);
    for (const v of viewServices(this.dir, names)) this.update(v, true);
  }

  private update(v: ServiceView, tell: boolean): void {
    this.views.set(v.name, v);
    const print = fingerprint(v);
    if (this.printed.get(v.name) === print) return;
    this.printed.set(v.name, print);
    if (tell) this.emit({ kind: 'service', service: v });
  }

  /** Looks at the service (its prober); whether that differs from the last look. */
  private look(name: string): boolean {
    let prober = this.probers.get(name);
    if (!prober) {
      prober = new Prober(path.join(this.dir, name));
      this.probers.set(name, prober);
    }
    prober.look(this.scratch);
    const last = this.looks.get(name);
    if (last && same(last, this.scratch)) return false;
    if (last) last.set(this.scratch);
    else this.looks.set(name, Float64Array.from(this.scratch));
    return true;
  }

  /**
   * Lists the services again and watches what is new; reads them all when
   * the list changed, else only those whose look changed. `tell`: emit what
   * changed.
   */
  private rescan(tell: boolean): void {
    let names: string[];
    try {
      names = serviceNames(this.dir);
    } catch {
      names = [];
    }
    this.watch(this.dir, () => {
      this.rescanWanted = true;
      this.settle ??= setTimeout(() => this.flush(), SETTLE_MS);
    });
    const listChanged = names.join('\0') !== this.names.join('\0');
    const keep = new Set([this.dir]);
    for (const name of names) {
      const serviceDir = path.join(this.dir, name);
      const supervise = path.join(serviceDir, 'supervise');
      keep.add(serviceDir).add(supervise);
      // the service dir: `down`, a new supervise/ (and, for a service, a new
      // log/); what else the service writes there changes nothing shown
      this.watch(serviceDir, (file) => {
        if (file === 'supervise' && !this.watchers.has(supervise)) this.watch(supervise, () => this.changed(name));
        if (file === 'log' && !name.endsWith('/log')) this.rescanWanted = true;
        if (file === null || file === 'down' || file === 'supervise' || file === 'log') this.changed(name);
      });
      this.watch(supervise, () => this.changed(name));
    }
    for (const [p, w] of this.watchers) {
      if (!keep.has(p)) {
        w.close();
        this.watchers.delete(p);
      }
    }
    if (!listChanged) {
      const changed = names.filter((name) => this.look(name));
      for (const v of viewServices(this.dir, changed)) this.update(v, tell);
      return;
    }
    const listed = new Set(names);
    for (const name of this.probers.keys()) {
      if (!listed.has(name)) {
        this.probers.delete(name);
        this.looks.delete(name);
      }
    }
    for (const name of names) this.look(name);
    const views = viewServices(this.dir, names);
    this.names = names;
    this.views = new Map();
    this.printed = new Map();
    for (const v of views) this.update(v, false);
    if (tell) this.emit({ kind: 'services', services: views });
  }
}
