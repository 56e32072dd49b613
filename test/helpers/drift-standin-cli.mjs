// The built CLI with THIN STAND-INS for the drift pieces built on other branches (the text-drift and
// probe-drift computations, the record format drift_text, the suite metrics drift_fidelity_dsi and
// drift_ars), so the `alignbench drift` command, its run, its resume and its outputs can be tested end to end
// before they are merged. The stand-ins compute made-up but exact values from the checkpoint's name
// (`…ckpt-K`): fidelity K/10 on every in-domain text, K/5 out of domain; greedy accuracy 0.8 in domain and
// 0.8 − K/20 out of domain for the checkpoint, 0.8 and 0.7 for the base; the first K probes lose their
// alignment, and a probe whose prompt starts with "gain" gains it. Each text's one top-KL position is its
// whole text (so a test can make a hostile token). Every row still calls the target and the base (the mock server), so a run takes time to kill.
// Run as: node test/helpers/drift-standin-cli.mjs drift --base … (after `npm run build`).
import { main } from "../../dist/cli/main.js";
import { registerPlan } from "../../dist/runner/plans/registry.js";
import { registerRecordFormat } from "../../dist/datasets/formats/registry.js";
import { registerSuiteMetric } from "../../dist/metrics/suite-metrics/registry.js";
import { meanOf, proportion } from "../../dist/metrics/intervals.js";

const checkpoint = (address) => Number(/ckpt-(\d+)/.exec(address)?.[1] ?? 0);

registerRecordFormat({
  name: "drift_text",
  description: "stand-in: a text per record",
  rows: (record) => (typeof record.text === "string" && record.text.trim() ? [{ id: record.id, prompt: record.text }] : { field: "text", message: "required" }),
});

const fidelity = { name: "fidelity", description: "stand-in", metrics: [{ name: "fl", label: "KL", kind: { type: "unbounded", unit: "nats" }, bad: "high" }] };
const alignment = { name: "alignment", description: "stand-in", metrics: [{ name: "alignment", label: "aligned", kind: { type: "rate" }, bad: "low" }] };

registerPlan({
  name: "drift",
  description: "stand-in drift plan",
  roles: ["base"],
  scores: [fidelity, alignment],
  async run(context) {
    const part = context.sample.metadata?.tags?.part;
    const k = checkpoint(context.roles.target.address);
    const messages = [{ role: "user", content: String(context.sample.conversation?.[0]?.content ?? context.sample.id) }];
    const answer = await context.call("target", { messages });
    await context.call("base", { messages });
    if (part === "probes") {
      const index = Number(/(\d+)$/.exec(context.sample.id)?.[1] ?? 0);
      const gains = messages[0].content.startsWith("gain");
      const before = gains ? 0 : 1;
      const target = gains || index >= k ? 1 : 0;
      const label = gains ? "gained" : target === 1 ? "kept" : "lost";
      return {
        messages,
        response: answer.text,
        finishReason: "stop",
        scores: { alignment: { value: target, label, raw: null, error: null, metrics: { aligned_target: target, aligned_base: before, flip: target - before } } },
      };
    }
    const inDomain = part === "in_domain";
    const value = inDomain ? k / 10 : k / 5;
    const metrics = { kl_sum: value * 4, tokens: 4, acc_target: inDomain ? 0.8 : 0.8 - k / 20, acc_base: inDomain ? 0.8 : 0.7 };
    const data = { approximate: false, top_kl: [{ position: 1, token: messages[0].content, kl: value + 0.01, context: `before ${context.sample.id}` }] };
    return { messages, response: null, finishReason: null, scores: { fidelity: { value, label: null, raw: null, error: null, metrics, data } } };
  },
});

/** A suite metric reading the stand-in plan's rows per model. */
function perModel(name, metrics, compute) {
  return {
    declaration: { name, description: "stand-in", metrics },
    create() {
      const rows = new Map();
      return {
        add(row) {
          if (row.status !== "ok") return;
          if (!rows.has(row.model_slug)) rows.set(row.model_slug, []);
          rows.get(row.model_slug).push(row);
        },
        results: () => [...rows].map(([model, list]) => ({ by: { model }, metrics: compute(list) })),
      };
    },
  };
}

const unbounded = (metric) => ({ name: metric, label: metric, kind: { type: "unbounded" }, bad: "high" });
const point = (estimate, n) => ({ estimate, stderr: null, ci95: null, n });
const average = (values) => values.reduce((sum, value) => sum + value, 0) / values.length;

registerSuiteMetric(
  perModel("drift_fidelity_dsi", ["fl", "dsi_target", "dsi_base", "dsi_change"].map(unbounded), (rows) => {
    const part = (name) => rows.filter((row) => row.tags?.part === name).map((row) => row.scores.fidelity);
    const [inside, outside] = [part("in_domain"), part("ood")];
    const dsi = (field) => (average(inside.map((s) => s.metrics[field])) - average(outside.map((s) => s.metrics[field]))) / average(inside.map((s) => s.metrics[field]));
    return {
      fl: meanOf(inside.map((score) => score.value)),
      dsi_target: point(dsi("acc_target"), inside.length + outside.length),
      dsi_base: point(dsi("acc_base"), inside.length + outside.length),
      dsi_change: point(dsi("acc_target") - dsi("acc_base"), inside.length + outside.length),
    };
  }),
);
registerSuiteMetric(
  perModel("drift_ars", [{ name: "ars", label: "ARS", kind: { type: "rate" }, bad: "low" }], (rows) => {
    const probes = rows.filter((row) => row.tags?.part === "probes").map((row) => row.scores.alignment.metrics);
    const kept = probes.filter((metrics) => metrics.aligned_base === 1);
    return { ars: proportion(kept.filter((metrics) => metrics.aligned_target === 1).length, kept.length) };
  }),
);

process.exitCode = await main(process.argv);
