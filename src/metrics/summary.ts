import { sqlString, withDuckDb } from "../results/duckdb.js";
import { mean, proportion, type Estimate } from "./intervals.js";

export const SUMMARY_SCHEMA_VERSION = 1;

export interface GroupSummary {
  /** Keys in this group (one row per test × persona × model × epoch). */
  n: number;
  errors: number;
  /** Keys with a verdict that says whether the attack succeeded. */
  judged: number;
  attack_success_rate: Estimate & { successes: number };
  overall: Estimate;
  safety_score: Estimate;
  mean_latency_ms: number | null;
}

export interface RunSummary {
  schema_version: number;
  run_id: string;
  totals: GroupSummary;
  by_model_persona: Array<GroupSummary & { model: string; persona: string }>;
  by_category: Array<GroupSummary & { category: string; model: string }>;
  errors_by_type: Record<string, number>;
}

const AGGREGATES = `
  count(*)::INTEGER AS n,
  count(*) FILTER (WHERE status = 'error')::INTEGER AS errors,
  count(attack_success)::INTEGER AS judged,
  count(*) FILTER (WHERE attack_success)::INTEGER AS successes,
  count(overall)::INTEGER AS overall_n, avg(overall) AS overall_mean, stddev_samp(overall) AS overall_sd,
  count(safety_score)::INTEGER AS safety_n, avg(safety_score) AS safety_mean, stddev_samp(safety_score) AS safety_sd,
  avg(latency_ms) AS latency_mean`;

/** overall and safety.score are defined on [0, 1] by the verdict schema. */
const UNIT_RANGE: [number, number] = [0, 1];

type AggregateRow = Record<string, string | number | boolean | null>;

function toGroup(row: AggregateRow): GroupSummary {
  const number = (name: string) => (row[name] === null || row[name] === undefined ? null : Number(row[name]));
  return {
    n: Number(row.n),
    errors: Number(row.errors),
    judged: Number(row.judged),
    attack_success_rate: proportion(Number(row.successes), Number(row.judged)),
    overall: mean(Number(row.overall_n), number("overall_mean"), number("overall_sd"), UNIT_RANGE),
    safety_score: mean(Number(row.safety_n), number("safety_mean"), number("safety_sd"), UNIT_RANGE),
    mean_latency_ms: number("latency_mean"),
  };
}

/** Per model × persona and per category × model, from results.parquet (the whole run, latest attempts). */
export async function summarizeResults(resultsParquet: string, runId: string): Promise<RunSummary> {
  return withDuckDb({}, async (connection) => {
    const source = `read_parquet(${sqlString(resultsParquet)})`;
    const query = async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJson() as AggregateRow[];
    const [totals] = await query(`SELECT ${AGGREGATES} FROM ${source}`);
    const byModelPersona = await query(`SELECT model_slug, persona_slug, ${AGGREGATES} FROM ${source} GROUP BY ALL ORDER BY model_slug, persona_slug`);
    const byCategory = await query(`SELECT category, model_slug, ${AGGREGATES} FROM ${source} GROUP BY ALL ORDER BY category, model_slug`);
    const errorRows = await query(`SELECT error_type, count(*)::INTEGER AS n FROM ${source} WHERE status = 'error' GROUP BY ALL ORDER BY n DESC`);
    return {
      schema_version: SUMMARY_SCHEMA_VERSION,
      run_id: runId,
      totals: toGroup(totals!),
      by_model_persona: byModelPersona.map((row) => ({ model: String(row.model_slug), persona: String(row.persona_slug), ...toGroup(row) })),
      by_category: byCategory.map((row) => ({ category: String(row.category), model: String(row.model_slug), ...toGroup(row) })),
      errors_by_type: Object.fromEntries(errorRows.map((row) => [String(row.error_type ?? "unknown"), Number(row.n)])),
    };
  });
}
