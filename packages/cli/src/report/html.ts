/**
 * `labelstream report`, pure part two: the report model → one self-contained HTML page
 * (inline CSS, SVG and a few lines of JS; nothing fetched at view time). The charts carry
 * their figures as data-* attributes so a test (or a script) can read them from the DOM.
 */
import { formatSpan, type ReportModel } from './model';

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d', '#4b5563', '#ea580c', '#0d9488', '#9333ea', '#ca8a04', '#be123c'];
const DAY = 86_400_000;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
const h = escapeHtml;

function isoMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function tick(ms: number, bucketMs: number): string {
  const iso = new Date(ms).toISOString();
  return bucketMs >= DAY ? iso.slice(5, 10) : iso.slice(11, 16);
}

function pct(x: number): string {
  return x === 0 ? '0%' : x < 0.01 ? '<1%' : `${Math.round(x * 100)}%`;
}

function num(n: number): string {
  return n.toLocaleString('en-US');
}

/** A "nice" axis maximum ≥ v: 1, 2 or 5 × 10^k. */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= v)!;
}

const W = 920;
const PAD = { l: 56, r: 16, t: 12, b: 28 };

function xAxis(m: ReportModel, height: number, x: (i: number) => number): string {
  const n = m.buckets.length;
  const every = Math.max(1, Math.ceil(n / 8));
  const out: string[] = [];
  for (let i = 0; i < n; i += every) {
    out.push(`<text x="${x(i).toFixed(1)}" y="${height - 8}" class="tick" text-anchor="middle">${h(tick(m.buckets[i]!, m.bucketMs))}</text>`);
  }
  return out.join('');
}

function yGrid(max: number, y: (v: number) => number, minus = false): string {
  const out: string[] = [];
  // Fifths of a 1/2/5 × 10^k maximum: whole numbers from 5 up.
  for (const f of [0, 0.2, 0.4, 0.6, 0.8, 1]) {
    const v = max * f;
    const yy = y(v).toFixed(1);
    out.push(`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${yy}" y2="${yy}" class="grid"/><text x="${PAD.l - 6}" y="${yy}" dy="4" class="tick" text-anchor="end">${num(Number(v.toFixed(1)))}</text>`);
    if (minus && f > 0) {
      const ny = y(-v).toFixed(1);
      out.push(`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${ny}" y2="${ny}" class="grid"/><text x="${PAD.l - 6}" y="${ny}" dy="4" class="tick" text-anchor="end">${num(Number(v.toFixed(1)))}</text>`);
    }
  }
  return out.join('');
}

function populationChart(m: ReportModel): string {
  const H = 300;
  const n = m.buckets.length;
  const max = niceMax(Math.max(0, ...m.population.flat()));
  const x = (i: number) => PAD.l + (n <= 1 ? 0 : (i * (W - PAD.l - PAD.r)) / (n - 1));
  const y = (v: number) => H - PAD.b - (v / max) * (H - PAD.t - PAD.b);
  const paths = m.labels.map((l, li) => {
    const series = m.population[li]!;
    const d = series.map((v, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join('');
    const peak = Math.max(0, ...series);
    // Past the palette's length, colours repeat with a dashed line.
    const dash = li >= PALETTE.length ? ' stroke-dasharray="7 4"' : '';
    return `<path d="${d}" class="line" stroke="${PALETTE[li % PALETTE.length]}"${dash} data-label="${h(l.label)}" data-last="${series[series.length - 1] ?? 0}" data-max="${peak}"><title>${h(l.label)}: ${num(series[series.length - 1] ?? 0)} at the end, peak ${num(peak)}</title></path>`;
  });
  const legend = m.labels
    .map((l, li) => `<li data-series="${h(l.label)}"><span class="sw${li >= PALETTE.length ? ' dashed' : ''}" style="background:${PALETTE[li % PALETTE.length]}"></span>${h(l.label)} <b>${num(m.population[li]![n - 1] ?? 0)}</b></li>`)
    .join('');
  return `<svg id="population" viewBox="0 0 ${W} ${H}" role="img" aria-label="population of each label over time" data-chart="population" data-series="${m.labels.length}" data-points="${n}">
${yGrid(max, y)}${xAxis(m, H, x)}${paths.join('\n')}
</svg><ul class="legend" data-for="population">${legend}</ul>`;
}

function entriesExitsChart(m: ReportModel): string {
  const H = 240;
  const n = m.buckets.length;
  const ent = m.buckets.map((_, b) => m.entriesPerBucket.reduce((s, row) => s + row[b]!, 0));
  const ex = m.buckets.map((_, b) => m.exitsPerBucket.reduce((s, row) => s + row[b]!, 0));
  const max = niceMax(Math.max(0, ...ent, ...ex));
  const slot = (W - PAD.l - PAD.r) / Math.max(1, n);
  const x = (i: number) => PAD.l + i * slot + slot / 2;
  const mid = (H - PAD.b + PAD.t) / 2;
  const half = mid - PAD.t;
  const y = (v: number) => mid - (v / max) * half;
  const bw = Math.max(1, slot * 0.7);
  const bars = m.buckets.map((t, i) => {
    const label = `${isoMinute(t)}: ${num(ent[i]!)} entries, ${num(ex[i]!)} exits`;
    const up = `<rect x="${(x(i) - bw / 2).toFixed(1)}" y="${y(ent[i]!).toFixed(1)}" width="${bw.toFixed(1)}" height="${(mid - y(ent[i]!)).toFixed(1)}" class="in" data-entries="${ent[i]}"><title>${h(label)}</title></rect>`;
    const down = `<rect x="${(x(i) - bw / 2).toFixed(1)}" y="${mid}" width="${bw.toFixed(1)}" height="${(y(-ex[i]!) - mid).toFixed(1)}" class="out" data-exits="${ex[i]}"><title>${h(label)}</title></rect>`;
    return up + down;
  });
  const totalIn = ent.reduce((a, b) => a + b, 0);
  const totalOut = ex.reduce((a, b) => a + b, 0);
  return `<svg id="entries-exits" viewBox="0 0 ${W} ${H}" role="img" aria-label="entries and exits per ${formatSpan(m.bucketMs)}" data-chart="entries-exits" data-entries="${totalIn}" data-exits="${totalOut}">
${yGrid(max, y, true)}<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${mid}" y2="${mid}" class="axis"/>${xAxis(m, H, x)}
${bars.join('\n')}
<text x="${PAD.l + 6}" y="${PAD.t + 10}" class="key in-t">▲ entries ${num(totalIn)}</text><text x="${PAD.l + 6}" y="${H - PAD.b - 4}" class="key out-t">▼ exits ${num(totalOut)}</text>
</svg>`;
}

function labelTable(m: ReportModel): string {
  const rows = m.labels.map((l, li) => {
    const badges = [
      m.neverFired.includes(l.label) ? '<span class="badge warn">never fired</span>' : '',
      m.almostEveryone.includes(l.label) ? '<span class="badge warn">almost everyone</span>' : '',
      l.inRules === false ? '<span class="badge">not in rules</span>' : '',
      l.exits >= 5 && l.flaps / l.exits >= 0.25 ? '<span class="badge warn">flapping</span>' : '',
    ].join('');
    const daily = m.entriesPerBucket[li]!.map((e, b) => `${e}/${m.exitsPerBucket[li]![b]}`).join(' ');
    return `<tr data-label="${h(l.label)}" data-population="${l.population}" data-entries="${l.entries}" data-exits="${l.exits}" data-flaps="${l.flaps}">
<td><span class="sw" style="background:${PALETTE[li % PALETTE.length]}"></span>${h(l.label)}</td><td>${h(l.category)}</td>
<td class="n">${num(l.population)}</td><td class="nw"><span class="bar"><span style="width:${(l.share * 100).toFixed(1)}%"></span></span> ${pct(l.share)}</td>
<td class="n">${num(l.entries)}</td><td class="n">${num(l.exits)}</td><td class="n" title="${h(`${l.flappingCustomers} customers`)}">${num(l.flaps)}${l.exits ? ` <small>(${pct(l.flaps / l.exits)})</small>` : ''}</td>
<td class="n">${num(l.everAssigned)}</td><td>${badges}</td></tr>
<tr class="detail" hidden><td colspan="9">entries/exits per ${formatSpan(m.bucketMs)}: <code>${h(daily)}</code></td></tr>`;
  });
  return `<table class="labels" data-table="labels"><thead><tr><th>label</th><th>category</th><th>holders now</th><th>share of customers</th><th>entries</th><th>exits</th><th>flaps (&lt; ${formatSpan(m.flapWindowMs)})</th><th>ever assigned</th><th></th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>`;
}

function overlapMatrix(m: ReportModel): string {
  const live = m.labels.map((l, i) => ({ l, i })).filter(({ l }) => l.population > 0);
  if (!live.length) return '<p class="muted">No label is held by anyone now.</p>';
  const head = live.map(({ l }) => `<th class="rot"><div>${h(l.label)}</div></th>`).join('');
  const rows = live.map(({ l: a, i }) => {
    const cells = live.map(({ l: b, i: j }) => {
      const v = m.overlap[i]![j]!;
      const bg = i === j ? '#e5e7eb' : `rgba(37,99,235,${(0.08 + v * 0.85).toFixed(2)})`;
      const fg = i !== j && v > 0.55 ? '#fff' : '#111827';
      return `<td style="background:${bg};color:${fg}" data-a="${h(a.label)}" data-b="${h(b.label)}" data-share="${v.toFixed(4)}" title="${h(`${pct(v)} of ${a.label}'s ${a.population} holders also hold ${b.label}`)}">${i === j ? '—' : pct(v)}</td>`;
    });
    return `<tr><th>${h(a.label)} <small>${num(a.population)}</small></th>${cells.join('')}</tr>`;
  });
  return `<table class="matrix" data-table="overlap"><thead><tr><th class="corner">holders of ↓ who also hold →</th>${head}</tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

function rulesSection(m: ReportModel): string {
  const versions = m.rulesVersions
    .map((v) => `<tr><td><code>${h(v.version)}</code>${m.rules && v.version === m.rules.version ? ' <span class="badge ok">in the rules file</span>' : ''}</td><td class="n">${num(v.events)}</td><td>${isoMinute(v.first)}</td><td>${isoMinute(v.last)}</td></tr>`)
    .join('');
  const inForce = m.rules
    ? `<p>Rules file <code>${h(m.rules.source)}</code>, version <code>${h(m.rules.version)}</code>.</p>`
    : '<p class="muted">No rules file was read (<code>--rules</code>): the per-category advice and the labels that never fired among those defined are not checked.</p>';
  const cats = m.rules
    ? `<table class="cats" data-table="categories"><thead><tr><th>category</th><th>labels</th><th></th></tr></thead><tbody>${Object.entries(m.rules.categories)
        .map(([c, n]) => `<tr data-category="${h(c)}" data-count="${n}"><td>${h(c)}</td><td class="n">${n}</td><td><span class="bar ${n >= 10 ? 'over' : ''}"><span style="width:${Math.min(100, n * 10)}%"></span></span>${n >= 10 ? ' <span class="badge warn">10 or more</span>' : ''}</td></tr>`)
        .join('')}</tbody></table><p class="muted">The governance advice: fewer than ten labels per category.</p>`
    : '';
  return `${inForce}<table data-table="versions"><thead><tr><th>rules version seen</th><th>events</th><th>first</th><th>last</th></tr></thead><tbody>${versions || '<tr><td colspan="4" class="muted">none</td></tr>'}</tbody></table>${cats}`;
}

const CSS = `
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#111827;background:#f3f4f6;margin:0}
main{max-width:980px;margin:0 auto;padding:20px}h1{font-size:22px;margin:0 0 2px}h2{font-size:16px;margin:0 0 10px}
.sub,.muted{color:#6b7280}section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:16px;margin:14px 0}
.cards{display:grid;grid-template-columns:repeat(5,1fr);gap:10px;margin-top:14px}.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:10px 12px}
.card b{display:block;font-size:20px}.card span{color:#6b7280;font-size:12px}
.warnings{background:#fffbeb;border-color:#f59e0b}.warnings li{margin:4px 0}.allgood{background:#f0fdf4;border-color:#22c55e}
svg{width:100%;height:auto;display:block}.grid{stroke:#e5e7eb}.axis{stroke:#9ca3af}.tick{font-size:11px;fill:#6b7280}
.line{fill:none;stroke-width:2;stroke-linejoin:round}.line.dim{opacity:.12}.in{fill:#16a34a}.out{fill:#dc2626}.key{font-size:12px;font-weight:600}.in-t{fill:#16a34a}.out-t{fill:#dc2626}
.legend{list-style:none;padding:0;margin:8px 0 0;display:flex;flex-wrap:wrap;gap:6px 14px;font-size:13px}.legend li{cursor:pointer}.legend li.off{opacity:.35}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:baseline}.sw.dashed{height:4px;width:14px;vertical-align:middle;box-shadow:inset -5px 0 0 #fff}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:5px 8px;border-bottom:1px solid #f3f4f6;text-align:left}th{color:#374151;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}.labels td:first-child,td.nw{white-space:nowrap}.labels tbody tr:not(.detail){cursor:pointer}
.bar{display:inline-block;width:90px;height:8px;background:#e5e7eb;border-radius:4px;vertical-align:middle;overflow:hidden}.bar span{display:block;height:100%;background:#2563eb}.bar.over span{background:#dc2626}
.badge{display:inline-block;font-size:11px;padding:1px 6px;border-radius:9px;background:#e5e7eb;margin-right:4px}.badge.warn{background:#fef3c7;color:#92400e}.badge.ok{background:#dcfce7;color:#166534}
.matrix td{text-align:center;font-variant-numeric:tabular-nums;border:1px solid #fff;min-width:44px}.matrix th.rot{height:110px;vertical-align:bottom;padding:0 2px}
.matrix th.rot div{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;margin:0 auto}.matrix .corner{font-weight:400;color:#6b7280;font-size:12px;vertical-align:bottom}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f3f4f6;padding:1px 4px;border-radius:3px}footer{color:#6b7280;font-size:12px;margin:16px 0}
`;

// Legend clicks hide or show a series; a click on a label row shows its per-bucket figures.
const JS = `
document.querySelectorAll('.legend li').forEach(function(li){li.addEventListener('click',function(){
  var name=li.getAttribute('data-series');li.classList.toggle('off');
  document.querySelectorAll('#population path[data-label]').forEach(function(p){if(p.getAttribute('data-label')===name)p.style.display=li.classList.contains('off')?'none':'';});});});
document.querySelectorAll('.labels tbody tr[data-label]').forEach(function(tr){tr.addEventListener('click',function(){var d=tr.nextElementSibling;if(d)d.hidden=!d.hidden;});});
`;

/** The whole page. */
export function renderReportHtml(m: ReportModel): string {
  const range = `${isoMinute(m.from)} → ${isoMinute(m.to)}`;
  const versionsText = m.rulesVersions.map((v) => v.version).join(', ') || 'none';
  const cards = [
    [num(m.events), 'label events read'],
    [num(m.customers), 'customers seen'],
    [num(m.customersWithLabel), 'hold a label now'],
    [String(m.labels.length), 'labels'],
    [m.rules?.version ?? versionsText, m.rules ? 'rules version in force' : 'rules version(s) seen'],
  ]
    .map(([v, k]) => `<div class="card"><b>${h(v!)}</b><span>${h(k!)}</span></div>`)
    .join('');
  const health = [
    ...m.warnings,
    ...(m.neverFired.length ? [`Never fired: ${m.neverFired.join(', ')}. Check the thresholds or retire them.`] : []),
    ...(m.almostEveryone.length ? [`Held by almost every customer seen: ${m.almostEveryone.join(', ')}. A label everyone has does not segment.`] : []),
  ];
  const healthBox = health.length
    ? `<section class="warnings" data-warnings="${health.length}"><h2>Needs a look (${health.length})</h2><ul>${health.map((w) => `<li>${h(w)}</li>`).join('')}</ul></section>`
    : '<section class="allgood" data-warnings="0"><h2>No governance warnings</h2><p>Every label fires, none is held by almost everyone, no category passes the advice, nothing flaps.</p></section>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Label health — ${h(m.topic)}</title><style>${CSS}</style></head>
<body><main data-report="labelstream" data-events="${m.events}" data-customers="${m.customers}" data-labels="${m.labels.length}">
<h1>Label health</h1><div class="sub">Topic <code>${h(m.topic)}</code> · ${h(range)} · one point per ${formatSpan(m.bucketMs)} · generated ${isoMinute(m.generatedAt)}</div>
<div class="cards">${cards}</div>
${healthBox}
<section><h2>Population of each label over time</h2>${populationChart(m)}<p class="muted">Holders at the end of each ${formatSpan(m.bucketMs)}, rebuilt from the assignments and removals (click a label in the legend to hide it).</p></section>
<section><h2>Entries and exits per ${formatSpan(m.bucketMs)}</h2>${entriesExitsChart(m)}</section>
<section><h2>Labels</h2>${labelTable(m)}<p class="muted">A flap is an exit within ${formatSpan(m.flapWindowMs)} of the entry. Shares are of the ${num(m.customers)} customers that appear in the events (customers who never held a label are not in them). Click a row for its per-${formatSpan(m.bucketMs)} entries/exits.</p></section>
<section><h2>Overlap of the current sets</h2>${overlapMatrix(m)}<p class="muted">Each cell: the share of the row label's holders who also hold the column label.</p></section>
<section><h2>Rules</h2>${rulesSection(m)}</section>
<footer>${num(m.events)} events${m.duplicates ? `, ${num(m.duplicates)} duplicates skipped` : ''}${m.noOps ? `, ${num(m.noOps)} that changed nothing` : ''}; first ${m.firstEventAt === null ? '—' : isoMinute(m.firstEventAt)}, last ${m.lastEventAt === null ? '—' : isoMinute(m.lastEventAt)}. Generated by <code>labelstream report</code>; this page fetches nothing.</footer>
</main><script>${JS}</script></body></html>
`;
}
