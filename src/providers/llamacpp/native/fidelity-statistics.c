// The Fidelity Loss numbers of one text position, from the two models' rows of logits, in double precision.
// With the log-softmax ls(v) = logit(v) - max - log Z, per scored position i (the row predicting token i+1):
//   kl = sum_v p_t(v) (ls_t(v) - ls_b(v))     (nats; a term with p_t(v) = 0 adds 0, as 0 log 0 = 0)
//   tv = 1/2 sum_v |p_t(v) - p_b(v)|
//   argmax_m = the lowest id with the largest logit;  ll_m = ls_m(token i+1)
// Working from the logits in double, a token e^-230 below the top still has its exact log-probability (the
// float32 probabilities node-llama-cpp gives stop at e^-87 and need re-evaluations below it).

#include "fidelity-statistics.h"

#include <math.h>
#include <pthread.h>

// `scratch` holds 2 x vocab doubles: each exponential is computed once and used for Z, p, KL and TV.
static void position(const float *lt, const float *lb, int32_t vocab, int32_t next, double *scratch, fidelity_outputs *out, int32_t at) {
  float max_t = -INFINITY, max_b = -INFINITY;
  int32_t best_t = 0, best_b = 0;
  for (int32_t v = 0; v < vocab; v++) {
    if (lt[v] > max_t) max_t = lt[v], best_t = v;
    if (lb[v] > max_b) max_b = lb[v], best_b = v;
  }
  double *et = scratch, *eb = scratch + vocab;
  double zt = 0, zb = 0;
  for (int32_t v = 0; v < vocab; v++) {
    et[v] = exp((double)lt[v] - max_t);
    eb[v] = exp((double)lb[v] - max_b);
    zt += et[v];
    zb += eb[v];
  }
  const double norm_t = max_t + log(zt), norm_b = max_b + log(zb);
  const double inv_t = 1 / zt, inv_b = 1 / zb;
  double kl = 0, tv = 0;
  for (int32_t v = 0; v < vocab; v++) {
    const double pt = et[v] * inv_t, pb = eb[v] * inv_b;
    if (pt > 0) kl += pt * (((double)lt[v] - norm_t) - ((double)lb[v] - norm_b));
    tv += fabs(pt - pb);
  }
  out->kl[at] = kl;
  out->tv[at] = tv / 2;
  out->ll_t[at] = (double)lt[next] - norm_t;
  out->ll_b[at] = (double)lb[next] - norm_b;
  out->arg_t[at] = best_t;
  out->arg_b[at] = best_b;
}

typedef struct {
  struct llama_context *target, *base;
  int32_t vocab;
  const int32_t *tokens;
  int32_t chunk_start, from, to;
  double *scratch;
  fidelity_outputs *out;
  const char *error;
} slice;

static void *run_slice(void *data) {
  slice *work = data;
  for (int32_t p = work->from; p < work->to; p++) {
    const float *lt = llama_get_logits_ith(work->target, p - work->chunk_start);
    const float *lb = llama_get_logits_ith(work->base, p - work->chunk_start);
    if (!lt || !lb) {
      work->error = "llama.cpp kept no logits for a position";
      return NULL;
    }
    position(lt, lb, work->vocab, work->tokens[p + 1], work->scratch, work->out, p);
  }
  return NULL;
}

const char *fidelity_statistics(struct llama_context *target, struct llama_context *base, int32_t vocab, const int32_t *tokens, int32_t chunk_start, int32_t from,
                                int32_t to, int32_t threads, double *scratch, fidelity_outputs *out) {
  const int32_t positions = to - from;
  if (positions <= 0) return NULL;
  int32_t used = threads < positions ? threads : positions;
  if (used > FIDELITY_MAX_THREADS) used = FIDELITY_MAX_THREADS;
  if (used < 1) used = 1;
  slice slices[FIDELITY_MAX_THREADS];
  pthread_t ids[FIDELITY_MAX_THREADS];
  int started[FIDELITY_MAX_THREADS] = {0};
  for (int32_t t = 0; t < used; t++) {
    slices[t] = (slice){target, base, vocab, tokens, chunk_start, from + (int32_t)((int64_t)positions * t / used), from + (int32_t)((int64_t)positions * (t + 1) / used),
                        scratch + (size_t)2 * vocab * t, out, NULL};
    if (t > 0) started[t] = pthread_create(&ids[t], NULL, run_slice, &slices[t]) == 0;
  }
  // Slice 0 runs on this thread, and so does any slice whose thread could not start.
  for (int32_t t = 0; t < used; t++)
    if (!started[t]) run_slice(&slices[t]);
  const char *error = NULL;
  for (int32_t t = 0; t < used; t++) {
    if (started[t]) pthread_join(ids[t], NULL);
    if (slices[t].error) error = slices[t].error;
  }
  return error;
}
