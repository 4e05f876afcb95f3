// svweb's HTTP server: the page, the JSON API, the live events, /metrics.
// Every request goes through the same gate: size limits (headers by Node's
// parser, bodies here), the Host check (no authentication: only a loopback
// name, against DNS rebinding), authentication (a session cookie or HTTP
// basic, when there is a password file), and for a POST the Origin check and
// the CSRF token. Service names are entries of the scanned directory only.
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { errnoCode, reason } from '../os/errors';
import { SVC_LETTERS, commandBytes, sendControl } from '../control/svc-control';
import { Auth } from './auth';
import { CSS, JS } from './assets';
import { LogFollower, logFile, tail } from './log';
import { PageContext, renderLogin, renderPage, renderRow } from './page';
import { ServiceView, inServiceDir, isServiceName, readServices, serviceNames, viewServices } from './services';
import { StatusWatch, WatchEvent } from './watch';

export const MAX_BODY = 16 * 1024;
export const MAX_HEADER = 8 * 1024;
export const MAX_URL = 2048;
const MAX_STREAMS = 200;
const MAX_LOG_LINES = 5000;
const HEARTBEAT_MS = 25_000;
const COOKIE = 'svweb_session';

export interface ServerOptions {
  /** the scanned directory (absolute) */
  dir: string;
  auth: Auth;
  readOnly: boolean;
  /** the metrics of the services (lib/web/metrics.ts), when /metrics is served */
  metrics?: { contentType: string; render: (services: ServiceView[]) => Promise<string> };
}

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** Who asks: the user, and what the CSRF token is bound to. */
interface Client {
  user: string;
  binding: string;
  session?: string;
}

const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-store',
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

function send(res: http.ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value) + '\n', headers);
}

function redirect(res: http.ServerResponse, location: string, headers: Record<string, string> = {}): void {
  send(res, 303, 'text/plain; charset=utf-8', '', { Location: location, ...headers });
}

function cookies(req: http.IncomingMessage): Map<string, string> {
  const jar = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) jar.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return jar;
}

/** The request body (at most MAX_BODY bytes: 413 beyond). */
function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) return Promise.reject(new HttpError(413, `request body larger than ${MAX_BODY} bytes`));
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_BODY) {
        req.pause();
        reject(new HttpError(413, `request body larger than ${MAX_BODY} bytes`));
        return;
      }
      parts.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

/** The fields of a JSON object or urlencoded form body; `form` tells which it was. */
async function readFields(req: http.IncomingMessage): Promise<{ fields: Map<string, string>; form: boolean }> {
  const body = await readBody(req);
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const fields = new Map<string, string>();
  if (type === 'application/x-www-form-urlencoded') {
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) fields.set(k, v);
    return { fields, form: true };
  }
  if (type === 'application/json') {
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      throw new HttpError(400, 'the body is not JSON');
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'the body is not a JSON object');
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string') throw new HttpError(400, `${k} is not a string`);
      fields.set(k, v);
    }
    return { fields, form: false };
  }
  throw new HttpError(415, 'the body must be application/json or application/x-www-form-urlencoded');
}

function isLoopbackHost(host: string): boolean {
  const name = host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (net.isIPv4(name)) return name.startsWith('127.');
  return name === '::1';
}

export class SvwebServer {
  readonly server: http.Server;
  private readonly watch: StatusWatch;
  private readonly streams = new Set<http.ServerResponse>();

  constructor(private readonly opts: ServerOptions) {
    this.watch = new StatusWatch(opts.dir);
    this.server = http.createServer(
      { maxHeaderSize: MAX_HEADER, requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5000 },
      (req, res) => {
        this.handle(req, res).catch((e: unknown) => this.fail(res, e));
      },
    );
    this.server.maxConnections = 1000;
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return socket.destroy();
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const body = JSON.stringify({ error: status === 431 ? 'request headers too large' : 'bad request' }) + '\n';
      socket.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
  }

  listen(port: number, host: string): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  close(): void {
    for (const s of this.streams) s.destroy();
    this.server.close();
    this.server.closeAllConnections();
  }

  private fail(res: http.ServerResponse, e: unknown): void {
    if (e instanceof HttpError) {
      const headers = e.status === 413 ? { ...e.headers, Connection: 'close' } : e.headers;
      sendJson(res, e.status, { error: e.message }, headers);
      return;
    }
    sendJson(res, 500, { error: `internal error: ${reason(e)}` });
  }

  /** Who the client is, or undefined when authentication is required and missing or wrong. */
  private async client(req: http.IncomingMessage): Promise<Client | undefined> {
    const auth = this.opts.auth;
    if (!auth.required) return { user: 'anonymous', binding: 'anonymous' };
    const session = cookies(req).get(COOKIE);
    if (session) {
      const user = auth.session(session);
      if (user) return { user, binding: `session:${session}`, session };
    }
    const header = req.headers.authorization;
    if (header) {
      const user = await auth.basic(header);
      if (user) return { user, binding: `user:${user}` };
    }
    return undefined;
  }

  /**
   * A POST's protection against cross-site requests: its Origin (or
   * Referer) is this server's (http, or https through a proxy that keeps
   * the Host), and the token is right.
   */
  private checkPost(req: http.IncomingMessage, binding: string, token: string | undefined): void {
    const host = req.headers.host ?? '';
    const ours = [`http://${host}`, `https://${host}`];
    const origin = req.headers.origin;
    const referer = req.headers.referer;
    if (origin !== undefined) {
      if (!ours.includes(origin)) throw new HttpError(403, 'cross-site request refused (Origin)');
    } else if (referer !== undefined) {
      if (!ours.some((o) => referer === o || referer.startsWith(o + '/'))) throw new HttpError(403, 'cross-site request refused (Referer)');
    }
    if (req.headers['sec-fetch-site'] === 'cross-site') throw new HttpError(403, 'cross-site request refused');
    if (!this.opts.auth.checkCsrf(binding, token)) throw new HttpError(403, 'missing or wrong CSRF token');
  }

  private csrf(client: Client): string {
    return this.opts.auth.csrfToken(client.binding);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    if (url.length > MAX_URL) throw new HttpError(414, 'URL too long');
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    if (!pathname.startsWith('/')) throw new HttpError(400, 'bad request target');
    const method = req.method ?? 'GET';
    if (!this.opts.auth.required && !isLoopbackHost(req.headers.host ?? '')) {
      throw new HttpError(403, 'without authentication only a loopback host name is served (Host)');
    }
    let segments: string[];
    try {
      segments = pathname.slice(1).split('/').map((s) => decodeURIComponent(s));
    } catch {
      throw new HttpError(400, 'bad percent-encoding in the path');
    }
    const route = (methods: string[]): void => {
      if (!methods.includes(method)) throw new HttpError(405, `method ${method} not allowed`, { Allow: methods.join(', ') });
    };

    // public: the style sheet, the script, the login form
    if (pathname === '/app.css' || pathname === '/app.js') {
      route(['GET', 'HEAD']);
      const [type, body] = pathname === '/app.css' ? ['text/css; charset=utf-8', CSS] : ['text/javascript; charset=utf-8', JS];
      send(res, 200, type, body, { 'Cache-Control': 'no-cache' });
      return;
    }
    if (pathname === '/favicon.ico') {
      route(['GET', 'HEAD']);
      send(res, 204, 'image/x-icon', '');
      return;
    }
    if (pathname === '/login') {
      route(['GET', 'POST']);
      await this.login(req, res, method);
      return;
    }

    const client = await this.client(req);
    if (!client) {
      if (method === 'GET' && !pathname.startsWith('/api/') && pathname !== '/metrics') {
        redirect(res, '/login');
        return;
      }
      throw new HttpError(401, 'authentication required', { 'WWW-Authenticate': 'Basic realm="svweb", charset="UTF-8"' });
    }

    if (pathname === '/') {
      route(['GET', 'HEAD']);
      await this.page(res, client, query);
      return;
    }
    if (pathname === '/logout') {
      route(['POST']);
      const { fields } = await readFields(req);
      this.checkPost(req, client.binding, fields.get('csrf') ?? headerToken(req));
      if (client.session) this.opts.auth.logout(client.session);
      redirect(res, this.opts.auth.required ? '/login' : '/', { 'Set-Cookie': `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0` });
      return;
    }
    if (pathname === '/metrics' && this.opts.metrics) {
      route(['GET', 'HEAD']);
      const text = await this.opts.metrics.render(await readServices(this.opts.dir));
      send(res, 200, this.opts.metrics.contentType, text);
      return;
    }
    if (segments[0] !== 'api') throw new HttpError(404, 'not found');
    if (pathname === '/api/session') {
      route(['GET', 'HEAD']);
      sendJson(res, 200, { user: client.user, csrf: this.csrf(client), readOnly: this.opts.readOnly, dir: this.opts.dir });
      return;
    }
    if (pathname === '/api/events') {
      route(['GET']);
      this.events(req, res, client, query.get('html') === '1');
      return;
    }
    if (segments[1] !== 'services') throw new HttpError(404, 'not found');
    if (segments.length === 2) {
      route(['GET', 'HEAD']);
      sendJson(res, 200, await readServices(this.opts.dir));
      return;
    }
    const name = this.serviceName(segments[2]);
    const rest = segments.slice(3).join('/');
    if (rest === '') {
      route(['GET', 'HEAD']);
      sendJson(res, 200, viewServices(this.opts.dir, [name])[0]);
    } else if (rest === 'control') {
      route(['POST']);
      await this.control(req, res, client, name);
    } else if (rest === 'log') {
      route(['GET', 'HEAD']);
      const lines = logLines(query.get('lines'));
      const file = this.logOf(name);
      sendJson(res, 200, { name, file, lines: tail(file, lines).lines });
    } else if (rest === 'log/events') {
      route(['GET']);
      this.logEvents(req, res, name, logLines(query.get('lines')));
    } else {
      throw new HttpError(404, 'not found');
    }
  }

  /** A name from the URL: 400 unless it could be a service's, 404 unless it is one of dir's. */
  private serviceName(segment: string): string {
    if (!isServiceName(segment)) throw new HttpError(400, 'not a service name');
    if (!serviceNames(this.opts.dir).includes(segment)) throw new HttpError(404, `no service ${segment}`);
    return segment;
  }

  private logOf(name: string): string {
    const file = logFile(path.join(this.opts.dir, name));
    if (!file) throw new HttpError(404, `no log for ${name} (no log/run writing to a multilog directory in the service)`);
    return file;
  }

  private async login(req: http.IncomingMessage, res: http.ServerResponse, method: string): Promise<void> {
    const auth = this.opts.auth;
    const token = auth.csrfToken('login');
    if (!auth.required) {
      redirect(res, '/');
      return;
    }
    if (method === 'GET') {
      send(res, 200, 'text/html; charset=utf-8', renderLogin(token, false));
      return;
    }
    const { fields } = await readFields(req);
    this.checkPost(req, 'login', fields.get('csrf') ?? headerToken(req));
    const user = fields.get('user') ?? '';
    if (!(await auth.verify(user, fields.get('password') ?? ''))) {
      send(res, 401, 'text/html; charset=utf-8', renderLogin(token, true));
      return;
    }
    const session = auth.login(user);
    redirect(res, '/', { 'Set-Cookie': `${COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/` });
  }

  private context(client: Client): PageContext {
    return { csrf: this.csrf(client), readOnly: this.opts.readOnly, user: this.opts.auth.required ? client.user : undefined };
  }

  /** The page; its notice says what a form's control did (built here: no text from the URL is shown as said by svweb). */
  private async page(res: http.ServerResponse, client: Client, query: URLSearchParams, failure?: string, status = 200): Promise<void> {
    const services = await readServices(this.opts.dir);
    const logName = query.get('log');
    let log: { name: string; lines?: string[]; error?: string } | undefined;
    if (logName !== null) {
      try {
        log = { name: logName, lines: tail(this.logOf(this.serviceName(logName)), 100).lines };
      } catch (e) {
        log = { name: logName, error: e instanceof HttpError ? e.message : reason(e) };
      }
    }
    const service = query.get('service') ?? '';
    const sent = query.get('sent') ?? '';
    const notice =
      failure ?? (isServiceName(service) && /^[a-z0-9]{1,32}$/.test(sent) && [...sent].every((c) => SVC_LETTERS.includes(c))
        ? `${service}: sent svc -${sent}`
        : undefined);
    const html = renderPage(this.opts.dir, services, this.context(client), { filter: query.get('filter') ?? undefined, notice, log });
    send(res, status, 'text/html; charset=utf-8', html);
  }

  private async control(req: http.IncomingMessage, res: http.ServerResponse, client: Client, name: string): Promise<void> {
    const { fields, form } = await readFields(req);
    this.checkPost(req, client.binding, form ? fields.get('csrf') : headerToken(req) ?? fields.get('csrf'));
    if (this.opts.readOnly) throw new HttpError(403, 'read-only: svweb sends no controls');
    const letters = fields.get('letters');
    if (!letters) throw new HttpError(400, 'letters missing (e.g. {"letters":"du"})');
    if (letters.length > 32) throw new HttpError(400, 'too many letters');
    const unknown = [...letters].find((c) => !SVC_LETTERS.includes(c));
    if (unknown !== undefined) throw new HttpError(400, `unknown letter ${JSON.stringify(unknown)}: svc knows ${SVC_LETTERS}`);
    const bytes = commandBytes([...letters]);
    const failed = inServiceDir(path.join(this.opts.dir, name), () => sendControl(bytes));
    if (failed) {
      const code = errnoCode(failed.error);
      const notSupervised = failed.step === 'open' && (code === 'ENXIO' || code === 'ENOENT');
      const message = notSupervised
        ? `unable to control ${name}: supervise not running`
        : `unable to control ${name}: ${reason(failed.error)}`;
      // the FIFO's permissions decide who controls a service
      const status = notSupervised ? 409 : code === 'EACCES' || code === 'EPERM' ? 403 : 500;
      if (form) {
        await this.page(res, client, new URLSearchParams(), message, status);
        return;
      }
      throw new HttpError(status, message);
    }
    const sent = bytes.toString('latin1');
    if (form) redirect(res, `/?${new URLSearchParams({ service: name, sent })}`);
    else sendJson(res, 200, { name, sent });
  }

  /** Starts a server-sent event stream (limited in number: 503 beyond). */
  private stream(req: http.IncomingMessage, res: http.ServerResponse, onClose: () => void): (event: string, data: unknown) => void {
    if (this.streams.size >= MAX_STREAMS) throw new HttpError(503, 'too many event streams');
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no' });
    res.socket?.setNoDelay(true);
    req.socket.setTimeout(0);
    res.write('retry: 1000\n\n');
    this.streams.add(res);
    const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
    res.on('close', () => {
      clearInterval(heartbeat);
      this.streams.delete(res);
      onClose();
    });
    return (event, data) => {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
  }

  private events(req: http.IncomingMessage, res: http.ServerResponse, client: Client, html: boolean): void {
    let unsubscribe: (() => void) | undefined;
    let closed = false;
    const write = this.stream(req, res, () => {
      closed = true;
      unsubscribe?.();
    });
    const ctx = this.context(client);
    const tell = (e: WatchEvent): void => {
      const now = Date.now();
      if (e.kind === 'services') {
        write('services', html ? { now, rows: e.services.map((v) => renderRow(v, ctx, now)) } : { now, services: e.services });
      } else {
        write('service', html ? { now, name: e.service.name, row: renderRow(e.service, ctx, now) } : { now, service: e.service });
      }
    };
    const off = this.watch.subscribe(tell);
    if (closed) off();
    else unsubscribe = off;
  }

  private logEvents(req: http.IncomingMessage, res: http.ServerResponse, name: string, lines: number): void {
    const file = this.logOf(name);
    const first = tail(file, lines);
    let follower: LogFollower | undefined;
    const write = this.stream(req, res, () => follower?.close());
    write('tail', { name, file, lines: first.lines });
    const failed = (e: unknown): void => {
      write('failure', { error: `unable to follow ${file}: ${reason(e)}` });
      res.end();
    };
    try {
      follower = new LogFollower(file, first.end, (more) => write('lines', { lines: more }), failed);
    } catch (e) {
      failed(e);
    }
  }
}

function headerToken(req: http.IncomingMessage): string | undefined {
  const t = req.headers['x-csrf-token'];
  return typeof t === 'string' ? t : undefined;
}

function logLines(text: string | null): number {
  if (text === null) return 100;
  if (!/^\d{1,6}$/.test(text)) throw new HttpError(400, 'lines must be a number');
  const n = Number(text);
  if (n > MAX_LOG_LINES) throw new HttpError(400, `lines must be at most ${MAX_LOG_LINES}`);
  return n;
}
