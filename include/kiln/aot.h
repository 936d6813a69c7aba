/*===- kiln/aot.h - C API of Kiln AOT model libraries -------------*- C -*-===*
 *
 * `kiln-compile MODEL ... --emit lib -o libNAME.so` builds a shared library
 * holding one compiled model (kernels, execution plan and, unless
 * --external-params was given, its weights) and writes NAME.h next to it:
 * this API plus a comment with the model's signature. The library needs
 * only libc, libstdc++, libm and libgcc_s at run time; the functions below
 * are its only exported symbols. See docs/aot.md.
 *
 * In the spirit of onnx-mlir's runtime API: plain C types only, a tensor
 * struct, signature queries that need no model instance, status codes and a
 * per-thread error message. Nothing here throws, aborts or prints.
 *
 *   kiln_model *m;
 *   if (kiln_model_create(NULL, &m) != KILN_OK) {       // embedded weights
 *     fprintf(stderr, "%s\n", kiln_model_last_error());
 *     return 1;
 *   }
 *   kiln_tensor in[1], out[1];
 *   kiln_model_input_info(0, &in[0]);    // dtype, rank, shape of input 0
 *   in[0].data = my_input;               // dense row-major, that shape
 *   kiln_model_output_info(0, &out[0]);
 *   out[0].data = my_output_buffer;      // the caller owns every buffer
 *   kiln_status s = kiln_model_run(m, in, 1, out, 1);
 *   kiln_model_destroy(m);
 *
 * Threads: the signature queries are thread-safe. A kiln_model may be used
 * from several threads; its runs are serialized (they share its memory
 * arena). Create one model per thread for concurrent runs.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_AOT_H
#define KILN_AOT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped when a declaration below changes incompatibly. */
#define KILN_AOT_API_VERSION 1

/* Every fallible call returns one of these; on anything but KILN_OK,
 * kiln_model_last_error() says what went wrong. */
typedef enum kiln_status {
  KILN_OK = 0,
  /* A null pointer, an index out of range, a wrong tensor count, or a
   * tensor whose dtype, rank or shape differs from the signature. */
  KILN_ERROR_INVALID_ARGUMENT = 1,
  /* The parameter file cannot be read, lacks a parameter, has one of the
   * wrong shape or one the model does not have; or none was given to a
   * library built with --external-params. */
  KILN_ERROR_PARAMS = 2,
  /* The model embedded in the library is damaged (failed its checksum or
   * validation): rebuild it. */
  KILN_ERROR_MODEL = 3,
  /* Creating or running the model failed (e.g. out of memory). */
  KILN_ERROR_RUNTIME = 4
} kiln_status;

/* Element types (the values of the plan format's DType). */
typedef enum kiln_dtype {
  KILN_F32 = 0,
  KILN_F64 = 1,
  KILN_F16 = 2,
  KILN_BF16 = 3,
  KILN_I8 = 4,
  KILN_I32 = 5,
  KILN_I64 = 6,
  KILN_U8 = 7
} kiln_dtype;

/* A dense, row-major tensor. The library never takes ownership of `data`;
 * `shape` points at `rank` extents. Info queries fill dtype, rank and shape
 * (pointing into the library, valid while it is loaded) and set data to
 * NULL. */
typedef struct kiln_tensor {
  void *data;
  int32_t dtype; /* a kiln_dtype */
  int32_t rank;
  const int64_t *shape;
} kiln_tensor;

/* An instance of the compiled model: its parameters and memory arena. */
typedef struct kiln_model kiln_model;

/* KILN_AOT_API_VERSION of the library. */
int32_t kiln_model_api_version(void);

/* The model's signature as JSON, valid while the library is loaded:
 *   {"model":"zoo:mlp","external_params":false,
 *    "inputs":[{"name":"data","dtype":"f32","shape":[2,784],"optional":false},...],
 *    "outputs":[{"name":"softmax_output","dtype":"f32","shape":[2,10]}]}
 * An input is "optional" when inference never reads it (a loss head's
 * label): its tensor may then have data == NULL. NULL on error. */
const char *kiln_model_signature(void);

/* Number of inputs / outputs, -1 on error. */
int32_t kiln_model_num_inputs(void);
int32_t kiln_model_num_outputs(void);
/* Name of input / output `index` (MXNet variable or head name), NULL on
 * error. Valid while the library is loaded. */
const char *kiln_model_input_name(int32_t index);
const char *kiln_model_output_name(int32_t index);
/* Fills `info` with the dtype, rank and shape of input / output `index`. */
kiln_status kiln_model_input_info(int32_t index, kiln_tensor *info);
kiln_status kiln_model_output_info(int32_t index, kiln_tensor *info);
/* 1 when input `index` is optional (see kiln_model_signature), 0 when it is
 * required, -1 on error. */
int32_t kiln_model_input_optional(int32_t index);

/* Creates an instance in *model. `params_path` NULL: the weights embedded in
 * the library (KILN_ERROR_PARAMS if it was built with --external-params).
 * Otherwise an MXNet .params file whose entries (with or without the
 * "arg:"/"aux:" prefix) are exactly the model's parameters and auxiliary
 * states, of the compiled shapes; it is read once, here. */
kiln_status kiln_model_create(const char *params_path, kiln_model **model);

/* Runs the model once. `inputs` and `outputs` follow the signature's order
 * and must match its dtypes, ranks and shapes; the caller allocates every
 * output buffer. Arguments are checked before anything runs. */
kiln_status kiln_model_run(kiln_model *model, const kiln_tensor *inputs, int32_t num_inputs,
                           kiln_tensor *outputs, int32_t num_outputs);

/* Frees an instance (NULL is allowed). */
void kiln_model_destroy(kiln_model *model);

/* The message of the last call on this thread that did not return KILN_OK
 * (or returned NULL / -1); "" if none did. Valid until the thread's next
 * call into this API. */
const char *kiln_model_last_error(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KILN_AOT_H */
