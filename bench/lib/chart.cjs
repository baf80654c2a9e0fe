'use strict';
/**
 * A hand-written SVG of a run: throughput per stage over the throughput phase, latency
 * over the latency phase (warm-up shaded), and Redis bytes per customer by customer count.
 * No dependencies; opens in any browser.
 */

const W = 1000;
const PANEL_H = 250;
const M = { left: 70, right: 160, top: 36, bottom: 34 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v) => (v >= 10_000 ? `${Math.round(v / 1000)}k` : v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v >= 10 ? String(Math.round(v)) : String(Math.round(v * 10) / 10));

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * One panel at vertical offset `y0`: `series` are { name, points: [[x, y]…], dashed? };
 * `hlines` are { y, label }; `shade` is [x0, x1] of a shaded band; `logY` uses a log scale.
 */
function linePanel(y0, { title, xLabel, yLabel, series, hlines = [], shade, logY = false }) {
  const out = [];
  const pw = W - M.left - M.right;
  const ph = PANEL_H - M.top - M.bottom;
  const all = series.flatMap((s) => s.points).filter(([, y]) => y != null && Number.isFinite(y));
  const xMax = niceMax(Math.max(1, ...all.map(([x]) => x)));
  const yVals = [...all.map(([, y]) => y), ...hlines.map((h) => h.y)];
  let yMin = 0;
  let yMax = niceMax(Math.max(1, ...yVals));
  if (logY) {
    yMin = 10 ** Math.floor(Math.log10(Math.max(0.5, Math.min(...yVals.filter((v) => v > 0)))));
    yMax = 10 ** Math.ceil(Math.log10(Math.max(yMin * 10, ...yVals)));
  }
  const sx = (x) => M.left + (x / xMax) * pw;
  const sy = (y) => {
    if (logY) {
      const v = Math.max(yMin, y);
      return y0 + M.top + ph - ((Math.log10(v) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * ph;
    }
    return y0 + M.top + ph - (y / yMax) * ph;
  };
  out.push(`<text x="${M.left}" y="${y0 + 22}" font-size="15" font-weight="bold">${esc(title)}</text>`);
  if (shade) out.push(`<rect x="${sx(shade[0])}" y="${y0 + M.top}" width="${Math.max(0, sx(shade[1]) - sx(shade[0]))}" height="${ph}" fill="#eee"/><text x="${sx(shade[0]) + 4}" y="${y0 + M.top + 14}" font-size="11" fill="#888">warm-up</text>`);
  // grid and axes
  const ticks = logY
    ? Array.from({ length: Math.round(Math.log10(yMax / yMin)) + 1 }, (_, i) => yMin * 10 ** i)
    : Array.from({ length: 5 }, (_, i) => (yMax * i) / 4);
  for (const t of ticks) {
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 6}" y="${sy(t) + 4}" font-size="11" text-anchor="end">${fmt(t)}</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const x = (xMax * i) / 5;
    out.push(`<text x="${sx(x)}" y="${y0 + M.top + ph + 16}" font-size="11" text-anchor="middle">${fmt(x)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${y0 + M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${y0 + PANEL_H - 4}" font-size="12" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${y0 + M.top + ph / 2}) rotate(-90)" font-size="12" text-anchor="middle">${esc(yLabel)}</text>`);
  for (const h of hlines) {
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${sy(h.y)}" y2="${sy(h.y)}" stroke="${h.color ?? '#555'}" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${M.left + pw - 4}" y="${sy(h.y) - 4}" font-size="11" text-anchor="end" fill="${h.color ?? '#555'}">${esc(h.label)}</text>`);
  }
  series.forEach((s, i) => {
    const pts = s.points.filter(([, y]) => y != null && Number.isFinite(y)).map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
    if (pts.length) out.push(`<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.6" ${s.dashed ? 'stroke-dasharray="4 3"' : ''} points="${pts.join(' ')}"/>`);
    const ly = y0 + M.top + 10 + i * 16;
    out.push(`<line x1="${M.left + pw + 6}" x2="${M.left + pw + 26}" y1="${ly}" y2="${ly}" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" ${s.dashed ? 'stroke-dasharray="4 3"' : ''}/>`);
    out.push(`<text x="${M.left + pw + 30}" y="${ly + 4}" font-size="11">${esc(s.name)}</text>`);
  });
  return out.join('\n');
}

function barPanel(y0, { title, yLabel, bars, hline }) {
  const out = [];
  const pw = W - M.left - M.right;
  const ph = PANEL_H - M.top - M.bottom;
  const yMax = niceMax(Math.max(1, ...bars.map((b) => b.value), hline ? hline.y * 1.1 : 0));
  const sy = (y) => y0 + M.top + ph - (y / yMax) * ph;
  out.push(`<text x="${M.left}" y="${y0 + 22}" font-size="15" font-weight="bold">${esc(title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const t = (yMax * i) / 4;
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#ddd"/><text x="${M.left - 6}" y="${sy(t) + 4}" font-size="11" text-anchor="end">${fmt(t)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${y0 + M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  out.push(`<text transform="translate(16 ${y0 + M.top + ph / 2}) rotate(-90)" font-size="12" text-anchor="middle">${esc(yLabel)}</text>`);
  const slot = pw / Math.max(1, bars.length);
  bars.forEach((b, i) => {
    const x = M.left + i * slot + slot * 0.25;
    out.push(`<rect x="${x}" y="${sy(b.value)}" width="${slot * 0.5}" height="${y0 + M.top + ph - sy(b.value)}" fill="${COLORS[0]}"/>`);
    out.push(`<text x="${x + slot * 0.25}" y="${sy(b.value) - 4}" font-size="11" text-anchor="middle">${b.value.toLocaleString('en')} B</text>`);
    out.push(`<text x="${x + slot * 0.25}" y="${y0 + M.top + ph + 16}" font-size="11" text-anchor="middle">${esc(b.label)}</text>`);
  });
  if (hline) {
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${sy(hline.y)}" y2="${sy(hline.y)}" stroke="#d62728" stroke-dasharray="6 4"/><text x="${M.left + pw - 4}" y="${sy(hline.y) - 4}" font-size="11" text-anchor="end" fill="#d62728">${esc(hline.label)}</text>`);
  }
  return out.join('\n');
}

/** The SVG of one result document (see bench/run.cjs). */
function renderChart(r) {
  const panels = [];
  const tp = r.phases.throughput;
  if (tp && tp.series) {
    panels.push((y) =>
      linePanel(y, {
        title: `Throughput per stage — ${tp.events.toLocaleString('en')} preloaded events, end to end ${tp.end_to_end_events_per_s.toLocaleString('en')}/s${r.baseline_consume_events_per_s ? ` (do-nothing consumer ${r.baseline_consume_events_per_s.toLocaleString('en')}/s)` : ''}`,
        xLabel: 's since ingest started',
        yLabel: 'events/s (2 s window)',
        series: [
          { name: 'ingest', points: tp.series.ingest },
          { name: 'evaluator', points: tp.series.evaluator },
          { name: 'publisher (decisions)', points: tp.series.publisher_decisions },
        ],
        // The do-nothing consumer's rate is in the title: as a line it would flatten the rest.
        hlines: [{ y: 25_000, label: 'target 25k/s', color: '#d62728' }],
      }),
    );
  }
  const lat = r.phases.latency;
  if (lat && lat.series) {
    panels.push((y) =>
      linePanel(y, {
        title: `End-to-end latency at ${lat.offered_rate.toLocaleString('en')} events/s offered (per 1 s window)`,
        xLabel: 's since the load started',
        yLabel: 'ms (log scale)',
        logY: true,
        shade: [0, lat.warmup_s],
        series: [
          { name: 'p50', points: lat.series.map(([t, p50]) => [t, p50]) },
          { name: 'p99', points: lat.series.map(([t, , p99]) => [t, p99]) },
          { name: 'max', points: lat.series.map(([t, , , max]) => [t, max]), dashed: true },
        ],
        hlines: [{ y: 25, label: 'target p99 25 ms', color: '#d62728' }],
      }),
    );
  }
  const cv = r.phases.curve;
  if (cv && cv.points.length) {
    panels.push((y) =>
      linePanel(y, {
        title: 'Latency curve: p50 and p99 by offered rate (the last point marks saturation, if reached)',
        xLabel: 'offered events/s',
        yLabel: 'ms (log scale)',
        logY: true,
        series: [
          { name: 'p50', points: cv.points.map((c) => [c.offered_rate, Math.max(1, c.p50 ?? 1)]) },
          { name: 'p99', points: cv.points.map((c) => [c.offered_rate, Math.max(1, c.p99 ?? 1)]) },
        ],
        hlines: [{ y: 25, label: 'target p99 25 ms', color: '#d62728' }],
      }),
    );
  }
  const mem = r.phases.memory;
  if (mem && mem.at_rest) {
    panels.push((y) =>
      barPanel(y, {
        title: 'Redis bytes per customer, default rules (at rest; just active)',
        yLabel: 'bytes',
        bars: [
          ...mem.at_rest.map((row) => ({ label: `${row.customers.toLocaleString('en')} at rest`, value: row.bytes_per_customer })),
          ...mem.just_active.map((row) => ({ label: `${row.customers.toLocaleString('en')} active`, value: row.bytes_per_customer })),
        ],
        hline: { y: 1024, label: 'target 1 KB' },
      }),
    );
  }
  const H = Math.max(1, panels.length) * PANEL_H + 40;
  const body = panels.map((p, i) => p(30 + i * PANEL_H)).join('\n');
  const head = `Labelstream benchmark ${r.run_id} — ${r.started_at} — ${r.machine.cores} cores, load ${r.machine.load_average.join(' ')}${r.options.quick ? ' — quick run' : ''}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="18" font-size="12" fill="#555">${esc(head)}</text>
${body}
</svg>
`;
}

module.exports = { renderChart };
