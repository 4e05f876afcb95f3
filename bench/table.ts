// The results: one row per figure, printed as a Markdown table (so that the
// output can go straight into the README).

export interface Budget {
  /** e.g. "≤ 1.2 × node" */
  text: string;
  /** Whether the figure meets it; undefined when it cannot be judged. */
  met(row: Row): boolean | undefined;
}

export interface Row {
  section: string;
  figure: string;
  unit: string;
  ours?: number;
  c?: number;
  /** Ours in host mode (`svscan --host`), for the figures of supervision. */
  host?: number;
  /** The Node floor (`node -e 0`) of the same run, for CLI figures. */
  node?: number;
  /** The same floor without NODE_EXTRA_CA_CERTS (when the run has it set): the start our launchers give Node. */
  bareNode?: number;
  budget?: Budget;
  /** Why a value is missing. */
  note?: string;
  /** Digits after the point. */
  digits?: number;
  /** A reference value of its own (no C counterpart): only the ours column. */
  single?: boolean;
}

export const rows: Row[] = [];

export function addRow(r: Row): Row {
  rows.push(r);
  return r;
}

function num(v: number | undefined, digits: number): string {
  return v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits);
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b)) return 'n/a';
  if (b === 0) return a === 0 ? '1.00' : '∞';
  return (a / b).toFixed(2);
}

export function render(): string {
  const bare = rows.some((r) => r.bareNode !== undefined);
  const hosted = rows.some((r) => r.host !== undefined);
  const head = ['figure', 'unit', 'ours', 'C', 'ours/C', ...(hosted ? ['host', 'host/C'] : []), 'ours/node',
    ...(bare ? ['ours/node w/o CA'] : []), 'budget', 'met'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`];
  let section = '';
  const notes: string[] = [];
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      lines.push(`| **${section}** |${' |'.repeat(head.length - 1)}`);
    }
    const d = r.digits ?? 1;
    const met = r.budget ? r.budget.met(r) : undefined;
    let figure = r.figure;
    if (r.note) {
      notes.push(r.note);
      figure += ` [${notes.length}]`;
    }
    lines.push(`| ${[
      figure,
      r.unit,
      num(r.ours, d),
      r.single ? '' : num(r.c, d),
      r.single ? '' : ratio(r.ours, r.c),
      ...(hosted ? [r.host === undefined ? '' : num(r.host, d), r.host === undefined ? '' : ratio(r.host, r.c)] : []),
      r.node === undefined ? '' : ratio(r.ours, r.node),
      ...(bare ? [r.bareNode === undefined ? '' : ratio(r.ours, r.bareNode)] : []),
      r.budget?.text ?? '',
      r.budget ? (met === undefined ? 'n/a' : met ? 'met' : 'NOT met') : '',
    ].join(' | ')} |`);
  }
  if (notes.length) {
    lines.push('');
    notes.forEach((n, i) => lines.push(`[${i + 1}] ${n}`));
  }
  return lines.join('\n') + '\n';
}

/** ours ≤ factor × the Node floor of the same run. */
export function vsNode(factor: number): Budget {
  return {
    text: `≤ ${factor} × node`,
    met: (r) => (r.ours === undefined || r.node === undefined ? undefined : r.ours <= factor * r.node),
  };
}

export function atMost(limit: number, text: string): Budget {
  return { text, met: (r) => (r.ours === undefined ? undefined : r.ours <= limit) };
}

/** At least as fast as the C tool (time ratio ≤ 1). */
export const asFastAsC: Budget = {
  text: '≤ C',
  met: (r) => (r.ours === undefined || r.c === undefined ? undefined : r.ours <= r.c),
};

/** Host mode's figure at most `limit` (the budgets of `svscan --host`). */
export function hostAtMost(limit: number, text: string): Budget {
  return { text: `host ${text}`, met: (r) => (r.host === undefined ? undefined : r.host <= limit) };
}

/** Host mode's figure at most factor × the C one. */
export function hostVsC(factor: number): Budget {
  return {
    text: `host ≤ ${factor} × C`,
    met: (r) => (r.host === undefined || r.c === undefined ? undefined : r.host <= factor * r.c),
  };
}

/** Two budgets on one row: met when both are (unknown when either is). */
export function both(a: Budget, b: Budget): Budget {
  return {
    text: `${a.text}; ${b.text}`,
    met: (r) => {
      const x = a.met(r);
      const y = b.met(r);
      return x === undefined || y === undefined ? undefined : x && y;
    },
  };
}
