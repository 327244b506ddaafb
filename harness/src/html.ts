import type { Chart, RunReport } from "./report.ts"

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
const W = 720
const H = 360
const PAD = { left: 70, right: 160, top: 30, bottom: 50 }

function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;")
}

function fmt(v: number): string {
  const a = Math.abs(v)
  if (a >= 1e9) return `${(v / 1e9).toPrecision(3)}G`
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`
  if (a >= 1e4) return `${(v / 1e3).toPrecision(3)}k`
  if (a === 0) return "0"
  if (a < 0.01) return v.toExponential(1)
  return Number.isInteger(v) ? String(v) : v.toPrecision(3)
}

/** Percentile axis: x = -log10(1 - p/100), so 90, 99, 99.9 are evenly spaced. */
function pctX(p: number): number {
  return -Math.log10(Math.max(1e-5, 1 - p / 100))
}

function lineChart(c: Extract<Chart, { kind: "line" }>): string {
  const pts = c.series.flatMap((s) => s.points)
  const tx = c.percentileX ? pctX : (x: number) => x
  const ty = c.logY ? (y: number) => Math.log10(Math.max(y, 1e-9)) : (y: number) => y
  const xs = pts.map((p) => tx(p[0]))
  const ys = pts.map((p) => ty(p[1]))
  let x0 = Math.min(...xs, c.percentileX ? 0 : Number.POSITIVE_INFINITY)
  let x1 = Math.max(...xs)
  let y0 = c.logY ? Math.floor(Math.min(...ys)) : Math.min(0, ...ys)
  let y1 = c.logY ? Math.ceil(Math.max(...ys)) : Math.max(...ys)
  if (!Number.isFinite(x0) || !Number.isFinite(x1)) [x0, x1] = [0, 1]
  if (!Number.isFinite(y0) || !Number.isFinite(y1)) [y0, y1] = [0, 1]
  if (x1 === x0) x1 = x0 + 1
  if (y1 === y0) y1 = y0 + 1
  if (!c.logY) y1 += (y1 - y0) * 0.05
  const pw = W - PAD.left - PAD.right
  const ph = H - PAD.top - PAD.bottom
  const sx = (x: number) => PAD.left + ((tx(x) - x0) / (x1 - x0)) * pw
  const sy = (y: number) => PAD.top + ph - ((ty(y) - y0) / (y1 - y0)) * ph
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img">`,
  )
  out.push(`<title>${esc(c.title)}</title>`)
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`)
  out.push(
    `<text x="${W / 2 - PAD.right / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(c.title)}</text>`,
  )
  // y ticks
  const yTicks: number[] = []
  if (c.logY) for (let e = y0; e <= y1; e++) yTicks.push(10 ** e)
  else for (let i = 0; i <= 5; i++) yTicks.push(y0 + ((y1 - y0) * i) / 5)
  for (const t of yTicks) {
    const y = sy(t)
    out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}" stroke="#ddd"/>`)
    out.push(`<text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${fmt(t)}</text>`)
  }
  // x ticks
  const xTicks: number[] = []
  if (c.percentileX) xTicks.push(0, 50, 90, 99, 99.9, 99.99)
  else for (let i = 0; i <= 6; i++) xTicks.push(x0 + ((x1 - x0) * i) / 6)
  for (const t of xTicks) {
    if (c.percentileX && pctX(t) > x1 + 1e-9) continue
    const x = sx(t)
    out.push(`<line x1="${x}" x2="${x}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#eee"/>`)
    out.push(
      `<text x="${x}" y="${H - PAD.bottom + 16}" text-anchor="middle" font-size="11">${c.percentileX ? `p${t}` : fmt(t)}</text>`,
    )
  }
  out.push(
    `<rect x="${PAD.left}" y="${PAD.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
    `<text x="${PAD.left + pw / 2}" y="${H - 10}" text-anchor="middle" font-size="12">${esc(c.xLabel)}</text>`,
    `<text x="16" y="${PAD.top + ph / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 16 ${PAD.top + ph / 2})">${esc(c.yLabel)}${c.logY ? " (log)" : ""}</text>`,
  )
  for (const m of c.markers ?? []) {
    const x = sx(m.x)
    out.push(
      `<line x1="${x}" x2="${x}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#888" stroke-dasharray="4 3"/>`,
    )
    out.push(`<text x="${x + 3}" y="${PAD.top + 12}" font-size="10" fill="#555">${esc(m.label)}</text>`)
  }
  c.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]
    const d = s.points
      .filter((p) => !c.logY || p[1] > 0)
      .map((p, j) => `${j === 0 ? "M" : "L"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`)
      .join(" ")
    if (d) out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`)
    if (s.points.length <= 40)
      for (const p of s.points)
        if (!c.logY || p[1] > 0)
          out.push(
            `<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2.5" fill="${color}"/>`,
          )
    const ly = PAD.top + 14 + i * 18
    out.push(`<rect x="${W - PAD.right + 10}" y="${ly - 9}" width="12" height="4" fill="${color}"/>`)
    out.push(`<text x="${W - PAD.right + 26}" y="${ly - 4}" font-size="11">${esc(s.name)}</text>`)
  })
  out.push("</svg>")
  return out.join("\n")
}

function heatmap(c: Extract<Chart, { kind: "heatmap" }>): string {
  const rows = c.values.length
  const cols = Math.max(1, ...c.values.map((r) => r.length))
  const pw = W - PAD.left - 40
  const ph = Math.max(120, Math.min(480, rows * 14))
  const h = ph + PAD.top + PAD.bottom
  const cw = pw / cols
  const rh = ph / Math.max(1, rows)
  const max = Math.max(1e-9, ...c.values.flat())
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" role="img">`,
    `<title>${esc(c.title)}</title>`,
    `<rect x="0" y="0" width="${W}" height="${h}" fill="#fff"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(c.title)}</text>`,
  ]
  c.values.forEach((row, r) => {
    row.forEach((v, k) => {
      const t = v / max
      const red = Math.round(255)
      const gb = Math.round(255 * (1 - t))
      out.push(
        `<rect x="${(PAD.left + k * cw).toFixed(1)}" y="${(PAD.top + r * rh).toFixed(1)}" width="${(cw + 0.5).toFixed(1)}" height="${(rh + 0.5).toFixed(1)}" fill="rgb(${red},${gb},${gb})"><title>${esc(c.rowLabels[r] ?? "")} @ ${esc(c.columnLabels[k] ?? "")}: ${fmt(v)}</title></rect>`,
      )
    })
    if (rows <= 40)
      out.push(
        `<text x="${PAD.left - 4}" y="${PAD.top + r * rh + rh / 2 + 4}" text-anchor="end" font-size="9">${esc(c.rowLabels[r] ?? "")}</text>`,
      )
  })
  const step = Math.max(1, Math.ceil(cols / 8))
  for (let k = 0; k < cols; k += step)
    out.push(
      `<text x="${PAD.left + k * cw + cw / 2}" y="${PAD.top + ph + 14}" text-anchor="middle" font-size="10">${esc(c.columnLabels[k] ?? "")}</text>`,
    )
  out.push(
    `<text x="${PAD.left + pw / 2}" y="${h - 10}" text-anchor="middle" font-size="12">${esc(c.xLabel)}</text>`,
    `<text x="14" y="${PAD.top + ph / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${PAD.top + ph / 2})">${esc(c.yLabel)}</text>`,
    `<text x="${W - 30}" y="${PAD.top - 6}" text-anchor="end" font-size="10">max ${fmt(max)}</text>`,
    "</svg>",
  )
  return out.join("\n")
}

/** Renders one chart as inline SVG. */
export function renderChart(c: Chart): string {
  return c.kind === "line" ? lineChart(c) : heatmap(c)
}

/** A self-contained HTML page (inline CSS and SVG, no scripts or external resources) for a report. */
export function renderHtml(r: RunReport): string {
  const parts: string[] = []
  parts.push(
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${esc(r.title)} — Partita</title>`,
    "<style>body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}",
    "table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}",
    "th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.pass{color:#080}.fail{color:#c00;font-weight:bold}",
    "figure{margin:1.5em 0}.meta{color:#555;font-size:13px}</style></head><body>",
    `<h1>${esc(r.title)}</h1>`,
    `<p>${esc(r.summary)}</p>`,
    `<p class="meta">Suite <code>${esc(r.suite)}</code>, run <code>${esc(r.runId)}</code>${r.quick ? " (quick)" : ""}, seed ${r.seed}, ${(r.durationMs / 1000).toFixed(1)} s · ${esc(r.machine.cpuModel)}, ${r.machine.cores} cores, ${esc(r.machine.runtime)} ${esc(r.machine.runtimeVersion)}</p>`,
  )
  if (r.checks.length) {
    parts.push("<h2>Checks</h2><table><tr><th>check</th><th>result</th><th>detail</th></tr>")
    for (const c of r.checks)
      parts.push(
        `<tr><td>${esc(c.name)}</td><td class="${c.pass ? "pass" : "fail"}">${c.pass ? "pass" : "FAIL"}</td><td>${esc(c.detail)}</td></tr>`,
      )
    parts.push("</table>")
  }
  for (const c of r.charts) parts.push(`<figure>${renderChart(c)}</figure>`)
  for (const t of r.tables) {
    parts.push(`<h2>${esc(t.title)}</h2>`)
    if (t.note) parts.push(`<p>${esc(t.note)}</p>`)
    parts.push(`<table><tr>${t.columns.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>`)
    for (const row of t.rows)
      parts.push(`<tr>${row.map((v) => `<td>${esc(typeof v === "number" ? fmt(v) : v)}</td>`).join("")}</tr>`)
    parts.push("</table>")
  }
  parts.push(
    "<h2>Configuration</h2>",
    `<pre>${esc(JSON.stringify({ config: r.config, versions: r.versions, figures: r.figures }, null, 2))}</pre>`,
    "</body></html>",
  )
  return parts.join("\n")
}
