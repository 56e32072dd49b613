// The weight tools' hot loops (src/weights/kernels.ts loads this addon; diff.ts, merge-methods.ts and dtypes.ts
// hold the JavaScript twins, which stay the reference and the fallback). Each function does exactly what its
// twin does, in the same order, in double precision where the twin uses doubles: no reassociation (no fast-math)
// and no fused multiply-add (-ffp-contract=off), so the outputs match the JavaScript ones bit for bit. The one
// exception is chunkSums's order of additions (statistics, not outputs; see there). Typed
// arrays are read and written in place (napi_get_typedarray_info hands back their memory; nothing is copied).
#include <math.h>
#include <node_api.h>
#include <stdint.h>
#include <string.h>

#define CHECK(call)                                                                                                  \
  do {                                                                                                               \
    if ((call) != napi_ok) {                                                                                         \
      napi_throw_error(env, NULL, "weights-kernels: bad arguments");                                                 \
      return NULL;                                                                                                   \
    }                                                                                                                \
  } while (0)

/** A typed array argument's data and length, checked to be of `type`. */
static int typed(napi_env env, napi_value value, napi_typedarray_type type, void **data, size_t *length) {
  napi_typedarray_type actual;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &actual, length, data, &buffer, &offset) != napi_ok || actual != type) {
    napi_throw_type_error(env, NULL, "weights-kernels: a typed array of the wrong type");
    return 0;
  }
  return 1;
}

#define MAX_VECTORS 256

/** A JS array of Float32Array (each at least `count` long) into pointers. */
static int vectorList(napi_env env, napi_value list, size_t count, const float **out, uint32_t *n) {
  if (napi_get_array_length(env, list, n) != napi_ok || *n > MAX_VECTORS) {
    napi_throw_type_error(env, NULL, "weights-kernels: expected an array of at most 256 Float32Array");
    return 0;
  }
  for (uint32_t j = 0; j < *n; j++) {
    napi_value item;
    void *data;
    size_t length;
    if (napi_get_element(env, list, j, &item) != napi_ok || !typed(env, item, napi_float32_array, &data, &length)) return 0;
    if (length < count) {
      napi_throw_range_error(env, NULL, "weights-kernels: a task vector chunk is shorter than the base chunk");
      return 0;
    }
    out[j] = data;
  }
  return 1;
}

// One element into lane l: the same definitions as addChunk.
#define SUM_ONE(l, at)                                                                                               \
  {                                                                                                                  \
    const double b = base[at];                                                                                       \
    const double f = finetuned[at];                                                                                  \
    const double d = f - b;                                                                                          \
    ch[l] += (b != f) & !(b != b && f != f);                                                                         \
    bs[l] += b * b;                                                                                                  \
    fs[l] += f * f;                                                                                                  \
    bf[l] += b * f;                                                                                                  \
    ds[l] += d * d;                                                                                                  \
    const double magnitude = d < 0 ? -d : d;                                                                         \
    mx[l] = magnitude > mx[l] ? magnitude : mx[l];                                                                   \
  }

// chunkSums(base, finetuned, sums: Float64Array(6)): sums = [changed, Σb², Σf², Σb·f, ΣΔ², max|Δ|] of this chunk,
// with max|Δ| starting from sums[5]. diff.ts's addChunk: NaN on both sides is unchanged, −0 equals +0; a NaN
// anywhere makes ΣΔ² NaN, as there.
static napi_value chunkSums(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *base, *finetuned;
  double *sums;
  size_t count, other, six;
  if (!typed(env, argv[0], napi_float32_array, (void **)&base, &count) || !typed(env, argv[1], napi_float32_array, (void **)&finetuned, &other) ||
      !typed(env, argv[2], napi_float64_array, (void **)&sums, &six))
    return NULL;
  if (other < count || six < 6) {
    napi_throw_range_error(env, NULL, "weights-kernels: chunkSums lengths");
    return NULL;
  }
  // LANES independent partial sums per quantity (element i goes to lane i mod LANES), added up lane by lane at
  // the end: the compiler vectorises the lanes, and no addition waits on the one before (one running sum, as in
  // addChunk, is 7× slower here: each addition waits for the last). The order of additions differs, so the sums
  // agree with addChunk's to rounding (≤ 1e-12 relative, tested); the count and the maximum are exact.
  enum { LANES = 8 };
  double bs[LANES] = {0}, fs[LANES] = {0}, bf[LANES] = {0}, ds[LANES] = {0}, mx[LANES];
  uint64_t ch[LANES] = {0};
  for (int l = 0; l < LANES; l++) mx[l] = sums[5];
  // Whole groups of LANES (a fixed trip count, which the compiler vectorises), then the tail.
  const size_t whole = count - count % LANES;
  for (size_t i = 0; i < count; i += LANES) {
    const int lanes = i < whole ? LANES : (int)(count - i);
    if (lanes == LANES)
      for (int l = 0; l < LANES; l++) SUM_ONE(l, i + l)
    else
      for (int l = 0; l < lanes; l++) SUM_ONE(l, i + l)
  }
  double changed = 0, baseSquares = 0, finetunedSquares = 0, dot = 0, deltaSquares = 0, maxAbsDelta = sums[5];
  for (int l = 0; l < LANES; l++) {
    changed += (double)ch[l];
    baseSquares += bs[l];
    finetunedSquares += fs[l];
    dot += bf[l];
    deltaSquares += ds[l];
    if (mx[l] > maxAbsDelta) maxAbsDelta = mx[l];
  }
  sums[0] = changed;
  sums[1] = baseSquares;
  sums[2] = finetunedSquares;
  sums[3] = dot;
  sums[4] = deltaSquares;
  sums[5] = maxAbsDelta;
  return NULL;
}

// deltas(base, finetuned, delta): delta[i] = ft[i] − base[i], in double then rounded once to float32 (writeDeltas).
static napi_value deltas(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *base, *finetuned, *delta;
  size_t count, other, room;
  if (!typed(env, argv[0], napi_float32_array, (void **)&base, &count) || !typed(env, argv[1], napi_float32_array, (void **)&finetuned, &other) ||
      !typed(env, argv[2], napi_float32_array, (void **)&delta, &room))
    return NULL;
  if (other < count || room < count) {
    napi_throw_range_error(env, NULL, "weights-kernels: deltas lengths");
    return NULL;
  }
  for (size_t i = 0; i < count; i++) delta[i] = (float)((double)finetuned[i] - (double)base[i]);
  return NULL;
}

// taskArithmetic(base, vectors, lambdas: Float64Array, out: Float64Array): out = base + Σ λ_j τ_j, vector by vector.
static napi_value taskArithmetic(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *base;
  double *lambdas, *out;
  size_t count, nl, room;
  const float *vectors[MAX_VECTORS];
  uint32_t n;
  if (!typed(env, argv[0], napi_float32_array, (void **)&base, &count) || !vectorList(env, argv[1], count, vectors, &n) ||
      !typed(env, argv[2], napi_float64_array, (void **)&lambdas, &nl) || !typed(env, argv[3], napi_float64_array, (void **)&out, &room))
    return NULL;
  if (nl < n || room < count) {
    napi_throw_range_error(env, NULL, "weights-kernels: taskArithmetic lengths");
    return NULL;
  }
  for (size_t i = 0; i < count; i++) out[i] = base[i];
  for (uint32_t j = 0; j < n; j++) {
    const float *vector = vectors[j];
    const double lambda = lambdas[j];
    for (size_t i = 0; i < count; i++) out[i] = out[i] + lambda * (double)vector[i];
  }
  return NULL;
}

// ties(base, vectors, lambdas, thresholds: Float64Array, out): merge-methods.ts's ties, element by element.
static napi_value ties(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  float *base;
  double *lambdas, *thresholds, *out;
  size_t count, nl, nt, room;
  const float *vectors[MAX_VECTORS];
  uint32_t n;
  if (!typed(env, argv[0], napi_float32_array, (void **)&base, &count) || !vectorList(env, argv[1], count, vectors, &n) ||
      !typed(env, argv[2], napi_float64_array, (void **)&lambdas, &nl) || !typed(env, argv[3], napi_float64_array, (void **)&thresholds, &nt) ||
      !typed(env, argv[4], napi_float64_array, (void **)&out, &room))
    return NULL;
  if (nl < n || nt < n || room < count) {
    napi_throw_range_error(env, NULL, "weights-kernels: ties lengths");
    return NULL;
  }
  double trimmed[MAX_VECTORS];
  for (size_t i = 0; i < count; i++) {
    double total = 0;
    for (uint32_t j = 0; j < n; j++) {
      const double value = vectors[j][i];
      const double kept = value != 0 && fabs(value) >= thresholds[j] ? lambdas[j] * value : 0;
      trimmed[j] = kept;
      total += kept;
    }
    double sum = 0;
    double agreeing = 0;
    if (total != 0) {
      for (uint32_t j = 0; j < n; j++) {
        const double kept = trimmed[j];
        if (total > 0 ? kept > 0 : kept < 0) {
          sum += kept;
          agreeing++;
        }
      }
    }
    out[i] = (double)base[i] + (agreeing > 0 ? sum / agreeing : 0);
  }
  return NULL;
}

static inline uint32_t bitsOf(float value) {
  uint32_t bits;
  memcpy(&bits, &value, 4);
  return bits;
}

static inline float floatOf(uint32_t bits) {
  float value;
  memcpy(&value, &bits, 4);
  return value;
}

/** dtypes.ts's f16FromFloat32Bits. */
static inline uint16_t f16FromBits(uint32_t bits) {
  const uint32_t sign = (bits >> 16) & 0x8000;
  const uint32_t magnitude = bits & 0x7fffffff;
  if (magnitude > 0x7f800000) return (uint16_t)(sign | 0x7e00);
  if (magnitude >= 0x477ff000) return (uint16_t)(sign | 0x7c00);
  if (magnitude >= 0x38800000) {
    const uint32_t rebiased = magnitude - 0x38000000;
    return (uint16_t)(sign | ((rebiased + 0x0fff + ((rebiased >> 13) & 1)) >> 13));
  }
  const double units = (double)floatOf(magnitude) * 16777216.0;
  double whole = floor(units);
  const double rest = units - whole;
  if (rest > 0.5 || (rest == 0.5 && fmod(whole, 2) == 1)) whole++;
  return (uint16_t)(sign | (uint32_t)whole);
}

/** dtypes.ts's bf16FromFloat32Bits. */
static inline uint16_t bf16FromBits(uint32_t bits) {
  if ((bits & 0x7fffffff) > 0x7f800000) return (uint16_t)(((bits >> 16) | 0x0040) & 0xffff);
  return (uint16_t)(((bits + 0x7fff + ((bits >> 16) & 1)) >> 16) & 0xffff);
}

/** dtypes.ts's table entry for an F16 pattern. */
static inline float f16Value(uint32_t bits) {
  const double sign = bits & 0x8000 ? -1 : 1;
  const uint32_t exponent = (bits >> 10) & 0x1f;
  const uint32_t mantissa = bits & 0x3ff;
  if (exponent == 0) return (float)(sign * mantissa * 0x1p-24);
  if (exponent == 31) return mantissa == 0 ? (float)(sign * INFINITY) : floatOf(0x7fc00000);
  return (float)(sign * (1 + mantissa / 1024.0) * ldexp(1, (int)exponent - 15));
}

static float F16_VALUES[65536];

// decode(kind: 1 F16 | 2 BF16, halves: Uint16Array, out: Float32Array): decodeChunk's widening to float32.
static napi_value decode(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t kind;
  uint16_t *halves;
  float *out;
  size_t count, room;
  CHECK(napi_get_value_int32(env, argv[0], &kind));
  if (!typed(env, argv[1], napi_uint16_array, (void **)&halves, &count) || !typed(env, argv[2], napi_float32_array, (void **)&out, &room)) return NULL;
  if (room < count) {
    napi_throw_range_error(env, NULL, "weights-kernels: decode lengths");
    return NULL;
  }
  if (kind == 1)
    for (size_t i = 0; i < count; i++) out[i] = F16_VALUES[halves[i]];
  else {
    uint32_t *words = (uint32_t *)out;
    for (size_t i = 0; i < count; i++) words[i] = (uint32_t)halves[i] << 16;
  }
  return NULL;
}

// encode(kind: 0 F32 | 1 F16 | 2 BF16, values: Float64Array, out: Uint8Array): encodeChunk's correctly rounded
// narrowing (float32 to nearest even, or float32 rounded to odd and then 16 bits to nearest even).
static napi_value encode(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t kind;
  double *values;
  uint8_t *out;
  size_t count, room;
  CHECK(napi_get_value_int32(env, argv[0], &kind));
  if (!typed(env, argv[1], napi_float64_array, (void **)&values, &count) || !typed(env, argv[2], napi_uint8_array, (void **)&out, &room)) return NULL;
  if (room < count * (kind == 0 ? 4 : 2)) {
    napi_throw_range_error(env, NULL, "weights-kernels: encode lengths");
    return NULL;
  }
  if (kind == 0) {
    float *singles = (float *)out;
    for (size_t i = 0; i < count; i++) singles[i] = (float)values[i];
    return NULL;
  }
  uint16_t *halves = (uint16_t *)out;
  for (size_t i = 0; i < count; i++) {
    const double x = values[i];
    const float nearest = (float)x;
    const uint32_t inexact = nearest != x;
    const uint32_t down = fabs((double)nearest) > fabs(x);
    const uint32_t bits = (bitsOf(nearest) - down) | inexact;
    halves[i] = kind == 1 ? f16FromBits(bits) : bf16FromBits(bits);
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  for (uint32_t bits = 0; bits < 65536; bits++) F16_VALUES[bits] = f16Value(bits);
  const napi_property_descriptor functions[] = {
      {"chunkSums", NULL, chunkSums, NULL, NULL, NULL, napi_default, NULL},
      {"deltas", NULL, deltas, NULL, NULL, NULL, napi_default, NULL},
      {"taskArithmetic", NULL, taskArithmetic, NULL, NULL, NULL, napi_default, NULL},
      {"ties", NULL, ties, NULL, NULL, NULL, napi_default, NULL},
      {"decode", NULL, decode, NULL, NULL, NULL, napi_default, NULL},
      {"encode", NULL, encode, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions) != napi_ok) return NULL;
  return exports;
}
