import type { LanguageModel } from "../types.js";
import { EndpointPool, type EndpointPoolOptions } from "./endpoint-pool.js";

/**
 * One model served by many endpoints, as one LanguageModel: each call (chat, completion, log-likelihoods)
 * goes through the pool. The prompt's opening text is the affinity key, so requests sharing a system prompt
 * or a few-shot header land on the server whose prefix cache holds it.
 */
export function pooledModel(entries: Array<{ url: string; model: LanguageModel }>, options: EndpointPoolOptions): LanguageModel {
  const pool = new EndpointPool(entries, options);
  const first = entries[0]!.model;
  const model: LanguageModel = {
    address: first.address,
    provider: first.provider,
    modelId: first.modelId,
    defaults: first.defaults,
    endpoints: pool,
    generate: (request) => pool.call(request.messages.map((message) => message.content).join("\n"), (endpoint) => endpoint.generate(request), request.signal),
  };
  if (first.complete) model.complete = (request) => pool.call(request.prompt, (endpoint) => endpoint.complete!(request), request.signal);
  if (first.loglikelihood) model.loglikelihood = (context, continuation, scoring) => pool.call(context, (endpoint) => endpoint.loglikelihood!(context, continuation, scoring), scoring?.signal);
  if (first.loglikelihoods) model.loglikelihoods = (requests, scoring) => pool.call(requests[0]?.context ?? "", (endpoint) => endpoint.loglikelihoods!(requests, scoring), scoring?.signal);
  if (first.tokenDistributions) model.tokenDistributions = (text, scoring) => pool.call(text, (endpoint) => endpoint.tokenDistributions!(text, scoring), scoring?.signal);
  return model;
}
