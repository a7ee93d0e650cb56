// Interleaved A/B timing of compile-time variants of Sources/CKernels/attention.c (see
// run_attention.sh) on Swin's window attention: B windows × H heads × 144 tokens × 32, q/k/v
// read in place from one [B, 144, 3, H, 32] projection as the model does, relative bias
// [H, 144, 144], and Swin's shift mask of a G×G window grid (0 / −100) with the all-zero windows
// flagged, as the model passes them. Two threads take 32 ranges of blocks dynamically (as
// RAMTensor's pool does). Prints each variant's best and median time and GFLOP/s, and flags a
// variant whose output differs from v0's.
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ramk_attention.h"

typedef int (*attfn)(const ramk_attention_args *, long, long);
int v0_att(const ramk_attention_args *, long, long);
int v1_att(const ramk_attention_args *, long, long);
int v2_att(const ramk_attention_args *, long, long);
int v3_att(const ramk_attention_args *, long, long);
static attfn fns[] = {v0_att, v1_att, v2_att, v3_att};

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static ramk_attention_args A;
static attfn F;
static long items, groups;
static _Atomic long next_group;
static void *worker(void *unused) {
    (void)unused;
    long g;
    while ((g = atomic_fetch_add(&next_group, 1)) < groups) F(&A, items * g / groups, items * (g + 1) / groups);
    return NULL;
}

// Swin's shift mask for a G×G grid of W×W windows shifted by S (SwinGeometry.attentionMask).
static void shift_mask(float *m, int G, int W, int S) {
    int R = G * W, N = W * W;
    int *region = malloc(sizeof(int) * R * R);
    for (int y = 0; y < R; y++)
        for (int x = 0; x < R; x++) {
            int ry = y < R - W ? 0 : (y < R - S ? 1 : 2), rx = x < R - W ? 0 : (x < R - S ? 1 : 2);
            region[y * R + x] = ry * 3 + rx;
        }
    for (int wy = 0; wy < G; wy++)
        for (int wx = 0; wx < G; wx++) {
            float *mm = m + (long)(wy * G + wx) * N * N;
            for (int i = 0; i < N; i++)
                for (int j = 0; j < N; j++) {
                    int ri = region[(wy * W + i / W) * R + wx * W + i % W];
                    int rj = region[(wy * W + j / W) * R + wx * W + j % W];
                    mm[i * N + j] = ri == rj ? 0.0f : -100.0f;
                }
        }
    free(region);
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: attention_ab THREADS(1|2) VARIANTS(1-4) ROUNDS WINDOWS_PER_IMAGE_SIDE(G) IMAGES HEADS\n"
                        "  e.g. 2 2 5 8 9 6  (Swin-L stage 1 at 384, 9 images: 576 windows × 6 heads)\n"
                        "       2 2 20 2 1 24 (stage 3, one image)\n");
        return 2;
    }
    int threads = atoi(argv[1]), nv = atoi(argv[2]), rounds = atoi(argv[3]);
    int G = atoi(argv[4]), images = atoi(argv[5]), H = argc > 6 ? atoi(argv[6]) : 6;
    const long N = 144, D = 32, M = (long)G * G, B = M * images;
    long qkvn = B * N * 3 * H * D;
    float *qkv = aligned_alloc(64, (qkvn * 4 + 63) / 64 * 64), *bias = aligned_alloc(64, H * N * N * 4);
    float *mask = aligned_alloc(64, M * N * N * 4), *out = aligned_alloc(64, (B * N * H * D * 4 + 63) / 64 * 64);
    float *ref = malloc(B * N * H * D * 4);
    unsigned char *nonzero = malloc(M);
    unsigned s = 1;
    for (long i = 0; i < qkvn; i++) { s = s * 1664525u + 1013904223u; qkv[i] = ((s >> 9) * (1.0f / 8388608.0f) - 0.5f) * 3; }
    for (long i = 0; i < H * N * N; i++) { s = s * 1664525u + 1013904223u; bias[i] = (s >> 9) * (1.0f / 8388608.0f) - 0.5f; }
    shift_mask(mask, G, 12, 6);
    for (long m = 0; m < M; m++) {
        nonzero[m] = 0;
        for (long i = 0; i < N * N; i++) if (mask[m * N * N + i] != 0) { nonzero[m] = 1; break; }
    }
    long rs = 3 * H * D;
    memset(&A, 0, sizeof A);
    A.q = qkv; A.k = qkv + H * D; A.v = qkv + 2 * H * D;
    A.q_sb = A.k_sb = A.v_sb = N * rs; A.q_sh = A.k_sh = A.v_sh = D; A.q_sr = A.k_sr = A.v_sr = rs;
    A.B = B; A.H = H; A.Nq = N; A.Nk = N; A.D = D; A.Dv = D; A.scale = 1 / sqrtf((float)D);
    A.bias = bias; A.mask = mask; A.M = M; A.mask_nonzero = nonzero; A.out = out; A.row_chunks = 1;
    A.stream_out = B * N * H * D * 4 > (32L << 20);
    items = B * H;
    groups = items < 32 ? items : 32;
    double best[4] = {1e9, 1e9, 1e9, 1e9};
    double *all = calloc((size_t)4 * (rounds > 0 ? rounds : 1), sizeof(double));   // [variant][round]
    int differs[4] = {0};
    for (int r = 0; r < rounds; r++)
        for (int v = 0; v < nv; v++) {
            F = fns[v];
            atomic_store(&next_group, 0);
            double t0 = now();
            pthread_t t;
            if (threads > 1) pthread_create(&t, NULL, worker, NULL);
            worker(NULL);
            if (threads > 1) pthread_join(t, NULL);
            double dt = now() - t0;
            if (dt < best[v]) best[v] = dt;
            all[v * rounds + r] = dt;
            if (r == 0) {
                if (v == 0) memcpy(ref, out, B * N * H * D * 4);
                else differs[v] = memcmp(ref, out, B * N * H * D * 4) != 0;
            }
        }
    double flops = 4.0 * B * H * N * N * D;
    printf("%ld windows × %d heads × 144 × 32 (+bias, shift mask), %d thread(s), best and median of %d:\n", B, H, threads, rounds);
    for (int v = 0; v < nv; v++) {
        double *t = all + v * rounds;
        for (int i = 1; i < rounds; i++)   // insertion sort of this variant's times
            for (int j = i; j > 0 && t[j] < t[j - 1]; j--) { double x = t[j]; t[j] = t[j - 1]; t[j - 1] = x; }
        double med = rounds % 2 ? t[rounds / 2] : (t[rounds / 2 - 1] + t[rounds / 2]) / 2;
        printf("  v%d %8.2f ms %6.1f GFLOP/s   median %8.2f ms %6.1f GFLOP/s%s\n", v, best[v] * 1e3, flops / best[v] / 1e9,
               med * 1e3, flops / med / 1e9, differs[v] ? "  (differs from v0)" : "");
    }
    free(all);
    return 0;
}
