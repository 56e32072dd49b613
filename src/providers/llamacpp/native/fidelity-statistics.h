// The Fidelity Loss numbers of each position, from two llama.cpp contexts' logits (fidelity-statistics.c).
#ifndef ALIGNBENCH_FIDELITY_STATISTICS_H
#define ALIGNBENCH_FIDELITY_STATISTICS_H

#include <stdint.h>

#include "llama.h"

#define FIDELITY_MAX_THREADS 64

/** One value per scored text position, written at the position's index. */
typedef struct {
  double *kl, *tv, *ll_t, *ll_b;
  int32_t *arg_t, *arg_b;
} fidelity_outputs;

/**
 * Scores text positions [from, to): position p's rows are row p - chunk_start of each context's last decode,
 * and it predicts tokens[p + 1]. Runs on up to `threads` threads; `scratch` holds threads x 2 x vocab doubles.
 * Returns NULL, or a message when llama.cpp kept no logits for a row.
 */
const char *fidelity_statistics(struct llama_context *target, struct llama_context *base, int32_t vocab, const int32_t *tokens, int32_t chunk_start, int32_t from,
                                int32_t to, int32_t threads, double *scratch, fidelity_outputs *out);

#endif
