import { UserError } from "../../errors.js";

// node-llama-cpp is an optional dependency, pinned at exactly 3.21.1: it is large (≈700 MB with its GPU
// variants) and only local-model users need it. It is imported on first use of a llamacpp: model, and
// described here by the few members alignbench uses (as 3.21.1 has them), so alignbench builds and
// type-checks without it. Scoring relies on how 3.21.1 computes probabilities (llamacpp-probabilities.ts):
// check it again before moving to another version.

export type Token = number;

/** What controlledEvaluate computes after an evaluated token (node-llama-cpp 3.21.1). */
export interface NextOptions {
  /** The whole vocabulary's probabilities of being the next token, after the sampler chain of `options`. */
  probabilities?: boolean;
  options?: { temperature?: number; tokenBias?: TokenBiasObject };
}

export interface NextOutput {
  /** Token → probability in float32, every vocabulary token, most likely first. */
  probabilities?: Map<Token, number>;
}

/** node-llama-cpp's TokenBias: `_biases` (token → logit added) is what its addon reads. */
export interface TokenBiasObject {
  readonly _biases: Map<Token, number>;
}

export interface LlamaSequence {
  controlledEvaluate(input: Array<Token | [Token, { generateNext?: NextOptions }]>): Promise<Array<undefined | { next: NextOutput }>>;
  clearHistory(): Promise<void>;
  /** The tokens whose state the sequence holds, in order. */
  readonly contextTokens: Token[];
  readonly nextTokenIndex: number;
  /** Drops the state of tokens in [start, end). */
  eraseContextTokenRanges(ranges: Array<{ start: number; end: number }>): Promise<void>;
  readonly tokenMeter: { readonly usedInputTokens: number; readonly usedOutputTokens: number };
}

/** A queued evaluation as node-llama-cpp's batching sees it (3.21.1's BatchItem). */
export interface LlamaBatchItem {
  readonly tokens: readonly Token[];
}

/** Which queued evaluations go into the next batch, and how many of each one's tokens (3.21.1's CustomBatchingPrioritizationStrategy). */
export type LlamaBatchingStrategy = (options: { items: readonly LlamaBatchItem[]; size: number }) => Array<{ item: LlamaBatchItem; processAmount: number }>;

export interface LlamaContext {
  getSequence(): LlamaSequence;
  /** Tokens one sequence can hold. */
  readonly contextSize: number;
  dispose(): Promise<void>;
}

/** The GGUF metadata alignbench reads: the tokenizer's vocabulary. */
export interface GgufTokenizerMetadata {
  readonly model?: string;
  readonly tokens?: readonly string[];
  readonly merges?: readonly string[];
}

/** A grammar generation is constrained by (node-llama-cpp's LlamaGrammar, opaque here). */
export type LlamaGrammar = object;

/** The grammars a llama.cpp runtime builds: from a JSON Schema (its subset: json-grammar.ts), or any JSON. */
export interface LlamaGrammars {
  createGrammarForJsonSchema(schema: Record<string, unknown>): Promise<LlamaGrammar>;
  getGrammarFor(type: "json"): Promise<LlamaGrammar>;
}

export interface LlamaModel {
  /** The runtime that loaded the model. */
  readonly llama: LlamaGrammars;
  tokenize(text: string, specialTokens?: boolean): Token[];
  /** `lastTokens`: the tokens before these, so a leading space the text needs after them is kept. */
  detokenize(tokens: readonly Token[], specialTokens?: boolean, lastTokens?: readonly Token[]): string;
  /** `shouldPrependBosToken`: the vocabulary's own add-BOS flag (GGUF `tokenizer.ggml.add_bos_token`, else llama.cpp's default for the tokenizer type). */
  readonly tokens: { readonly bos: Token | null; readonly eos: Token | null; readonly shouldPrependBosToken: boolean };
  /** The model's tokenizer, which a TokenBias is created for. */
  readonly tokenizer: unknown;
  readonly fileInfo: { readonly metadata?: { readonly tokenizer?: { readonly ggml?: GgufTokenizerMetadata; readonly chat_template?: string } } };
  isEogToken(token: Token): boolean;
  /** A context that returns the model's (pooled) embedding of a text. */
  createEmbeddingContext(options: { contextSize?: number; threads?: number }): Promise<LlamaEmbeddingContext>;
  createContext(options: { sequences: number; contextSize?: number; threads?: number; seed?: number; batching?: { itemPrioritizationStrategy?: LlamaBatchingStrategy } }): Promise<LlamaContext>;
  dispose(): Promise<void>;
}

export interface LlamaEmbeddingContext {
  getEmbeddingFor(text: string): Promise<{ readonly vector: readonly number[] }>;
  dispose(): Promise<void>;
}

/** A chat template (node-llama-cpp's ChatWrapper): renders a chat history as the model reads it. */
export interface LlamaChatWrapper {
  /** The wrapper's name (a specialised one, or "JinjaTemplate" for the GGUF's own template). */
  readonly wrapperName: string;
  generateContextState(options: { chatHistory: ChatHistoryItem[] }): { contextText: { tokenize(tokenizer: unknown): Token[] } };
}

export interface LlamaRuntime {
  /** `vocabOnly` loads the tokenizer alone (no weights): enough to tokenize, not to evaluate. */
  loadModel(options: { modelPath: string; gpuLayers?: number | "auto" | "max"; vocabOnly?: boolean }): Promise<LlamaModel>;
}

export type ChatHistoryItem = { type: "system"; text: string } | { type: "user"; text: string } | { type: "model"; response: string[] };

export interface LlamaChatInstance {
  generateResponse(
    history: ChatHistoryItem[],
    options: { maxTokens?: number; temperature?: number; topP?: number; seed?: number; customStopTriggers?: string[]; signal?: AbortSignal; grammar?: LlamaGrammar },
  ): Promise<{ response: string; metadata: { stopReason: string } }>;
  dispose(options?: { disposeSequence?: boolean }): void;
}

/** Raw text continuation, no chat template (node-llama-cpp 3.21.1 LlamaCompletion). */
export interface LlamaCompletionInstance {
  generateCompletionWithMeta(
    input: string,
    options: {
      maxTokens?: number;
      temperature?: number;
      topK?: number;
      topP?: number;
      minP?: number;
      seed?: number;
      repeatPenalty?: false;
      customStopTriggers?: string[];
      signal?: AbortSignal;
      onToken?: (tokens: Token[]) => void;
    },
  ): Promise<{ response: string; metadata: { stopReason: string } }>;
  dispose(options?: { disposeSequence?: boolean }): void;
}

/** The part of node-llama-cpp that names a model's chat template. */
export interface NodeLlamaCppChat {
  /** The chat wrapper LlamaChat applies to a model (its "auto" choice): a specialised one, or the GGUF's Jinja template. */
  resolveChatWrapper(model: LlamaModel): LlamaChatWrapper;
}

interface NodeLlamaCpp extends NodeLlamaCppChat {
  getLlama(options: { gpu: GpuChoice; build: "never" | "auto"; logLevel: string }): Promise<LlamaRuntime>;
  LlamaChat: new (options: { contextSequence: LlamaSequence }) => LlamaChatInstance;
  LlamaCompletion: new (options: { contextSequence: LlamaSequence }) => LlamaCompletionInstance;
  TokenBias: new (tokenizer: unknown) => TokenBiasObject;
}

const PACKAGE = "node-llama-cpp";
let library: Promise<NodeLlamaCpp> | undefined;
const runtimes = new Map<string, Promise<LlamaRuntime>>();

export function loadLibrary(): Promise<NodeLlamaCpp> {
  library ??= (import(PACKAGE) as Promise<NodeLlamaCpp>).catch((error: unknown) => {
    library = undefined;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new UserError(
        "local GGUF models need node-llama-cpp, an optional dependency that was not installed here (no prebuilt binary for this platform, or `--omit=optional`): install it next to alignbench with `npm install node-llama-cpp@3.21.1`",
      );
    }
    throw error;
  });
  return library;
}

export type GpuChoice = "auto" | "cuda" | "vulkan" | "metal" | false;

/**
 * The llama.cpp runtime for a GPU backend, created once. Prebuilt binaries only: a machine without one gets
 * a clear error at once instead of a multi-minute compile of llama.cpp (ALIGNBENCH_LLAMA_BUILD=auto allows
 * building from source).
 */
export function llamaRuntime(gpu: GpuChoice): Promise<LlamaRuntime> {
  const key = String(gpu);
  let runtime = runtimes.get(key);
  if (!runtime) {
    runtime = loadLibrary().then(async ({ getLlama }) => {
      try {
        return await getLlama({ gpu, build: process.env.ALIGNBENCH_LLAMA_BUILD === "auto" ? "auto" : "never", logLevel: "error" });
      } catch (error) {
        runtimes.delete(key);
        throw new UserError(`cannot start llama.cpp (gpu: ${key}): ${(error as Error).message}`);
      }
    });
    runtimes.set(key, runtime);
  }
  return runtime;
}
