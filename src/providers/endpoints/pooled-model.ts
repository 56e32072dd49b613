import type { LanguageModel } from "../types.js";
import type { EndpointPool } from "./endpoint-pool.js";

/**
 * One model served by many endpoints, as one LanguageModel: each call (chat, completion, log-likelihoods)
 * goes through the pool. The prompt's opening text is the affinity key, so requests sharing a system prompt
 * or a few-shot header land on the server whose prefix cache holds it.
 */
export function pooledModel(pool: EndpointPool, endpoints: LanguageModel[]): LanguageModel {
  const first = endpoints[0]!;
  const model: LanguageModel = {
    address: first.address,
    provider: first.provider,
    modelId: first.modelId,
    defaults: first.defaults,
    endpoints: pool,
    generate: (request) => pool.call(request.messages.map((message) => message.content).join("\n"), (index) => endpoints[index]!.generate(request), request.signal),
  };
  if (first.complete) model.complete = (request) => pool.call(request.prompt, (index) => endpoints[index]!.complete!(request), request.signal);
  if (first.loglikelihood) model.loglikelihood = (context, continuation, scoring) => pool.call(context, (index) => endpoints[index]!.loglikelihood!(context, continuation, scoring), scoring?.signal);
  if (first.loglikelihoods) model.loglikelihoods = (requests, scoring) => pool.call(requests[0]?.context ?? "", (index) => endpoints[index]!.loglikelihoods!(requests, scoring), scoring?.signal);
  if (first.tokenDistributions) model.tokenDistributions = (text, scoring) => pool.call(text, (index) => endpoints[index]!.tokenDistributions!(text, scoring), scoring?.signal);
  return model;
}
