import type { Estimate } from "../metrics/intervals.js";
import { type AttackCell, type AttackRecord, type RedTeamSummary, SEVERITY_BINS, worstAttacks } from "../metrics/redteam-summary.js";
import type { AttackTurn } from "../runner/redteam/exchange.js";
import { escapeHtml, inlineJson } from "./html-report.js";

// The attack report (`alignbench analyze … --output attack_report.html`): one self-contained page rendered
// here, with no script at all and a Content-Security-Policy that allows none, so attack and model text —
// hostile by design in a red-team run — is escaped text that cannot run or load anything. Sections: the
// severity heatmap (category × strategy: colour the mean highest severity, text the success rate), the
// strategies ranked, the success curves over rounds, and the worst conversations, each expandable turn by turn.

export interface AttackReportInput {
  title: string;
  summary: RedTeamSummary;
  attacks: readonly AttackRecord[];
  /** Models and roles, for the header. */
  models: string[];
  roles: Record<string, string>;
  worst?: number;
}

const pct = (value: number | null | undefined) => (value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)}%`);
const num = (value: number | null | undefined, digits = 2) => (value === null || value === undefined ? "–" : value.toFixed(digits));
const interval = (estimate: Estimate) => (estimate.ci95 ? ` [${pct(estimate.ci95[0])}, ${pct(estimate.ci95[1])}]` : "");
const PALETTE = ["#c0392b", "#2471a3", "#229954", "#b9770e", "#7d3c98", "#17a589", "#566573", "#cb4335", "#2e86c1", "#28b463"];

/** White (0) to deep red (1); grey when there is nothing to colour. */
function heat(value: number | null): string {
  if (value === null) return "#eeeeee";
  const lightness = Math.round(97 - value * 52);
  return `hsl(4, 75%, ${lightness}%)`;
}

function heatmap(summary: RedTeamSummary): string {
  const strategies = Object.keys(summary.by_strategy);
  const header = `<tr><th>category \\ strategy</th>${strategies.map((strategy) => `<th>${escapeHtml(strategy)}</th>`).join("")}<th>all</th></tr>`;
  const cell = (value: AttackCell | undefined) => {
    if (!value || value.attacks === 0) return '<td class="cell empty">–</td>';
    const severity = value.mean_severity.estimate;
    const title = `success ${value.success_rate.successes}/${value.decided}${interval(value.success_rate)}; judge failed ${value.judge_failed}; errors ${value.errors}`;
    return `<td class="cell" style="background:${heat(severity)}" title="${escapeHtml(title)}"><b>${num(severity)}</b><br><small>ASR ${pct(value.success_rate.estimate)} · n ${value.decided}</small></td>`;
  };
  const rows = Object.entries(summary.by_category_strategy).map(
    ([category, cells]) => `<tr><th>${escapeHtml(category)}</th>${strategies.map((strategy) => cell(cells[strategy])).join("")}${cell(summary.by_category[category])}</tr>`,
  );
  rows.push(`<tr><th>all</th>${strategies.map((strategy) => cell(summary.by_strategy[strategy])).join("")}${cell(summary.overall)}</tr>`);
  return `<table class="heatmap" id="heatmap">${header}${rows.join("")}</table>`;
}

function rankTable(summary: RedTeamSummary): string {
  const rows = summary.most_effective.map((entry, index) => {
    const cell = summary.by_strategy[entry.strategy]!;
    const bins = SEVERITY_BINS.map((bin) => cell.severity_bins[bin]).join(" / ");
    return `<tr><td>${index + 1}</td><td>${escapeHtml(entry.strategy)}</td><td>${pct(cell.success_rate.estimate)}${interval(cell.success_rate)}</td><td>${cell.decided}</td><td>${num(cell.queries_to_success.estimate, 1)}</td><td>${bins}</td><td>${cell.judge_failed}</td></tr>`;
  });
  return `<table id="strategies"><tr><th>#</th><th>strategy</th><th>attack success rate [95% CI]</th><th>n</th><th>queries to first success</th><th>severity ${SEVERITY_BINS.join(" / ")}</th><th>judge failed</th></tr>${rows.join("")}</table>`;
}

function categoryTable(summary: RedTeamSummary): string {
  const rows = Object.entries(summary.by_category).map(
    ([category, cell]) =>
      `<tr><td>${escapeHtml(category)}</td><td>${pct(cell.success_rate.estimate)}${interval(cell.success_rate)}</td><td>${cell.decided}</td><td>${num(cell.mean_severity.estimate)}</td><td>${num(cell.queries_to_success.estimate, 1)}</td><td>${cell.judge_failed}</td><td>${cell.judge_refused_turns} / ${cell.judge_unparseable_turns}</td></tr>`,
  );
  return `<table id="categories"><tr><th>category</th><th>attack success rate [95% CI]</th><th>n</th><th>mean severity</th><th>queries to first success</th><th>judge failed (attacks)</th><th>judge refused / unusable (turns)</th></tr>${rows.join("")}</table>`;
}

/** Cumulative success share by round, one line per strategy (an inline SVG: no script). */
function successCurves(summary: RedTeamSummary): string {
  const entries = Object.entries(summary.success_by_round);
  if (entries.length === 0) return "<p>No decided attacks.</p>";
  const width = 560;
  const height = 260;
  const left = 44;
  const bottom = 30;
  const rounds = Math.max(2, ...entries.map(([, shares]) => shares.length));
  const x = (round: number) => left + ((round - 1) / (rounds - 1)) * (width - left - 12);
  const y = (share: number) => 10 + (1 - share) * (height - bottom - 10);
  const axes = [0, 0.25, 0.5, 0.75, 1].map(
    (share) => `<line x1="${left}" x2="${width - 12}" y1="${y(share)}" y2="${y(share)}" stroke="#ddd"/><text x="4" y="${y(share) + 4}" font-size="11">${share * 100}%</text>`,
  );
  const ticks = Array.from({ length: rounds }, (_, index) => `<text x="${x(index + 1) - 3}" y="${height - 10}" font-size="11">${index + 1}</text>`);
  const lines = entries.map(([strategy, shares], index) => {
    const colour = PALETTE[index % PALETTE.length]!;
    const points = shares.map((share, round) => `${x(round + 1).toFixed(1)},${y(share).toFixed(1)}`).join(" ");
    // Strategies often share a curve (all at 0, or all succeeding in the same round): dashes and point marks
    // of different sizes keep each visible, and each mark names its strategy, round and share.
    const dash = index === 0 ? "" : ` stroke-dasharray="${4 + index * 2},${3 + index}"`;
    const marks = shares
      .map(
        (share, round) =>
          `<circle cx="${x(round + 1).toFixed(1)}" cy="${y(share).toFixed(1)}" r="${3 + (index % 4)}" fill="none" stroke="${colour}"><title>${escapeHtml(strategy)}: round ${round + 1}, ${pct(share)}</title></circle>`,
      )
      .join("");
    return `<polyline fill="none" stroke="${colour}" stroke-width="2"${dash} points="${points}"><title>${escapeHtml(strategy)}</title></polyline>${marks}`;
  });
  const legend = entries.map(([strategy], index) => `<span class="key" style="border-color:${PALETTE[index % PALETTE.length]}">${escapeHtml(strategy)}</span>`).join(" ");
  return `<svg id="curves" width="${width}" height="${height}" role="img" aria-label="share of attacks succeeded by round">${axes.join("")}${ticks.join("")}${lines.join("")}<text x="${width / 2 - 20}" y="${height}" font-size="11">round</text></svg><div>${legend}</div>`;
}

function gradeText(turn: AttackTurn): string {
  const grade = turn.grade;
  if (grade.status === "judge_refused") return "judge refused to grade";
  if (grade.status === "judge_unparseable") return `judge gave no usable grade (${grade.problem})`;
  return `${grade.level}, severity ${grade.severity.toFixed(2)}, ${grade.harm_category}${grade.refused ? ", target refused" : ""}`;
}

function conversation(attack: AttackRecord, rank: number): string {
  const top = attack.turns.reduce((best, turn) => Math.max(best, turn.grade.status === "graded" ? turn.grade.severity : -1), -1);
  const turns = attack.turns.map((turn) => {
    const sent = turn.sent
      .map((message) => `<div class="message ${escapeHtml(message.role)}"><span class="role">${escapeHtml(message.role)}</span><pre>${escapeHtml(message.content)}</pre></div>`)
      .join("");
    const translated =
      turn.translated_response === undefined
        ? ""
        : `<div class="message translated"><span class="role">answer in English (attacker's translation)</span><pre>${escapeHtml(turn.translated_response)}</pre></div>`;
    const reason = turn.grade.status === "graded" ? `<p class="reason">judge: ${escapeHtml(turn.grade.reason)}</p>` : `<pre class="raw">${escapeHtml(turn.grade.raw)}</pre>`;
    return `<details class="turn"><summary>query ${turn.query} · ${escapeHtml(turn.branch)} · round ${turn.round}${turn.backtracked ? " · backtracked" : ""} — ${escapeHtml(gradeText(turn))}</summary>${sent}<div class="message target"><span class="role">target</span><pre>${escapeHtml(turn.response)}</pre></div>${translated}${reason}</details>`;
  });
  return `<details class="attack" id="attack-${rank}"><summary><b>${top < 0 ? "ungraded" : top.toFixed(2)}</b> · ${escapeHtml(attack.category)} · ${escapeHtml(attack.strategy)} · ${escapeHtml(attack.model)} — <span class="goal">${escapeHtml(attack.goal)}</span></summary>${turns.join("")}${attack.notes.length > 0 ? `<p class="notes">${attack.notes.map(escapeHtml).join("<br>")}</p>` : ""}</details>`;
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1200px;color:#222;padding:0 16px}
table{border-collapse:collapse;margin:8px 0 20px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.heatmap td.cell{text-align:center;min-width:90px}.heatmap td.empty{color:#999}
pre{white-space:pre-wrap;word-break:break-word;margin:2px 0 6px;background:#f7f7f7;padding:6px}
details.attack{border:1px solid #ddd;margin:6px 0;padding:4px 8px}details.turn{margin:4px 0 4px 16px}
.role{font-size:11px;text-transform:uppercase;color:#666}.key{border-left:14px solid;padding-left:4px;margin-right:12px}
.note{color:#555}`;

export function renderAttackReport(input: AttackReportInput): string {
  const { summary } = input;
  const overall = summary.overall;
  const worst = worstAttacks(input.attacks, input.worst ?? 25);
  const roles = Object.entries(input.roles)
    .map(([role, model]) => `${escapeHtml(role)}: ${escapeHtml(model)}`)
    .join(" · ");
  const policy = "default-src 'none'; style-src 'unsafe-inline'";
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${policy}">`,
    `<title>alignbench attack report — ${escapeHtml(input.title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>Attack report — ${escapeHtml(input.title)}</h1>`,
    `<p>models: ${input.models.map(escapeHtml).join(", ")}${roles ? ` · ${roles}` : ""}</p>`,
    `<p id="headline">Attack success rate at severity ≥ ${summary.threshold}: <b>${pct(overall.success_rate.estimate)}</b>${interval(overall.success_rate)} (${overall.success_rate.successes} of ${overall.decided} decided attacks). ` +
      `Judge failures, counted apart: ${overall.judge_failed} attack(s) undecided (${overall.judge_refused_turns} turn(s) the judge refused, ${overall.judge_unparseable_turns} without a usable grade). Errors: ${overall.errors}.</p>`,
    "<h2>Severity by category × strategy</h2>",
    '<p class="note">Cell colour and number: the mean highest severity of the attacks (0 refusal … 1 full harmful help); below it the attack success rate and the number of decided attacks. Hover for the interval.</p>',
    heatmap(summary),
    "<h2>Strategies, most effective first</h2>",
    rankTable(summary),
    "<h2>Categories</h2>",
    categoryTable(summary),
    "<h2>Success over rounds</h2>",
    '<p class="note">Share of decided attacks that had succeeded by each round (PAIR round, TAP depth, crescendo turn; single-shot strategies have one).</p>',
    successCurves(summary),
    `<h2>Worst conversations (${worst.length})</h2>`,
    '<p class="note">Highest severity first; open one to read it turn by turn. All text is shown as text.</p>',
    worst.map((attack, index) => conversation(attack, index + 1)).join("\n"),
    `<script type="application/json" id="attack-summary">${inlineJson(summary)}</script>`,
    "</body></html>",
    "",
  ].join("\n");
}
