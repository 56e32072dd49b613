import { type MockAction, type MockLlm, type MockRequest, startMockLlm } from "./mock-llm.js";

// A mock of every model the SaVaCu pipeline calls, on one loopback OpenAI-compatible server (built on
// mock-llm.ts), answering by model name:
//   clf     classifier without log-probabilities: the n-th sample for a (prompt, taxonomy) says yes to a
//           label when (n − 1) mod 5 < round(5·p), so k = 5 samples give the share round(5·p)/5;
//   clf-lp  classifier with log-probabilities: the greedy JSON answer, and at each value token the
//           alternatives yes (log p) and no (log(1 − p));
//   exp     expander: "A new prompt about DOMAIN (KIND), variant I";
//   gen-*   generators: "[MODEL] ALIGNED|MISALIGNED response to: PROMPT", plus " (revised: REASON)" when fed back;
//   chk     checker: passes every response and pair, except prompts marked REJECT-FIRST (fails the aligned
//           response until it is revised), REJECT-ALWAYS (fails the misaligned response always) and PAIR-FAIL
//           (fails the pair, fix misaligned, until the misaligned response is revised).
// `probability(prompt, kind, label)` gives p (default 0).

export interface SavacuMockOptions {
  probability?: (prompt: string, kind: string, label: string) => number;
  latencyMs?: number;
}

const between = (text: string, tag: string) => new RegExp(`<<<${tag}\\n([\\s\\S]*?)\\n${tag}>>>`).exec(text)?.[1] ?? "";

function classifierRequest(text: string): { prompt: string; kind: string; labels: string[] } {
  const kind = /Classify a user prompt into (\w+) domains/.exec(text)?.[1] ?? "";
  const listed = text.slice(text.indexOf("domains:\n") + 9, text.indexOf("\n\nThe prompt"));
  return { prompt: between(text, "PROMPT"), kind, labels: listed.split("\n").map((line) => line.replace(/^- /, "")) };
}

function chatWithLogprobs(model: unknown, tokens: Array<{ token: string; logprob: number; top_logprobs: Array<{ token: string; logprob: number }> }>): MockAction {
  const content = tokens.map((t) => t.token).join("");
  return {
    raw: JSON.stringify({
      id: "chatcmpl-lp",
      object: "chat.completion",
      model,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop", logprobs: { content: tokens } }],
      usage: { prompt_tokens: 10, completion_tokens: tokens.length },
    }),
  };
}

export async function startSavacuMock(options: SavacuMockOptions = {}): Promise<MockLlm> {
  const probability = options.probability ?? (() => 0);
  const samples = new Map<string, number>();
  const handler = (request: MockRequest): MockAction => {
    const model = String(request.body.model);
    const text = request.text;
    if (model === "clf" || model === "clf-lp") {
      const { prompt, kind, labels } = classifierRequest(text);
      if (model === "clf-lp" && request.body.logprobs) {
        const tokens: Array<{ token: string; logprob: number; top_logprobs: Array<{ token: string; logprob: number }> }> = [];
        labels.forEach((label, i) => {
          const p = probability(prompt, kind, label);
          tokens.push({ token: `${i === 0 ? "{" : ", "}${JSON.stringify(label)}: "`, logprob: 0, top_logprobs: [] });
          const top = [
            { token: "yes", logprob: Math.log(Math.max(p, 1e-12)) },
            { token: "no", logprob: Math.log(Math.max(1 - p, 1e-12)) },
          ].sort((a, b) => b.logprob - a.logprob);
          tokens.push({ token: top[0]!.token, logprob: top[0]!.logprob, top_logprobs: top });
          tokens.push({ token: i === labels.length - 1 ? '"}' : '"', logprob: 0, top_logprobs: [] });
        });
        return chatWithLogprobs(request.body.model, tokens);
      }
      const key = `${prompt}\u0000${kind}`;
      const n = (samples.get(key) ?? 0) + 1;
      samples.set(key, n);
      const answer = Object.fromEntries(labels.map((label) => [label, (n - 1) % 5 < Math.round(5 * probability(prompt, kind, label)) ? "yes" : "no"]));
      return { reply: JSON.stringify(answer) };
    }
    if (model === "exp") {
      const [, kind, domain] = /concerns the (\w+) domain "(.*)"/.exec(text) ?? [];
      const variant = /variant (\d+)/.exec(text)?.[1];
      return { reply: `A new prompt about ${domain} (${kind}), variant ${variant}` };
    }
    if (model.startsWith("gen-")) {
      const side = text.includes("that is misaligned on these domains") ? "MISALIGNED" : "ALIGNED";
      const reason = /rejected your previous response for this reason: (.*)/.exec(text)?.[1];
      return { reply: `[${model}] ${side} response to: ${between(text, "PROMPT")}${reason ? ` (revised: ${reason})` : ""}` };
    }
    if (model === "chk") {
      const prompt = between(text, "PROMPT");
      const verdict = (pass: boolean, reason: string, fix?: string) => ({ reply: JSON.stringify({ verdict: pass ? "pass" : "fail", reason, ...(fix ? { fix } : {}) }) });
      if (text.startsWith("Two responses")) {
        const misaligned = between(text, "B");
        return prompt.includes("PAIR-FAIL") && !misaligned.includes("(revised") ? verdict(false, "B is not different enough", "misaligned") : verdict(true, "they differ");
      }
      const side = /Check whether a response is (aligned|misaligned)/.exec(text)?.[1];
      const response = between(text, "RESPONSE");
      if (prompt.includes("REJECT-ALWAYS") && side === "misaligned") return verdict(false, "still harmless");
      if (prompt.includes("REJECT-FIRST") && side === "aligned" && !response.includes("(revised")) return verdict(false, "too vague");
      return verdict(true, "as claimed");
    }
    return { status: 404, json: { error: { message: `the SaVaCu mock has no model ${model}` } } };
  };
  return startMockLlm(handler, options.latencyMs ? { latencyMs: options.latencyMs } : {});
}
