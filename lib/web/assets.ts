// The page's style sheet and script, served by svweb itself (nothing is
// fetched from elsewhere). The script keeps the table live: it listens to
// /api/events?html=1 (each change comes with the row as the server renders
// it), filters rows as one types, counts the time in each state, sends the
// controls with fetch, and follows a service's log.

export const CSS = `
:root { color-scheme: light dark; --bad: #c62828; --bad-bg: rgba(198, 40, 40, 0.14); --up: #2e7d32; --muted: #777; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; }
header { display: flex; align-items: center; justify-content: space-between; padding: 0.5em 1em; border-bottom: 1px solid #8884; }
h1 { font-size: 1.2em; margin: 0; } h1 .dir { font-weight: normal; color: var(--muted); font-family: monospace; }
main { padding: 0.5em 1em; }
.filter input { width: 20em; padding: 0.3em; }
#notice { min-height: 1.4em; margin: 0.3em 0; font-family: monospace; }
#notice.error { color: var(--bad); }
.live { color: var(--muted); margin: 0.2em 0; font-size: 0.9em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.25em 0.6em; border-bottom: 1px solid #8883; white-space: nowrap; }
td.state { white-space: normal; }
td.name a { font-family: monospace; text-decoration: none; }
tr.up td.state { color: var(--up); }
tr.bad { background: var(--bad-bg); } tr.bad td.state { color: var(--bad); font-weight: bold; }
tr.log td.name a { color: var(--muted); }
td.controls form { display: flex; gap: 0.2em; margin: 0; }
td.controls button { font-size: 0.85em; padding: 0.1em 0.4em; }
#log { margin-top: 1em; }
#log h2 { font-size: 1em; } #log pre { background: #111; color: #ddd; border: 1px solid #8884; padding: 0.5em; max-height: 28em; overflow: auto; white-space: pre-wrap; }
.login { max-width: 20em; margin: 4em auto; } .login label { display: block; margin: 0.5em 0; } .login input { width: 100%; }
.error { color: var(--bad); }
`;

export const JS = `'use strict';
(() => {
  const table = document.getElementById('services');
  const tbody = table.tBodies[0];
  const filter = document.getElementById('filter');
  const notice = document.getElementById('notice');
  const live = document.getElementById('live');
  const logSection = document.getElementById('log');
  const logLines = document.getElementById('log-lines');
  const logName = document.getElementById('log-name');
  let skew = 0;
  let events;
  let logEvents;

  const dur = (s) => {
    s = Math.max(0, Math.floor(s));
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
  };
  const tick = () => {
    const now = Date.now() - skew;
    for (const td of tbody.querySelectorAll('td[data-since]')) td.textContent = dur((now - Number(td.dataset.since)) / 1000);
    for (const td of tbody.querySelectorAll('td[data-restart-at]')) {
      const left = Math.ceil((Number(td.dataset.restartAt) - now) / 1000);
      td.textContent = td.textContent.replace(/restarting in \\d+ s/, left > 0 ? 'restarting in ' + left + ' s' : 'restarting');
    }
  };
  const applyFilter = () => {
    const f = filter.value;
    for (const tr of tbody.rows) tr.hidden = f !== '' && !tr.dataset.name.includes(f);
  };
  const say = (text, bad) => {
    notice.textContent = text;
    notice.className = bad ? 'error' : '';
  };
  const rowId = (name) => 's-' + encodeURIComponent(name);

  filter.addEventListener('input', applyFilter);
  filter.form.addEventListener('submit', (e) => { e.preventDefault(); applyFilter(); });
  setInterval(tick, 1000);

  const connect = () => {
    events = new EventSource('/api/events?html=1');
    events.addEventListener('open', () => { live.textContent = 'live'; });
    events.addEventListener('services', (e) => {
      const d = JSON.parse(e.data);
      skew = Date.now() - d.now;
      tbody.innerHTML = d.rows.join('');
      live.textContent = 'live: ' + d.rows.length + ' services';
      applyFilter();
    });
    events.addEventListener('service', (e) => {
      const d = JSON.parse(e.data);
      skew = Date.now() - d.now;
      const old = document.getElementById(rowId(d.name));
      if (!old) return;
      const hidden = old.hidden;
      old.outerHTML = d.row;
      document.getElementById(rowId(d.name)).hidden = hidden;
    });
    events.addEventListener('error', () => {
      live.textContent = 'reconnecting...';
      if (events.readyState !== EventSource.CLOSED) return;
      // refused (a restarted svweb forgot the session?): log in again, or try later
      setTimeout(() => {
        fetch('/api/session').then((r) => {
          if (r.status === 401) location.href = '/login';
          else connect();
        }, () => setTimeout(connect, 1000));
      }, 1000);
    });
  };
  connect();

  tbody.addEventListener('submit', (e) => {
    const form = e.target;
    const button = e.submitter;
    if (!button) return;
    e.preventDefault();
    const name = form.closest('tr').dataset.name;
    fetch(form.action, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': form.elements.csrf.value },
      body: JSON.stringify({ letters: button.value }),
    }).then((r) => r.json().then((d) => {
      if (r.ok) say(name + ': sent ' + button.textContent + ' (svc -' + d.sent + ')');
      else say(name + ': ' + button.textContent + ' failed: ' + d.error, true);
    })).catch((err) => say(name + ': ' + button.textContent + ' failed: ' + err, true));
  });

  const closeLog = () => {
    if (logEvents) logEvents.close();
    logEvents = undefined;
    logSection.hidden = true;
  };
  const openLog = (name) => {
    closeLog();
    logSection.hidden = false;
    logSection.dataset.name = name;
    logName.textContent = name;
    logLines.textContent = '';
    const add = (lines, replace) => {
      const atEnd = logLines.scrollTop + logLines.clientHeight >= logLines.scrollHeight - 4;
      if (replace) logLines.textContent = '';
      for (const line of lines) logLines.append(line + '\\n');
      while (logLines.childNodes.length > 2000) logLines.firstChild.remove();
      if (atEnd || replace) logLines.scrollTop = logLines.scrollHeight;
    };
    logEvents = new EventSource('/api/services/' + encodeURIComponent(name) + '/log/events?lines=100');
    logEvents.addEventListener('tail', (e) => add(JSON.parse(e.data).lines, true));
    logEvents.addEventListener('lines', (e) => add(JSON.parse(e.data).lines, false));
    logEvents.addEventListener('failure', (e) => { logLines.textContent = JSON.parse(e.data).error; logEvents.close(); });
    logSection.scrollIntoView({ block: 'nearest' });
  };
  tbody.addEventListener('click', (e) => {
    const a = e.target.closest('td.name a');
    if (!a) return;
    e.preventDefault();
    openLog(a.closest('tr').dataset.name);
  });
  document.getElementById('log-close').addEventListener('click', (e) => { e.preventDefault(); closeLog(); });
  if (logSection.dataset.name) openLog(logSection.dataset.name);
})();
`;

