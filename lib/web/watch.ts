// What svweb's live page follows: the services of the scanned directory and
// their state. Driven by inotify (fs.watch) on the scanned directory, each
// service directory and each supervise/ directory (a supervise replaces
// supervise/status by a rename on every change), so a change is seen within
// milliseconds. A look at everything every 5 s catches what no file event
// tells (a supervise killed outright, a watch that could not be set).
// Watching starts with the first subscriber and stops with the last.
import fs from 'node:fs';
import path from 'node:path';
import { ServiceView, serviceNames, viewServices } from './services';

const SETTLE_MS = 15;
const RESCAN_MS = 5000;

export type WatchEvent = { kind: 'services'; services: ServiceView[] } | { kind: 'service'; service: ServiceView };

/** A view without what changes every second by itself: what decides whether to tell. */
function fingerprint(v: ServiceView): string {
  const { seconds: _seconds, ...rest } = v;
  return JSON.stringify(rest);
}

export class StatusWatch {
  private readonly subscribers = new Set<(e: WatchEvent) => void>();
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private views = new Map<string, ServiceView>();
  private printed = new Map<string, string>();
  private names: string[] = [];
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
    fn({ kind: 'services', services: this.names.map((n) => this.views.get(n)!) });
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
    this.rescanTimer = setInterval(() => this.rescan(true), RESCAN_MS);
  }

  private stop(): void {
    clearInterval(this.rescanTimer);
    clearTimeout(this.settle);
    this.settle = undefined;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    this.views.clear();
    this.printed.clear();
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
    for (const v of viewServices(this.dir, names)) this.update(v, true);
  }

  private update(v: ServiceView, tell: boolean): void {
    this.views.set(v.name, v);
    const print = fingerprint(v);
    if (this.printed.get(v.name) === print) return;
    this.printed.set(v.name, print);
    if (tell) this.emit({ kind: 'service', service: v });
  }

  /** Lists the services again, reads them all, and watches what is new; `tell`: emit what changed. */
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
    const views = viewServices(this.dir, names);
    this.names = names;
    if (listChanged) {
      this.views = new Map();
      this.printed = new Map();
    }
    for (const v of views) this.update(v, tell && !listChanged);
    if (listChanged && tell) this.emit({ kind: 'services', services: views });
  }
}
