// svweb's page, rendered on the server: the table of services (it works
// without JavaScript: the controls are forms), the log of one service, the
// login form. The script (lib/web/assets.ts) replaces rows with the ones the
// server renders for each change, so the table is written in one place.
import { lastExitIn } from '../control/svstat-info';
import type { ServiceView } from './services';

/** The controls on each row: svc's letter, the button's label, what it does. */
export const CONTROLS: ReadonlyArray<[string, string, string]> = [
  ['u', 'up', 'start it, restart it when it exits'],
  ['d', 'down', 'stop it (TERM, then CONT), do not restart it'],
  ['o', 'once', 'start it, do not restart it'],
  ['t', 'restart', 'send TERM: it restarts if wanted up'],
  ['k', 'kill', 'send KILL'],
  ['p', 'pause', 'send STOP'],
  ['c', 'continue', 'send CONT'],
];

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The URL path segment of a service name (`x/log` is one segment, `x%2Flog`). */
export function nameSegment(name: string): string {
  return encodeURIComponent(name);
}

/** Unix milliseconds of a TAI64N label `@` + 24 hex digits (leap seconds as the C tools count them: none). */
export function labelMs(label: string): number {
  const sec = Number(BigInt('0x' + label.slice(1, 17)) - (1n << 62n) - 10n);
  const nano = parseInt(label.slice(17, 25), 16);
  return sec * 1000 + Math.floor(nano / 1e6);
}

/** `3 s`, `5 min 2 s`, `2 h 10 min`, `4 d 3 h`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

function count(v: ServiceView, field: string): number | undefined {
  const x = v.info?.[field];
  return typeof x === 'number' ? x : undefined;
}

/** What the state column says: svstat's facts in words. */
export function stateText(v: ServiceView, nowMs = Date.now()): string {
  if (v.state === 'not running') return 'not supervised';
  if (v.state === 'error') return `error: ${v.error ?? ''}`;
  const parts: string[] = [v.state];
  if (v.state === 'up') {
    if (v.paused) parts.push('paused');
    if (v.readySince) parts.push('ready');
    if (v.finishing) parts.push('finishing');
    if (v.want === 'down') parts.push('want down');
    if (!v.normallyUp) parts.push('normally down');
  } else {
    if (v.restartAt) {
      const left = Math.ceil((labelMs(v.restartAt) - nowMs) / 1000);
      if (left > 0) parts.push(`restarting in ${left} s`);
    }
    if (v.gaveUp !== null && v.gaveUp !== undefined) parts.push(`gave up after ${v.gaveUp} failed starts`);
    if (v.finishing) parts.push('finishing');
    if (v.want === 'up') parts.push('want up');
    if (v.normallyUp) parts.push('normally up');
  }
  return parts.join(', ');
}

/** Wanted up but not up, crash looping, given up, unreadable: the rows that stand out. */
export function unhealthy(v: ServiceView): boolean {
  if (v.state === 'error') return true;
  if (v.state === 'not running') return false;
  if (v.state === 'down' && v.want === 'up') return true;
  if ((v.failedInRow ?? 0) > 0 || (v.gaveUp ?? null) !== null) return true;
  return false;
}

function lastExit(v: ServiceView): string {
  const last = lastExitIn(v.info);
  if (last?.signal) return last.signal;
  return last?.code !== null && last?.code !== undefined ? `exit ${last.code}` : '';
}

export interface PageContext {
  csrf: string;
  readOnly: boolean;
  user?: string;
}

/** One row of the table (the script swaps whole rows as they change). */
export function renderRow(v: ServiceView, ctx: PageContext, nowMs = Date.now()): string {
  const seg = nameSegment(v.name);
  const classes = [unhealthy(v) ? 'bad' : '', v.state === 'up' ? 'up' : '', v.name.endsWith('/log') ? 'log' : ''].filter((c) => c);
  const starts = count(v, 'starts');
  const failures = count(v, 'failures');
  const since = v.seconds !== undefined ? nowMs - v.seconds * 1000 : undefined;
  const controls = ctx.readOnly
    ? ''
    : `<td class="controls"><form method="post" action="/api/services/${seg}/control">` +
      `<input type="hidden" name="csrf" value="${escapeHtml(ctx.csrf)}">` +
      CONTROLS.map(([l, label, title]) => `<button name="letters" value="${l}" title="${title}">${label}</button>`).join('') +
      `</form></td>`;
  return (
    `<tr id="s-${escapeHtml(seg)}" data-name="${escapeHtml(v.name)}" data-state="${escapeHtml(v.state)}" class="${classes.join(' ')}">` +
    `<td class="name"><a href="/?log=${seg}#log">${escapeHtml(v.name)}</a></td>` +
    `<td class="state"${v.restartAt ? ` data-restart-at="${labelMs(v.restartAt)}"` : ''}>${escapeHtml(stateText(v, nowMs))}</td>` +
    `<td class="pid">${v.pid ?? ''}</td>` +
    `<td class="time"${since === undefined ? '' : ` data-since="${since}"`}>${v.seconds === undefined ? '' : duration(v.seconds)}</td>` +
    `<td class="starts">${starts === undefined ? '' : `${starts} / ${failures ?? 0}`}</td>` +
    `<td class="exit">${escapeHtml(lastExit(v))}</td>` +
    controls +
    `</tr>`
  );
}

function layout(title: string, body: string): string {
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeHtml(title)}</title><link rel="stylesheet" href="/app.css"></head>\n<body>${body}</body></html>\n`
  );
}

export interface LogPanel {
  name: string;
  lines?: string[];
  error?: string;
}

/** The whole page: header, filter box, table, and (when asked for by ?log=NAME) a service's log. */
export function renderPage(
  dir: string,
  services: readonly ServiceView[],
  ctx: PageContext,
  opts: { filter?: string; notice?: string; log?: LogPanel } = {},
): string {
  const filter = opts.filter ?? '';
  const shown = filter ? services.filter((v) => v.name.includes(filter)) : services;
  const head =
    `<header><h1>svweb <span class="dir">${escapeHtml(dir)}</span></h1>` +
    (ctx.user
      ? `<form method="post" action="/logout" class="logout"><input type="hidden" name="csrf" value="${escapeHtml(ctx.csrf)}">` +
        `<span>${escapeHtml(ctx.user)}</span> <button>log out</button></form>`
      : '') +
    `</header>`;
  const bar =
    `<form method="get" action="/" class="filter" role="search"><input type="search" name="filter" id="filter" ` +
    `placeholder="filter by name" value="${escapeHtml(filter)}" autocomplete="off"><button>filter</button></form>` +
    `<p id="notice" role="status">${escapeHtml(opts.notice ?? '')}</p>` +
    `<p id="live" class="live">${services.length} services</p>`;
  const table =
    `<table id="services" data-read-only="${ctx.readOnly}"><thead><tr><th>service</th><th>state</th><th>pid</th>` +
    `<th>for</th><th>starts / failures</th><th>last exit</th>${ctx.readOnly ? '' : '<th>control</th>'}</tr></thead>` +
    `<tbody>${shown.map((v) => renderRow(v, ctx)).join('\n')}</tbody></table>`;
  const log = opts.log;
  const logPanel =
    `<section id="log"${log ? ` data-name="${escapeHtml(log.name)}"` : ' hidden'}>` +
    `<h2>log of <span id="log-name">${escapeHtml(log?.name ?? '')}</span> <a href="/" id="log-close">close</a></h2>` +
    `<pre id="log-lines">${log?.error ? escapeHtml(log.error) : escapeHtml((log?.lines ?? []).join('\n'))}</pre></section>`;
  return layout(`svweb ${dir}`, `${head}<main>${bar}${table}${logPanel}</main>` + `<script src="/app.js" defer></script>`);
}

export function renderLogin(csrf: string, failed: boolean): string {
  return layout(
    'svweb: log in',
    `<main class="login"><h1>svweb</h1><form method="post" action="/login">` +
      `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">` +
      `<label>user <input name="user" autocomplete="username" required autofocus></label>` +
      `<label>password <input name="password" type="password" autocomplete="current-password" required></label>` +
      `<button>log in</button>${failed ? '<p class="error" role="alert">wrong user or password</p>' : ''}</form></main>`,
  );
}
