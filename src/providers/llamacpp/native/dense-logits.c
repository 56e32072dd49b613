// alignbench's dense-logits addon: Fidelity Loss statistics computed next to llama.cpp's logits.
//
// Why it exists: node-llama-cpp 3.21.1 hands JavaScript no logits. Its only dense output is a JS array of
// token/probability pairs per position, built with one N-API call per element, in float32 (which underflows
// below e^-87 and needs re-evaluations to recover). For a 32k vocabulary that costs 10-20x the forward pass.
// This addon calls the llama.cpp library node-llama-cpp already loaded into the process (it is linked by
// soname, so the dynamic loader hands back that same copy: one ggml backend registry, one set of CPU
// kernels), loads a GGUF with llama.cpp's own API, decodes a whole text in one llama_decode with the logits of
// every position, and reduces the two models' rows to a few numbers per position in double precision.
// Compiled at first use by native-build.ts against llama.h from node-llama-cpp's bundled llama.cpp source.
//
// The numbers of each position are computed in fidelity-statistics.c; the text-level sums and counts are
// made in JavaScript (drift-kl.ts), from the arrays this file hands back.

#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fidelity-statistics.h"
#include "llama.h"

// ---------- small N-API helpers ----------

#define CHECK(env, call)                                                                                       \
  do {                                                                                                         \
    if ((call) != napi_ok) {                                                                                   \
      const napi_extended_error_info *info = NULL;                                                             \
      napi_get_last_error_info((env), &info);                                                                  \
      napi_throw_error((env), NULL, info && info->error_message ? info->error_message : "N-API call failed"); \
      return NULL;                                                                                             \
    }                                                                                                          \
  } while (0)

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static void *external_of(napi_env env, napi_value value) {
  void *data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok) return NULL;
  return data;
}

// A handle JavaScript holds: the pointer is cleared once freed, so a second free or a use after free is an
// error, not a crash.
typedef struct {
  struct llama_model *model;
} model_handle;

typedef struct {
  struct llama_context *context;
  int32_t vocab;
  int32_t batch;
} context_handle;

// ---------- loading ----------

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *path;
  int32_t gpu_layers;
  struct llama_model *model;
} load_job;

static void load_execute(napi_env env, void *data) {
  (void)env;
  load_job *job = data;
  struct llama_model_params params = llama_model_default_params();
  params.n_gpu_layers = job->gpu_layers;
  job->model = llama_model_load_from_file(job->path, params);
}

static void load_complete(napi_env env, napi_status status, void *data) {
  load_job *job = data;
  napi_value result;
  if (status == napi_ok && job->model) {
    model_handle *handle = calloc(1, sizeof(model_handle));
    handle->model = job->model;
    napi_create_external(env, handle, NULL, NULL, &result);
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_value message;
    napi_create_string_utf8(env, "llama.cpp could not load the model file", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &result);
    napi_reject_deferred(env, job->deferred, result);
  }
  napi_delete_async_work(env, job->work);
  free(job->path);
  free(job);
}

// loadModel(path: string, gpuLayers: number): Promise<model>
static napi_value load_model(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  size_t length = 0;
  CHECK(env, napi_get_value_string_utf8(env, argv[0], NULL, 0, &length));
  load_job *job = calloc(1, sizeof(load_job));
  job->path = malloc(length + 1);
  CHECK(env, napi_get_value_string_utf8(env, argv[0], job->path, length + 1, &length));
  CHECK(env, napi_get_value_int32(env, argv[1], &job->gpu_layers));
  napi_value promise, name;
  CHECK(env, napi_create_promise(env, &job->deferred, &promise));
  CHECK(env, napi_create_string_utf8(env, "alignbench.loadModel", NAPI_AUTO_LENGTH, &name));
  CHECK(env, napi_create_async_work(env, NULL, name, load_execute, load_complete, job, &job->work));
  CHECK(env, napi_queue_async_work(env, job->work));
  return promise;
}

// createContext(model, contextSize, batchSize, threads): context — every position's logits kept (n_outputs = batch).
static napi_value create_context(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  model_handle *model = external_of(env, argv[0]);
  if (!model || !model->model) return throw_error(env, "createContext: the model has been freed");
  int32_t size, batch, threads;
  CHECK(env, napi_get_value_int32(env, argv[1], &size));
  CHECK(env, napi_get_value_int32(env, argv[2], &batch));
  CHECK(env, napi_get_value_int32(env, argv[3], &threads));
  struct llama_context_params params = llama_context_default_params();
  params.n_ctx = (uint32_t)size;
  params.n_batch = (uint32_t)batch;
  params.n_ubatch = (uint32_t)batch;
  params.n_seq_max = 1;
  params.n_threads = threads;
  params.n_threads_batch = threads;
  params.no_perf = true;
  // As node-llama-cpp's contexts: flash attention on (its default resolves to on where supported) and no
  // full-size SWA cache, so both exact paths run the same arithmetic (without flash attention the logits differ
  // by up to 1e-2 on a 512-wide model). Where flash attention cannot run, llama.cpp decides.
  params.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_ENABLED;
  params.swa_full = false;
  struct llama_context *context = llama_init_from_model(model->model, params);
  if (!context) {
    params.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_AUTO;
    context = llama_init_from_model(model->model, params);
  }
  if (!context) return throw_error(env, "llama.cpp could not create a context for the model (out of memory?)");
  context_handle *handle = calloc(1, sizeof(context_handle));
  handle->context = context;
  handle->vocab = llama_vocab_n_tokens(llama_model_get_vocab(model->model));
  handle->batch = (int32_t)llama_n_batch(context);
  napi_value result;
  CHECK(env, napi_create_external(env, handle, NULL, NULL, &result));
  return result;
}

// vocabSize(context): number
static napi_value vocab_size(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  context_handle *context = external_of(env, argv[0]);
  if (!context || !context->context) return throw_error(env, "vocabSize: the context has been freed");
  CHECK(env, napi_create_int32(env, context->vocab, &result));
  return result;
}

static napi_value free_context(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  context_handle *context = external_of(env, argv[0]);
  if (context && context->context) {
    llama_free(context->context);
    context->context = NULL;
  }
  return NULL;
}

static napi_value free_model(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  model_handle *model = external_of(env, argv[0]);
  if (model && model->model) {
    llama_model_free(model->model);
    model->model = NULL;
  }
  return NULL;
}

// ---------- evaluating a text on two models ----------

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  context_handle *target;
  context_handle *base;
  int32_t *tokens;
  int32_t count;
  int32_t threads;
  int stats;
  fidelity_outputs out;  // one value per scored position (count - 1)
  const char *error;
} evaluate_job;

static int decode_chunk(struct llama_context *context, struct llama_batch *batch) {
  return llama_decode(context, *batch);
}

static void evaluate_execute(napi_env env, void *data) {
  (void)env;
  evaluate_job *job = data;
  const int same = job->target == job->base;
  llama_memory_clear(llama_get_memory(job->target->context), true);
  if (!same) llama_memory_clear(llama_get_memory(job->base->context), true);
  const int32_t chunk = job->target->batch < job->base->batch ? job->target->batch : job->base->batch;
  struct llama_batch batch = llama_batch_init(chunk, 0, 1);
  const int32_t vocab = job->target->vocab;
  int32_t threads = job->threads < 1 ? 1 : job->threads > FIDELITY_MAX_THREADS ? FIDELITY_MAX_THREADS : job->threads;
  double *scratch = job->stats ? malloc(sizeof(double) * 2 * (size_t)vocab * (size_t)threads) : NULL;
  if (job->stats && !scratch) job->error = "out of memory for the statistics";
  for (int32_t start = 0; start < job->count && !job->error; start += chunk) {
    const int32_t end = start + chunk < job->count ? start + chunk : job->count;
    batch.n_tokens = end - start;
    for (int32_t i = start; i < end; i++) {
      batch.token[i - start] = job->tokens[i];
      batch.pos[i - start] = i;
      batch.n_seq_id[i - start] = 1;
      batch.seq_id[i - start][0] = 0;
      batch.logits[i - start] = 1;
    }
    if (decode_chunk(job->target->context, &batch) != 0 || (!same && decode_chunk(job->base->context, &batch) != 0)) {
      job->error = "llama_decode failed (the text does not fit the context, or out of memory)";
      break;
    }
    if (!job->stats) continue;
    // Positions start..min(end, count - 1): the last token of the text predicts past it and is not scored.
    const int32_t last = end < job->count - 1 ? end : job->count - 1;
    if (last <= start) continue;
    job->error = fidelity_statistics(job->target->context, job->base->context, vocab, job->tokens, start, start, last, threads, scratch, &job->out);
  }
  free(scratch);
  llama_batch_free(batch);
}

static napi_value float64_array(napi_env env, double *values, int32_t count) {
  napi_value buffer, array;
  void *data;
  napi_create_arraybuffer(env, sizeof(double) * (size_t)count, &data, &buffer);
  if (count > 0) memcpy(data, values, sizeof(double) * (size_t)count);
  napi_create_typedarray(env, napi_float64_array, (size_t)count, buffer, 0, &array);
  return array;
}

static napi_value int32_array(napi_env env, int32_t *values, int32_t count) {
  napi_value buffer, array;
  void *data;
  napi_create_arraybuffer(env, sizeof(int32_t) * (size_t)count, &data, &buffer);
  if (count > 0) memcpy(data, values, sizeof(int32_t) * (size_t)count);
  napi_create_typedarray(env, napi_int32_array, (size_t)count, buffer, 0, &array);
  return array;
}

static void evaluate_complete(napi_env env, napi_status status, void *data) {
  evaluate_job *job = data;
  napi_value result;
  if (status != napi_ok || job->error) {
    napi_value message;
    napi_create_string_utf8(env, job->error ? job->error : "the evaluation was cancelled", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &result);
    napi_reject_deferred(env, job->deferred, result);
  } else if (!job->stats) {
    napi_get_null(env, &result);
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    const int32_t positions = job->count > 0 ? job->count - 1 : 0;
    napi_create_object(env, &result);
    napi_set_named_property(env, result, "kl", float64_array(env, job->out.kl, positions));
    napi_set_named_property(env, result, "tv", float64_array(env, job->out.tv, positions));
    napi_set_named_property(env, result, "llTarget", float64_array(env, job->out.ll_t, positions));
    napi_set_named_property(env, result, "llBase", float64_array(env, job->out.ll_b, positions));
    napi_set_named_property(env, result, "greedyTarget", int32_array(env, job->out.arg_t, positions));
    napi_set_named_property(env, result, "greedyBase", int32_array(env, job->out.arg_b, positions));
    napi_resolve_deferred(env, job->deferred, result);
  }
  napi_delete_async_work(env, job->work);
  free(job->tokens);
  free(job->out.kl);
  free(job->out.tv);
  free(job->out.ll_t);
  free(job->out.ll_b);
  free(job->out.arg_t);
  free(job->out.arg_b);
  free(job);
}

// evaluate(target, base, tokens: Int32Array, stats: boolean, threads: number): Promise<stats | null>
// Decodes the tokens on both contexts (every position's logits), then, when `stats`, reduces the rows. The
// caller must not use either context until the promise settles (native-fidelity.ts queues the calls).
static napi_value evaluate(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  context_handle *target = external_of(env, argv[0]);
  context_handle *base = external_of(env, argv[1]);
  if (!target || !target->context || !base || !base->context) return throw_error(env, "evaluate: a context has been freed");
  if (target->vocab != base->vocab) return throw_error(env, "evaluate: the two models have vocabularies of different sizes");
  napi_typedarray_type type;
  size_t length;
  void *tokens;
  CHECK(env, napi_get_typedarray_info(env, argv[2], &type, &length, &tokens, NULL, NULL));
  if (type != napi_int32_array) return throw_error(env, "evaluate: tokens must be an Int32Array");
  if (length > (size_t)llama_n_ctx(target->context) || length > (size_t)llama_n_ctx(base->context)) return throw_error(env, "evaluate: the text is longer than the context");
  for (size_t i = 0; i < length; i++)
    if (((int32_t *)tokens)[i] < 0 || ((int32_t *)tokens)[i] >= target->vocab) return throw_error(env, "evaluate: a token id is outside the vocabulary");
  bool stats;
  CHECK(env, napi_get_value_bool(env, argv[3], &stats));
  evaluate_job *job = calloc(1, sizeof(evaluate_job));
  CHECK(env, napi_get_value_int32(env, argv[4], &job->threads));
  job->target = target;
  job->base = base;
  job->count = (int32_t)length;
  job->stats = stats;
  job->tokens = malloc(sizeof(int32_t) * (length > 0 ? length : 1));
  memcpy(job->tokens, tokens, sizeof(int32_t) * length);
  const size_t positions = length > 1 ? length - 1 : 1;
  job->out.kl = malloc(sizeof(double) * positions);
  job->out.tv = malloc(sizeof(double) * positions);
  job->out.ll_t = malloc(sizeof(double) * positions);
  job->out.ll_b = malloc(sizeof(double) * positions);
  job->out.arg_t = malloc(sizeof(int32_t) * positions);
  job->out.arg_b = malloc(sizeof(int32_t) * positions);
  napi_value promise, name;
  CHECK(env, napi_create_promise(env, &job->deferred, &promise));
  CHECK(env, napi_create_string_utf8(env, "alignbench.evaluate", NAPI_AUTO_LENGTH, &name));
  CHECK(env, napi_create_async_work(env, NULL, name, evaluate_execute, evaluate_complete, job, &job->work));
  CHECK(env, napi_queue_async_work(env, job->work));
  return promise;
}

// copyLogits(context, rows: number, out: Float32Array): the raw logits of the last decoded chunk's first
// `rows` positions, for measuring a JavaScript reduction against the native one (bench/drift.mjs).
static napi_value copy_logits(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  context_handle *context = external_of(env, argv[0]);
  if (!context || !context->context) return throw_error(env, "copyLogits: the context has been freed");
  int32_t count;
  CHECK(env, napi_get_value_int32(env, argv[1], &count));
  napi_typedarray_type type;
  size_t length;
  void *out;
  CHECK(env, napi_get_typedarray_info(env, argv[2], &type, &length, &out, NULL, NULL));
  if (type != napi_float32_array || length < (size_t)count * (size_t)context->vocab) return throw_error(env, "copyLogits: out must be a Float32Array of rows x vocabulary");
  for (int32_t row = 0; row < count; row++) {
    const float *logits = llama_get_logits_ith(context->context, row);
    if (!logits) return throw_error(env, "copyLogits: no logits for that row");
    memcpy((float *)out + (size_t)row * context->vocab, logits, sizeof(float) * (size_t)context->vocab);
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"loadModel", NULL, load_model, NULL, NULL, NULL, napi_default, NULL},
      {"createContext", NULL, create_context, NULL, NULL, NULL, napi_default, NULL},
      {"vocabSize", NULL, vocab_size, NULL, NULL, NULL, napi_default, NULL},
      {"evaluate", NULL, evaluate, NULL, NULL, NULL, napi_default, NULL},
      {"copyLogits", NULL, copy_logits, NULL, NULL, NULL, napi_default, NULL},
      {"freeContext", NULL, free_context, NULL, NULL, NULL, napi_default, NULL},
      {"freeModel", NULL, free_model, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties));
  return exports;
}

NAPI_MODULE(alignbench_dense_logits, init)
