/** The report page's own CSS (uPlot's comes from its package). Print-friendly, no web fonts. */
export const REPORT_CSS = `
:root { --fg: #1d2330; --muted: #5d6677; --line: #dfe3ea; --bg: #ffffff; --soft: #f5f7fa;
  --ok: #1e7e3e; --ok-bg: #e6f4ea; --bad: #b3261e; --bad-bg: #fce8e6; --warn: #8a5a00; --warn-bg: #fff4d6; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1280px; margin: 0 auto; padding: 20px 24px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 8px; }
.meta { color: var(--muted); margin: 0; }
.meta span { white-space: nowrap; margin-right: 14px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.verdict { margin: 18px 0 8px; padding: 14px 18px; border-radius: 8px; border: 1px solid; }
.verdict-label { font-size: 26px; font-weight: 800; letter-spacing: .04em; }
.verdict ul { margin: 6px 0 0; padding-left: 20px; }
.verdict-passed { background: var(--ok-bg); border-color: #9bd3ab; color: var(--ok); }
.verdict-failed { background: var(--bad-bg); border-color: #f0a9a3; color: var(--bad); }
.verdict-interrupted { background: var(--warn-bg); border-color: #f0cf7a; color: var(--warn); }
.verdict li { color: var(--fg); }
.verdict .warnings li { color: var(--warn); }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 10px; margin: 12px 0; }
.tile { background: var(--soft); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.tile b { display: block; font-size: 20px; }
.tile span { color: var(--muted); font-size: 12.5px; }
.banner { margin: 10px 0; padding: 12px 16px; border-radius: 8px; font-weight: 600; }
.banner ul { margin: 6px 0 0; padding-left: 20px; font-weight: 400; }
.banner-bad { background: var(--bad); color: #fff; }
.note { color: var(--muted); font-style: italic; background: var(--soft); padding: 8px 12px; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { padding: 5px 9px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; font-size: 12.5px; color: var(--muted); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.row-bad td { background: #fff4f3; }
tr.row-unjudged td { background: var(--warn-bg); }
td.not-judged, p.not-judged { color: var(--warn); }
table.narrow { width: auto; min-width: 50%; }
table.narrow td, table.narrow th { padding-right: 22px; }
.ok { color: var(--ok); font-weight: 700; }
.bad { color: var(--bad); font-weight: 700; }
.bar { display: inline-block; height: 10px; background: #4c8bf5; border-radius: 2px; vertical-align: middle; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
.chart { min-width: 0; border: 1px solid var(--line); border-radius: 8px; padding: 8px; background: #fff; }
.chart .u-title { font-size: 14px; }
details { margin: 6px 0; border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; }
summary { cursor: pointer; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
@media print { .chart { break-inside: avoid; } }
`;
