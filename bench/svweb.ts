// svweb (beyond 0.76; the C daemontools has none, so only our figures,
// beside the expectations): svweb on a tree of 50 services under
// svscan --host, idle over the idle window with no client and with one
// page connected (its event stream open), its memory, and the time from a
// status change (svc -d) to the event reaching the connected client; then
// the same for `svweb --textfile` (idle, memory, the file written again).
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { Ctx } from './context';
import { activity, alive, memory } from './procinfo';
import { scaleOnce, stopTree, Tree, VARIANTS } from './scan';
import { statusPid } from './services';
import { missing, OURS, prog } from './suites';
import { addRow, atMost, Budget } from './table';
import { checkAborted, errorText, median, nowMs, sleep, until } from './util';

const N = 50;
const SECTION = `svweb (beyond 0.76, no C counterpart): ${N} services under svscan --host`;
const TAI_UNIX = 0x4000000000000000n + 10n;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

/** The wall-clock ms of the last change in dir's status (TAI64N at offset 0). */
function changedAt(dir: string): number {
  const b = fs.readFileSync(path.join(dir, 'supervise', 'status'));
  return Number(b.readBigUInt64BE(0) - TAI_UNIX) * 1000 + b.readUInt32BE(8) / 1e6;
}

/** Whether a JSON value holds, at any depth, an object with this name and state. */
function mentions(v: unknown, name: string, state: string): boolean {
  if (Array.isArray(v)) return v.some((x) => mentions(x, name, state));
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  if (o.name === name && o.state === state) return true;
  return Object.values(o).some((x) => mentions(x, name, state));
}

/** One page's event stream: every `data:` payload, with the wall-clock ms it arrived. */
class EventStream {
  private received: Array<{ at: number; data: unknown }> = [];
  private req: http.ClientRequest;
  private buf = '';
  opened = false;

  constructor(url: string) {
    this.req = http.get(url, { headers: { Accept: 'text/event-stream' } }, (res) => {
      this.opened = res.statusCode === 200;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const at = Date.now();
        this.buf += chunk;
        let end: number;
        while ((end = this.buf.indexOf('\n\n')) >= 0) {
          const block = this.buf.slice(0, end);
          this.buf = this.buf.slice(end + 2);
          const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
          try {
            if (data) this.received.push({ at, data: JSON.parse(data) });
          } catch {
            // not JSON: not an event about a service
          }
        }
      });
    });
    this.req.on('error', () => undefined);
  }

  /** The arrival of the first event from `from` on that tells name is in state. */
  seen(from: number, name: string, state: string): number | undefined {
    return this.received.slice(from).find((e) => mentions(e.data, name, state))?.at;
  }

  get count(): number {
    return this.received.length;
  }

  close(): void {
    this.req.destroy();
  }
}

interface Idle {
  cpuMs: number;
  perMinute: number;
}

async function idleWindow(ctx: Ctx, pid: number): Promise<Idle> {
  const a = activity(pid);
  for (let i = 0; i < ctx.p.idleSeconds; i++) {
    checkAborted();
    await sleep(1000);
  }
  const b = activity(pid);
  return { cpuMs: (b.cpuNs - a.cpuNs) / 1e6, perMinute: ((b.switches - a.switches) * 60) / ctx.p.idleSeconds };
}

function svc(flag: string, dir: string): void {
  spawn(prog(OURS, 'svc'), [flag, dir], { stdio: 'ignore', env: OURS.env });
}

async function latencies(ctx: Ctx, stream: EventStream, dir: string, name: string, errors: string[]): Promise<number[]> {
  const times: number[] = [];
  for (let round = 0; round < ctx.p.controlRounds; round++) {
    try {
      const from = stream.count;
      svc('-d', dir);
      const seenAt = await until(() => stream.seen(from, name, 'down') !== undefined, `the event of ${name} down`, nowMs(), 10000, 1)
        .then(() => stream.seen(from, name, 'down')!);
      times.push(seenAt - changedAt(dir));
      const back = stream.count;
      svc('-u', dir);
      await until(() => stream.seen(back, name, 'up') !== undefined, `the event of ${name} up`, nowMs(), 10000, 5);
      await sleep(1100);
    } catch (e) {
      errors.push(errorText(e));
    }
  }
  return times;
}

interface ServerFigures {
  idle?: Idle;
  watched?: Idle;
  pssMB?: number;
  times: number[];
}

/** svweb serving the tree: idle with no client, idle with one page connected, memory, svc -d to the event. */
async function serverFigures(ctx: Ctx, tree: Tree, errors: string[]): Promise<ServerFigures> {
  const out: ServerFigures = { times: [] };
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const web = ctx.procs.start(prog(OURS, 'svweb'), ['--listen', `127.0.0.1:${port}`, tree.scan], { env: OURS.env, cwd: tree.base });
  const pid = web.pid!;
  let stream: EventStream | undefined;
  try {
    let ok = false;
    const t0 = nowMs();
    while (!ok) {
      if (!alive(pid)) throw new Error('svweb exited at start');
      ok = await get(`${base}/api/services`).then((s) => s === 200, () => false);
      if (nowMs() - t0 > 15000) throw new Error('svweb did not answer within 15 s');
      if (!ok) await sleep(100);
    }
    await sleep(20000); // start-up work done (V8 shrinks its heap some seconds after a busy start)
    ctx.log(`svweb: idle window with no client, ${ctx.p.idleSeconds} s`);
    out.idle = await idleWindow(ctx, pid);
    stream = new EventStream(`${base}/api/events`);
    await until(() => stream!.opened, 'the event stream to open', nowMs(), 5000, 10);
    await sleep(10000); // the watches set up, the first look at every service done
    ctx.log(`svweb: idle window with one page connected, ${ctx.p.idleSeconds} s`);
    out.watched = await idleWindow(ctx, pid);
    out.pssMB = memory(pid).pssKB / 1024;
    ctx.log('svweb: svc -d to the event');
    const dir = tree.dirs[0];
    await until(() => (statusPid(dir) ?? 0) !== 0, `${dir} up`, nowMs(), 10000);
    out.times = await latencies(ctx, stream, dir, path.basename(dir), errors);
  } catch (e) {
    errors.push(`svweb: ${errorText(e)}`);
  } finally {
    stream?.close();
    process.kill(pid, 'SIGTERM');
  }
  return out;
}

interface TextfileFigures {
  idle?: Idle;
  pssMB?: number;
  times: number[];
}

/** svweb --textfile on the tree: idle, memory, and svc -d to the file written again (its mtime). */
async function textfileFigures(ctx: Ctx, tree: Tree, errors: string[]): Promise<TextfileFigures> {
  const out: TextfileFigures = { times: [] };
  const file = path.join(tree.base, 'daemontools.prom');
  const writer = ctx.procs.start(prog(OURS, 'svweb'), ['--textfile', file, tree.scan], { env: OURS.env, cwd: tree.base });
  const pid = writer.pid!;
  const dir = tree.dirs[1];
  const name = path.basename(dir);
  const says = (up: 0 | 1): boolean => {
    try {
      return fs.readFileSync(file, 'latin1').includes(`daemontools_service_up{service="${name}"} ${up}\n`);
    } catch {
      return false;
    }
  };
  try {
    await until(() => says(1), 'the textfile', nowMs(), 15000, 50);
    await sleep(20000);
    ctx.log(`svweb --textfile: idle window, ${ctx.p.idleSeconds} s`);
    out.idle = await idleWindow(ctx, pid);
    out.pssMB = memory(pid).pssKB / 1024;
    for (let round = 0; round < ctx.p.controlRounds; round++) {
      svc('-d', dir);
      await until(() => says(0), `the textfile saying ${name} down`, nowMs(), 10000, 1);
      out.times.push(fs.statSync(file).mtimeMs - changedAt(dir));
      svc('-u', dir);
      await until(() => says(1), `the textfile saying ${name} up`, nowMs(), 10000, 5);
      await sleep(1100);
    }
  } catch (e) {
    errors.push(`svweb --textfile: ${errorText(e)}`);
  } finally {
    process.kill(pid, 'SIGTERM');
  }
  return out;
}

export async function svwebIdle(ctx: Ctx): Promise<void> {
  const why = missing(OURS, 'svweb');
  if (why) {
    addRow({ section: SECTION, figure: 'svweb', unit: '', single: true, note: why });
    return;
  }
  const errors: string[] = [];
  let tree: Tree | undefined;
  let server: ServerFigures = { times: [] };
  let textfile: TextfileFigures = { times: [] };
  try {
    tree = (await scaleOnce(ctx, VARIANTS.find((v) => v.key === 'host')!, N)).tree;
    server = await serverFigures(ctx, tree, errors);
    textfile = await textfileFigures(ctx, tree, errors);
  } catch (e) {
    errors.push(errorText(e));
  } finally {
    if (tree) stopTree(ctx, tree);
  }
  const note = errors.length ? errors.join('; ') : undefined;
  const row = (figure: string, unit: string, digits: number, ours: number | undefined, budget?: Budget): void =>
    void addRow({ section: SECTION, figure, unit, digits, single: true, ours, budget });
  const secs = ctx.p.idleSeconds;
  row(`svweb idle CPU over ${secs} s, no client`, 'ms', 1, server.idle?.cpuMs);
  row('svweb context switches a minute, no client', '', 0, server.idle?.perMinute, atMost(6, 'nothing: no timer runs'));
  row(`svweb idle CPU over ${secs} s, one page connected`, 'ms', 1, server.watched?.cpuMs);
  row('svweb context switches a minute, one page connected', '', 0, server.watched?.perMinute,
    atMost(30, 'only its timers: ≤ 2 × (a look every 5 s, a heartbeat every 25 s)'));
  row('svweb memory (PSS)', 'MB', 1, server.pssMB);
  row('status write (svc -d) to the event at a connected page', 'ms', 1, median(server.times), atMost(200, '≤ 200 ms'));
  row(`svweb --textfile idle CPU over ${secs} s`, 'ms', 1, textfile.idle?.cpuMs);
  row('svweb --textfile context switches a minute', '', 0, textfile.idle?.perMinute, atMost(30, 'only its timers: ≤ 2 × (a look every 5 s, a write a minute)'));
  row('svweb --textfile memory (PSS)', 'MB', 1, textfile.pssMB);
  addRow({ section: SECTION, figure: 'status write (svc -d) to the textfile written again', unit: 'ms', digits: 1, single: true,
    ours: median(textfile.times), note });
}
