/* OpenBLAS sgemm reference for bench/run.py.
 *
 * Computes Y(M,N) = X(M,K) * W(N,K)^T, which is exactly what Kiln's
 * FullyConnected(no_bias, num_hidden=N) does, and times ITERS calls after
 * WARMUP untimed ones. Buffers are allocated and touched once.
 *
 *   usage: sgemm_openblas M N K ITERS [WARMUP]
 *   prints: sgemm: core=NAME threads=T m=M n=N k=K iters=I min_ms=X median_ms=Y gflops_best=G
 *
 * Threads come from OPENBLAS_NUM_THREADS; the kernel OpenBLAS picked is
 * openblas_get_corename() (run it with OPENBLAS_CORETYPE unset so that
 * OpenBLAS detects the CPU itself).
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern char *openblas_get_corename(void);
extern int openblas_get_num_threads(void);

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s M N K ITERS [WARMUP]\n", argv[0]);
    return 2;
  }
  long m = atol(argv[1]), n = atol(argv[2]), k = atol(argv[3]);
  int iters = atoi(argv[4]), warmup = argc > 5 ? atoi(argv[5]) : 2;
  if (m <= 0 || n <= 0 || k <= 0 || iters <= 0) return 2;
  float *x = aligned_alloc(64, ((m * k * sizeof(float)) + 63) / 64 * 64);
  float *w = aligned_alloc(64, ((n * k * sizeof(float)) + 63) / 64 * 64);
  float *y = aligned_alloc(64, ((m * n * sizeof(float)) + 63) / 64 * 64);
  if (!x || !w || !y) return 1;
  unsigned s = 12345;
  for (long i = 0; i < m * k; ++i) { s = s * 1664525u + 1013904223u; x[i] = (float)(s >> 8) / 16777216.0f - 0.5f; }
  for (long i = 0; i < n * k; ++i) { s = s * 1664525u + 1013904223u; w[i] = (float)(s >> 8) / 16777216.0f - 0.5f; }
  memset(y, 0, m * n * sizeof(float));
  for (int i = 0; i < warmup; ++i)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, x, k, w, k, 0.0f, y, n);
  double *t = malloc(sizeof(double) * iters);
  for (int i = 0; i < iters; ++i) {
    double t0 = now_ms();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, x, k, w, k, 0.0f, y, n);
    t[i] = now_ms() - t0;
  }
  qsort(t, iters, sizeof(double), cmp);
  double med = iters % 2 ? t[iters / 2] : 0.5 * (t[iters / 2 - 1] + t[iters / 2]);
  printf("sgemm: core=%s threads=%d m=%ld n=%ld k=%ld iters=%d min_ms=%.4f median_ms=%.4f gflops_best=%.2f check=%g\n",
         openblas_get_corename(), openblas_get_num_threads(), m, n, k, iters, t[0], med,
         2.0 * m * n * k / (t[0] * 1e6), (double)y[(m * n) / 2]);
  free(t); free(x); free(w); free(y);
  return 0;
}
