/* STREAM-triad bandwidth reference for bench/run.py: a[i] = b[i] + s*c[i].
 *
 * Arrays are allocated and first-touched once (in parallel, with the same
 * static schedule as the timed loop: first-touch page faults are very
 * expensive on a VM and must not be timed), then the triad is repeated.
 * Bytes per repeat follow STREAM's convention: 3 arrays x N x 4 bytes
 * (two reads and one write; write-allocate traffic is not counted).
 *
 *   usage: stream_triad N ITERS [WARMUP]     (threads: OMP_NUM_THREADS)
 *   prints: triad: threads=T n=N iters=I min_ms=X median_ms=Y gbps_best=G gbps_median=H
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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
  if (argc < 3) {
    fprintf(stderr, "usage: %s N ITERS [WARMUP]\n", argv[0]);
    return 2;
  }
  long n = atol(argv[1]);
  int iters = atoi(argv[2]), warmup = argc > 3 ? atoi(argv[3]) : 2;
  if (n <= 0 || iters <= 0) return 2;
  size_t bytes = ((size_t)n * sizeof(float) + 4095) / 4096 * 4096;
  float *a = aligned_alloc(4096, bytes), *b = aligned_alloc(4096, bytes), *c = aligned_alloc(4096, bytes);
  if (!a || !b || !c) return 1;
  const float s = 3.0f;
#pragma omp parallel for schedule(static)
  for (long i = 0; i < n; ++i) { a[i] = 0.0f; b[i] = 1.0f; c[i] = 2.0f; }
  double *t = malloc(sizeof(double) * iters);
  for (int r = -warmup; r < iters; ++r) {
    double t0 = now_ms();
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
    double dt = now_ms() - t0;
    if (r >= 0) t[r] = dt;
  }
  qsort(t, iters, sizeof(double), cmp);
  double med = iters % 2 ? t[iters / 2] : 0.5 * (t[iters / 2 - 1] + t[iters / 2]);
  double moved = 3.0 * n * sizeof(float);
  printf("triad: threads=%d n=%ld iters=%d min_ms=%.4f median_ms=%.4f gbps_best=%.2f gbps_median=%.2f check=%g\n",
         omp_get_max_threads(), n, iters, t[0], med, moved / (t[0] * 1e6), moved / (med * 1e6),
         (double)a[n / 3]);
  free(t); free(a); free(b); free(c);
  return 0;
}
