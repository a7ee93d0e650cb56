// Interleaved A/B timing of compile-time variants of Sources/CKernels/sgemm.c on every Linear
// shape of one RAM++ Swin-L/384 image (see run.sh). Each variant is the same source compiled
// with different -D flags and renamed entry points (v0_part ... v3_part); variants run
// alternately on the same operands, so the VM's minute-scale speed drift hits them alike.
// Prints per-shape GFLOP/s (best of the rounds) and the per-image total (best time × count).
// COLD=1 rotates through enough weight copies (192 MB) that weights come from DRAM, as in the
// model. PACKED=1 times the packed-weight path (each variant's ramk_sgemm_pack_b, then
// ramk_sgemm_part_packed_b), as inference runs it; PACKED_MASK=M only the variants whose bit is
// set in M (PACKED_MASK=2 with two identical variants: unpacked against packed). A variant whose results differ from v0's is
// flagged.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void (*partfn)(int, int, long, long, long, float, const float *, long, const float *, long, float,
                       float *, long, const float *, const float *, long, int, int, int);
#define DECL(v) void v##_part(int, int, long, long, long, float, const float *, long, const float *, long, float, \
                              float *, long, const float *, const float *, long, int, int, int);
DECL(v0) DECL(v1) DECL(v2) DECL(v3)
static partfn fns[] = {v0_part, v1_part, v2_part, v3_part};
// The packed-weight path (PACKED=1): each variant packs the weights with its own packer.
typedef long (*countfn)(long, long);
typedef void (*packfn)(int, const float *, long, long, long, float *);
typedef void (*ppfn)(int, long, long, long, float, const float *, long, const float *, float, float *, long,
                     const float *, const float *, long, int, int, int);
#define DECLP(v) long v##_pbcount(long, long); void v##_packb(int, const float *, long, long, long, float *); \
    void v##_partpb(int, long, long, long, float, const float *, long, const float *, float, float *, long, \
                    const float *, const float *, long, int, int, int);
DECLP(v0) DECLP(v1) DECLP(v2) DECLP(v3)
static countfn counts[] = {v0_pbcount, v1_pbcount, v2_pbcount, v3_pbcount};
static packfn packs[] = {v0_packb, v1_packb, v2_packb, v3_packb};
static ppfn pps[] = {v0_partpb, v1_partpb, v2_partpb, v3_partpb};

// OPENBLAS=1: OpenBLAS's cblas_sgemm on the same operands, timed in the same rounds (column "ob").
void cblas_sgemm(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
void openblas_set_num_threads(int);
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

typedef struct { partfn f; ppfn pp; long m, n, k; const float *a, *w; float *c; int part, parts; } job_t;
static void *run(void *p) {
    job_t *j = p;   // y[m×n] = x[m×k] · W[n×k]ᵀ, as `linear`
    if (j->pp) { j->pp(0, j->m, j->n, j->k, 1, j->a, j->k, j->w, 0, j->c, j->n, NULL, NULL, 0, 0, j->part, j->parts); return NULL; }
    j->f(0, 1, j->m, j->n, j->k, 1, j->a, j->k, j->w, j->k, 0, j->c, j->n, NULL, NULL, 0, 0, j->part, j->parts);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: gemm_ab THREADS(1|2) VARIANTS(1-4) ROUNDS\n"); return 2; }
    // m, k (in), n (out), times per image
    static const long shapes[][4] = {
        {9216, 48, 192, 1}, {9216, 192, 576, 2}, {9216, 192, 192, 2}, {9216, 192, 768, 2}, {9216, 768, 192, 2},
        {2304, 768, 384, 1}, {2304, 384, 1152, 2}, {2304, 384, 384, 2}, {2304, 384, 1536, 2}, {2304, 1536, 384, 2},
        {576, 1536, 768, 1}, {576, 768, 2304, 18}, {576, 768, 768, 18}, {576, 768, 3072, 18}, {576, 3072, 768, 18},
        {144, 3072, 1536, 1}, {144, 1536, 4608, 2}, {144, 1536, 1536, 2}, {144, 1536, 6144, 2}, {144, 6144, 1536, 2},
        {145, 1536, 512, 1}, {4585, 512, 768, 1}, {4585, 768, 768, 4}, {4585, 768, 3072, 2}, {4585, 3072, 768, 2},
        {145, 512, 768, 4}};
    const int ns = sizeof shapes / sizeof shapes[0];
    int threads = atoi(argv[1]), nv = atoi(argv[2]), rounds = atoi(argv[3]);
    if (threads < 1 || threads > 2 || nv < 1 || nv > 4 || rounds < 1) { fprintf(stderr, "bad arguments\n"); return 2; }
    double total[4] = {0}, flops = 0, total_ob = 0;
    int ob = getenv("OPENBLAS") != NULL;
    if (ob) openblas_set_num_threads(threads);
    for (int s = 0; s < ns; s++) {
        long m = shapes[s][0], k = shapes[s][1], n = shapes[s][2], count = shapes[s][3];
        int copies = getenv("COLD") ? (int)((192L << 20) / (n * k * 4) + 1) : 1;
        float *a = aligned_alloc(64, (m * k * 4 + 63) / 64 * 64), *c = aligned_alloc(64, (m * n * 4 + 63) / 64 * 64);
        float *ref = malloc(m * n * 4);
        float **ws = malloc(sizeof(float *) * copies);
        for (long i = 0; i < m * k; i++) a[i] = (float)(i % 17) * 0.01f;
        for (int q = 0; q < copies; q++) {
            ws[q] = aligned_alloc(64, (n * k * 4 + 63) / 64 * 64);
            for (long i = 0; i < n * k; i++) ws[q][i] = (float)(i % 13) * 0.01f;
        }
        // PACKED=1: every variant packed; PACKED_MASK=m: variant v packed when bit v of m is set
        int pmask = getenv("PACKED") ? 15 : getenv("PACKED_MASK") ? atoi(getenv("PACKED_MASK")) : 0;
        float **pw[4] = {0};
        for (int v = 0; v < nv; v++)
            if (pmask >> v & 1) {
                pw[v] = malloc(sizeof(float *) * copies);
                for (int q = 0; q < copies; q++) {
                    pw[v][q] = aligned_alloc(64, (counts[v](k, n) * 4 + 63) / 64 * 64);
                    packs[v](1, ws[q], k, k, n, pw[v][q]);
                }
            }
        double best[4] = {1e9, 1e9, 1e9, 1e9}, best_ob = 1e9;
        int differs[4] = {0}, wi = 0;
        for (int r = 0; r < rounds; r++) {
            if (ob) {
                double t0 = now();
                cblas_sgemm(ROW_MAJOR, NO_TRANS, TRANS, (int)m, (int)n, (int)k, 1, a, (int)k, ws[wi], (int)k, 0, c, (int)n);
                double t = now() - t0;
                if (t < best_ob) best_ob = t;
            }
            for (int v = 0; v < nv; v++) {
                int packed = pmask >> v & 1;
                const float *w = packed ? pw[v][wi] : ws[wi];
                if (v == nv - 1) wi = (wi + 1) % copies;
                ppfn pp = packed ? pps[v] : NULL;
                job_t j0 = {fns[v], pp, m, n, k, a, w, c, 0, threads}, j1 = {fns[v], pp, m, n, k, a, w, c, 1, threads};
                double t0 = now();
                pthread_t th;
                if (threads == 2) pthread_create(&th, NULL, run, &j1);
                run(&j0);
                if (threads == 2) pthread_join(th, NULL);
                double t = now() - t0;
                if (t < best[v]) best[v] = t;
                if (r == 0) {
                    if (v == 0) memcpy(ref, c, m * n * 4);
                    else differs[v] = memcmp(ref, c, m * n * 4) != 0;
                }
            }
        }
        double f = 2.0 * m * n * k;
        flops += f * count;
        printf("%5ld×%5ld·%5ld x%-2ld", m, k, n, count);
        for (int v = 0; v < nv; v++) {
            printf("  v%d %6.1f%s", v, f / best[v] / 1e9, differs[v] ? " (differs from v0)" : "");
            total[v] += best[v] * count;
        }
        if (ob) { printf("  ob %6.1f", f / best_ob / 1e9); total_ob += best_ob * count; }
        printf("\n");
        free(a); free(c); free(ref);
        for (int q = 0; q < copies; q++) free(ws[q]);
        for (int v = 0; v < nv; v++)
            if (pw[v]) { for (int q = 0; q < copies; q++) free(pw[v][q]); free(pw[v]); }
        free(ws);
    }
    for (int v = 0; v < nv; v++)
        printf("v%d per image: %.1f ms = %.1f GFLOP/s\n", v, total[v] * 1e3, flops / total[v] / 1e9);
    if (ob) printf("OpenBLAS per image: %.1f ms = %.1f GFLOP/s\n", total_ob * 1e3, flops / total_ob / 1e9);
    return 0;
}
