import { describe, expect, it } from "vitest";
import type { Message } from "../../src/providers/messages.js";
import { CONTINUE_INSTRUCTION, chatContinuationPlan } from "../../src/runner/plans/chat-continuation.js";
import type { PlanContext } from "../../src/runner/plans/types.js";

function context(conversation: Message[], options: Record<string, unknown>, persona?: { system_prompt: string }) {
  const calls: Message[][] = [];
  const value = {
    sample: { id: "g/e/0", conversation, metadata: {} },
    persona,
    options,
    call: async (_role: string, request: { messages: Message[] }) => {
      calls.push(request.messages);
      return { text: "continued.", finishReason: "stop" };
    },
  } as unknown as PlanContext;
  return { value, calls };
}

describe("the chat_continuation plan", () => {
  it("sends one user turn: the instruction (or plan_options.instruction), a blank line, the text; persona composed in", async () => {
    const plain = context([{ role: "user", content: "Jane Doe is an American actress who " }], {});
    expect(await chatContinuationPlan.run(plain.value)).toMatchObject({ response: "continued.", finishReason: "stop" });
    expect(plain.calls).toEqual([[{ role: "user", content: `${CONTINUE_INSTRUCTION}\n\nJane Doe is an American actress who ` }]]);

    const own = context([{ role: "user", content: "The text " }], { instruction: "Finish this:" }, { system_prompt: "Be brief." });
    await chatContinuationPlan.run(own.value);
    expect(own.calls).toEqual([
      [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Finish this:\n\nThe text " },
      ],
    ]);
  });

  it("refuses a conversation", async () => {
    const turns: Message[] = [
      { role: "user", content: "a" },
      { role: "assistant", content: "b" },
      { role: "user", content: "c" },
    ];
    await expect(chatContinuationPlan.run(context(turns, {}).value)).rejects.toThrow(/continues one text, but item g\/e\/0 is a conversation \(user, assistant, user\)/);
  });
});
