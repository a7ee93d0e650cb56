// Packed SGEMM for AVX2 + FMA (see include/ramk_sgemm.h for the contract).
//
// BLIS-style blocking: for each NC-wide column block of C and each KC-deep slice of K, B is
// packed into 16-column micro-panels (KC×16, zero-padded); for each MC-high row block, A is
// packed into 6-row micro-panels (6×KC, zero-padded); a 6×16 micro-kernel (12 ymm
// accumulators) then updates C tile by tile. The epilogue (bias, GELU, residual) is applied
// when a tile is written for the last time (last K slice). Edge tiles run the same kernel on a
// 6×16 stack tile and copy the valid part back.
#include "ramk_sgemm.h"
#include "avx2_util.h"

#include <immintrin.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MR 6
#define NR 16
#ifndef KC
#define KC 256      // B micro-panel KC×16 floats = 16 KiB (L1); A micro-panel 6 KiB
#endif
#ifndef MC
#define MC 96       // packed A block MC×KC = 96 KiB (L2, 512 KiB on Zen 3)
#endif
#ifndef NC
#define NC 1024     // packed B block KC×NC = 1 MiB; C block MC×NC = 384 KiB (fits L2 with A)
#endif
// MC / NC measured on this 2-core Zen 3 VM with Benchmarks/kernel-ab (the model's GEMM shapes
// weighted by their count per image, variants interleaved in one process): NC 1024 / MC 96
// against NC 3072 / MC 144 was 2–6 % faster in the first series, −5 % to +3 % in later ones
// (1 thread: +3–6 %) — on average a little faster, and 2 MiB less packing scratch per thread.
// KC 128–512 and MC 72–192 at NC 3072 were within the noise.

#define AVX2 __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline, target("avx2,fma")))

// ---- per-thread scratch (packed A and B), kept between calls, freed when the thread exits ----

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static void scratch_make_key(void) { pthread_key_create(&scratch_key, free); }

enum { A_FLOATS = MC * KC + 64, B_FLOATS = KC * NC + 64 };

static float *thread_scratch(void) {
    pthread_once(&scratch_once, scratch_make_key);
    float *p = (float *)pthread_getspecific(scratch_key);
    if (!p) {
        size_t bytes = (size_t)(A_FLOATS + B_FLOATS) * sizeof(float);
        bytes = (bytes + 63) & ~(size_t)63;
        p = (float *)aligned_alloc(64, bytes);
        if (!p) abort();
        pthread_setspecific(scratch_key, p);
    }
    return p;
}

// ---- GELU (exact-erf form; the same rational erf as RAMTensor's `ferf`, same operation order) ----

INLINE __m256 gelu8(__m256 x) {
    __m256 z = _mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f));
    // clamp to [-4, 4]; operand order keeps NaN as NaN (min/max return the second operand on NaN)
    z = _mm256_max_ps(_mm256_set1_ps(-4.0f), _mm256_min_ps(_mm256_set1_ps(4.0f), z));
    __m256 z2 = _mm256_mul_ps(z, z);
    __m256 p = _mm256_set1_ps(-2.72614225801306e-10f);
    p = _mm256_fmadd_ps(p, z2, _mm256_set1_ps(2.77068142495902e-08f));
    p = _mm256_fmadd_ps(p, z2, _mm256_set1_ps(-2.10102402082508e-06f));
    p = _mm256_fmadd_ps(p, z2, _mm256_set1_ps(-5.69250639462346e-05f));
    p = _mm256_fmadd_ps(p, z2, _mm256_set1_ps(-7.34990630326855e-04f));
    p = _mm256_fmadd_ps(p, z2, _mm256_set1_ps(-2.95459980854025e-03f));
    p = _mm256_fmadd_ps(p, z2, _mm256_set1_ps(-1.60960333262415e-02f));
    p = _mm256_mul_ps(p, z);
    __m256 q = _mm256_set1_ps(-1.45660718464996e-05f);
    q = _mm256_fmadd_ps(q, z2, _mm256_set1_ps(-2.13374055278905e-04f));
    q = _mm256_fmadd_ps(q, z2, _mm256_set1_ps(-1.68282697438203e-03f));
    q = _mm256_fmadd_ps(q, z2, _mm256_set1_ps(-7.37332916720468e-03f));
    q = _mm256_fmadd_ps(q, z2, _mm256_set1_ps(-1.42647390514189e-02f));
    __m256 erf = _mm256_div_ps(p, q);
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), _mm256_add_ps(_mm256_set1_ps(1.0f), erf));
}

AVX2 void ramk_gelu_inplace(float *x, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, gelu8(_mm256_loadu_ps(x + i)));
    if (i < n) {
        float t[8] = {0};
        memcpy(t, x + i, (size_t)(n - i) * sizeof(float));
        _mm256_storeu_ps(t, gelu8(_mm256_loadu_ps(t)));
        memcpy(x + i, t, (size_t)(n - i) * sizeof(float));
    }
}

// ---- how a tile is written ----

typedef struct {
    float alpha, beta;
    int first;          // first K slice: C = alpha·acc + beta·C (C not read when beta == 0)
    int last;           // last K slice: apply the epilogue
    int gelu;
    const float *bias;  // at column 0 of the whole (sub)problem, or NULL
    const float *res;   // at (0, 0), or NULL
    long ldr;
} store_t;

INLINE void store_row(float *c, __m256 v0, __m256 v1, const store_t *s,
                      const float *bias, const float *res) {
    __m256 al = _mm256_set1_ps(s->alpha);
    v0 = _mm256_mul_ps(v0, al);
    v1 = _mm256_mul_ps(v1, al);
    if (s->first) {
        if (s->beta != 0.0f) {
            __m256 be = _mm256_set1_ps(s->beta);
            v0 = _mm256_fmadd_ps(be, _mm256_loadu_ps(c), v0);
            v1 = _mm256_fmadd_ps(be, _mm256_loadu_ps(c + 8), v1);
        }
    } else {
        v0 = _mm256_add_ps(_mm256_loadu_ps(c), v0);
        v1 = _mm256_add_ps(_mm256_loadu_ps(c + 8), v1);
    }
    if (s->last) {
        if (bias) {
            v0 = _mm256_add_ps(v0, _mm256_loadu_ps(bias));
            v1 = _mm256_add_ps(v1, _mm256_loadu_ps(bias + 8));
        }
        if (s->gelu) { v0 = gelu8(v0); v1 = gelu8(v1); }
        if (res) {
            v0 = _mm256_add_ps(v0, _mm256_loadu_ps(res));
            v1 = _mm256_add_ps(v1, _mm256_loadu_ps(res + 8));
        }
    }
    _mm256_storeu_ps(c, v0);
    _mm256_storeu_ps(c + 8, v1);
}

// ---- the 6×16 micro-kernel: C tile (6×16 at c, ldc) from packed a (kc×6) and b (kc×16) ----
// bias: at the tile's first column (or NULL); res: at the tile's (0,0) (or NULL), stride s->ldr.

static AVX2 void kernel_6x16(long kc, const float *restrict a, const float *restrict b,
                             float *c, long ldc, const store_t *s,
                             const float *bias, const float *res, long ldr) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int r = 0; r < MR; r++) _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
    for (int r = 0; r < MR; r++) _mm_prefetch((const char *)(c + r * ldc + 15), _MM_HINT_T0);

#define STEP(p)                                                          \
    {                                                                    \
        __m256 b0 = _mm256_load_ps(b + (p) * 16);                        \
        __m256 b1 = _mm256_load_ps(b + (p) * 16 + 8);                    \
        __m256 ax = _mm256_broadcast_ss(a + (p) * 6 + 0);                \
        c00 = _mm256_fmadd_ps(ax, b0, c00); c01 = _mm256_fmadd_ps(ax, b1, c01); \
        ax = _mm256_broadcast_ss(a + (p) * 6 + 1);                       \
        c10 = _mm256_fmadd_ps(ax, b0, c10); c11 = _mm256_fmadd_ps(ax, b1, c11); \
        ax = _mm256_broadcast_ss(a + (p) * 6 + 2);                       \
        c20 = _mm256_fmadd_ps(ax, b0, c20); c21 = _mm256_fmadd_ps(ax, b1, c21); \
        ax = _mm256_broadcast_ss(a + (p) * 6 + 3);                       \
        c30 = _mm256_fmadd_ps(ax, b0, c30); c31 = _mm256_fmadd_ps(ax, b1, c31); \
        ax = _mm256_broadcast_ss(a + (p) * 6 + 4);                       \
        c40 = _mm256_fmadd_ps(ax, b0, c40); c41 = _mm256_fmadd_ps(ax, b1, c41); \
        ax = _mm256_broadcast_ss(a + (p) * 6 + 5);                       \
        c50 = _mm256_fmadd_ps(ax, b0, c50); c51 = _mm256_fmadd_ps(ax, b1, c51); \
    }
    long p = 0;
    for (; p + 4 <= kc; p += 4) {
        _mm_prefetch((const char *)(b + 16 * 16), _MM_HINT_T0);
        STEP(0) STEP(1) STEP(2) STEP(3)
        a += 24; b += 64;
    }
    for (; p < kc; p++) {
        STEP(0)
        a += 6; b += 16;
    }
#undef STEP
    const float *r0 = res, *r1 = res, *r2 = res, *r3 = res, *r4 = res, *r5 = res;
    if (res) { r1 = res + ldr; r2 = res + 2 * ldr; r3 = res + 3 * ldr; r4 = res + 4 * ldr; r5 = res + 5 * ldr; }
    store_row(c, c00, c01, s, bias, r0);
    store_row(c + ldc, c10, c11, s, bias, r1);
    store_row(c + 2 * ldc, c20, c21, s, bias, r2);
    store_row(c + 3 * ldc, c30, c31, s, bias, r3);
    store_row(c + 4 * ldc, c40, c41, s, bias, r4);
    store_row(c + 5 * ldc, c50, c51, s, bias, r5);
}

// An edge tile (mr ≤ 6 rows, nr ≤ 16 columns): the same kernel on a padded stack tile.
static AVX2 void kernel_edge(long kc, const float *a, const float *b, float *c, long ldc,
                             int mr, int nr, const store_t *s, const float *bias,
                             const float *res, long ldr) {
    float tc[MR * NR] __attribute__((aligned(32)));
    float tb[NR] __attribute__((aligned(32)));
    float tr[MR * NR] __attribute__((aligned(32)));
    memset(tc, 0, sizeof tc);
    if (!s->first || s->beta != 0.0f)
        for (int i = 0; i < mr; i++) memcpy(tc + i * NR, c + i * ldc, (size_t)nr * sizeof(float));
    const float *pb = NULL, *pr = NULL;
    if (s->last && bias) {
        memset(tb, 0, sizeof tb);
        memcpy(tb, bias, (size_t)nr * sizeof(float));
        pb = tb;
    }
    if (s->last && res) {
        memset(tr, 0, sizeof tr);
        for (int i = 0; i < mr; i++) memcpy(tr + i * NR, res + i * ldr, (size_t)nr * sizeof(float));
        pr = tr;
    }
    kernel_6x16(kc, a, b, tc, NR, s, pb, pr, NR);
    for (int i = 0; i < mr; i++) memcpy(c + i * ldc, tc + i * NR, (size_t)nr * sizeof(float));
}

// ---- packing ----

// op(A)[i0 .. i0+mc, p0 .. p0+kc] into ceil(mc/6) panels of kc×6 (dst[p*6 + r]); rows past mc
// are zero. May write up to 2 floats past the panels (the buffer has slack).
static AVX2 void pack_a(int ta, const float *a, long lda, long i0, long mc, long p0, long kc,
                        float *dst) {
    for (long ir = 0; ir < mc; ir += MR) {
        int mr = (int)(mc - ir < MR ? mc - ir : MR);
        if (!ta) {
            const float *rows[MR];
            for (int r = 0; r < MR; r++) rows[r] = a + (i0 + ir + (r < mr ? r : 0)) * lda + p0;
            long p = 0;
            if (mr == MR) {
                for (; p + 8 <= kc; p += 8) {
                    __m256 v[8];
                    for (int r = 0; r < MR; r++) v[r] = _mm256_loadu_ps(rows[r] + p);
                    v[6] = _mm256_setzero_ps(); v[7] = _mm256_setzero_ps();
                    ramk_transpose8(v);
                    // overlapping stores in increasing order: each writes 6 values + 2 that the next overwrites
                    for (int q = 0; q < 8; q++) _mm256_storeu_ps(dst + (p + q) * MR, v[q]);
                }
            }
            for (; p < kc; p++)
                for (int r = 0; r < MR; r++) dst[p * MR + r] = r < mr ? rows[r][p] : 0.0f;
        } else {
            for (long p = 0; p < kc; p++) {
                const float *src = a + (p0 + p) * lda + i0 + ir;
                for (int r = 0; r < MR; r++) dst[p * MR + r] = r < mr ? src[r] : 0.0f;
            }
        }
        dst += MR * kc;
    }
}

// op(B)[p0 .. p0+kc, j0 .. j0+nc] into ceil(nc/16) panels of kc×16 (dst[p*16 + j]), columns past
// nc zero.
static AVX2 void pack_b(int tb, const float *b, long ldb, long p0, long kc, long j0, long nc,
                        float *dst) {
    for (long jr = 0; jr < nc; jr += NR) {
        int nr = (int)(nc - jr < NR ? nc - jr : NR);
        if (!tb) {
            const float *src = b + p0 * ldb + j0 + jr;
            if (nr == NR) {
                for (long p = 0; p < kc; p++) {
                    _mm256_store_ps(dst + p * NR, _mm256_loadu_ps(src + p * ldb));
                    _mm256_store_ps(dst + p * NR + 8, _mm256_loadu_ps(src + p * ldb + 8));
                }
            } else {
                for (long p = 0; p < kc; p++)
                    for (int j = 0; j < NR; j++) dst[p * NR + j] = j < nr ? src[p * ldb + j] : 0.0f;
            }
        } else {
            // element (p, j) at b[j*ldb + p]: rows of the stored matrix are columns of op(B)
            const float *src = b + (j0 + jr) * ldb + p0;
            long p = 0;
            if (nr == NR) {
                for (; p + 8 <= kc; p += 8) {
                    for (int h = 0; h < 2; h++) {
                        __m256 v[8];
                        for (int j = 0; j < 8; j++) v[j] = _mm256_loadu_ps(src + (h * 8 + j) * ldb + p);
                        ramk_transpose8(v);
                        for (int q = 0; q < 8; q++) _mm256_store_ps(dst + (p + q) * NR + h * 8, v[q]);
                    }
                }
            }
            for (; p < kc; p++)
                for (int j = 0; j < NR; j++) dst[p * NR + j] = j < nr ? src[j * ldb + p] : 0.0f;
        }
        dst += NR * kc;
    }
}

// ---- driver ----

// bpp: B already packed by `ramk_sgemm_pack_b` for all of op(B) (n16 = its columns rounded up
// to 16), this (sub)problem starting at its column j_off (a multiple of 16); NULL: pack B here.
static AVX2 void sgemm_serial_pp(int ta, int tb, long m, long n, long k, float alpha,
                                 const float *a, long lda, const float *b, long ldb, float beta,
                                 float *c, long ldc, const float *bias, const float *res, long ldr,
                                 int gelu, const float *bpp, long n16, long j_off) {
    if (m <= 0 || n <= 0) return;
    float *scratch = thread_scratch();
    float *Ap = scratch;
    float *Bp = scratch + A_FLOATS;
    // K slices of (nearly) equal depth, at most KC
    long nk = k > 0 ? (k + KC - 1) / KC : 1;
    long kcb = k > 0 ? (k + nk - 1) / nk : 0;
    store_t s;
    s.alpha = alpha; s.beta = beta; s.gelu = gelu; s.bias = bias; s.res = res; s.ldr = ldr;
    for (long jc = 0; jc < n; jc += NC) {
        long nc = n - jc < NC ? n - jc : NC;
        for (long pc = 0; pc == 0 || pc < k; pc += kcb) {
            long kc = k - pc < kcb ? k - pc : kcb;
            s.first = pc == 0;
            s.last = pc + kc >= k;
            if (bpp) Bp = (float *)(bpp + pc * n16 + (j_off + jc) * kc);   // slice pc, panel (j_off + jc) / 16
            else pack_b(tb, b, ldb, pc, kc, jc, nc, Bp);
            for (long ic = 0; ic < m; ic += MC) {
                long mc = m - ic < MC ? m - ic : MC;
                pack_a(ta, a, lda, ic, mc, pc, kc, Ap);
                for (long jr = 0; jr < nc; jr += NR) {
                    int nr = (int)(nc - jr < NR ? nc - jr : NR);
                    const float *bpan = Bp + jr * kc;
                    const float *bj = (s.last && bias) ? bias + jc + jr : NULL;
                    for (long ir = 0; ir < mc; ir += MR) {
                        int mr = (int)(mc - ir < MR ? mc - ir : MR);
                        long i = ic + ir, j = jc + jr;
                        float *ct = c + i * ldc + j;
                        const float *rt = (s.last && res) ? res + i * ldr + j : NULL;
                        if (mr == MR && nr == NR)
                            kernel_6x16(kc, Ap + ir * kc, bpan, ct, ldc, &s, bj, rt, ldr);
                        else
                            kernel_edge(kc, Ap + ir * kc, bpan, ct, ldc, mr, nr, &s, bj, rt, ldr);
                    }
                }
            }
            if (kcb == 0) break;
        }
    }
}

static AVX2 void sgemm_serial(int ta, int tb, long m, long n, long k, float alpha,
                              const float *a, long lda, const float *b, long ldb, float beta,
                              float *c, long ldc, const float *bias, const float *res, long ldr,
                              int gelu) {
    sgemm_serial_pp(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, res, ldr, gelu, NULL, 0, 0);
}

void ramk_sgemm(int transA, int transB, long m, long n, long k, float alpha,
                const float *a, long lda, const float *b, long ldb, float beta,
                float *c, long ldc, const float *bias, const float *residual, long ldr, int gelu) {
    sgemm_serial(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, residual, ldr, gelu);
}

// Piece `part` of `parts` (split along the larger of m and n: the other operand is packed by
// every part), with B packed here (bpp NULL) or already packed (bpp, see sgemm_serial_pp).
static void sgemm_part(int transA, int transB, long m, long n, long k, float alpha,
                       const float *a, long lda, const float *b, long ldb, const float *bpp, float beta,
                       float *c, long ldc, const float *bias, const float *residual, long ldr,
                       int gelu, int part, int parts) {
    long n16 = (n + NR - 1) / NR * NR;
    if (parts <= 1) {
        sgemm_serial_pp(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, residual, ldr, gelu,
                        bpp, n16, 0);
        return;
    }
    if (m >= n) {
        long units = (m + MR - 1) / MR;
        long i0 = units * part / parts * MR, i1 = units * (part + 1) / parts * MR;
        if (i1 > m) i1 = m;
        if (i0 >= i1) return;
        const float *a2 = transA ? a + i0 : a + i0 * lda;
        sgemm_serial_pp(transA, transB, i1 - i0, n, k, alpha, a2, lda, b, ldb, beta, c + i0 * ldc, ldc,
                        bias, residual ? residual + i0 * ldr : NULL, ldr, gelu, bpp, n16, 0);
    } else {
        long units = (n + NR - 1) / NR;
        long j0 = units * part / parts * NR, j1 = units * (part + 1) / parts * NR;
        if (j1 > n) j1 = n;
        if (j0 >= j1) return;
        const float *b2 = bpp ? NULL : (transB ? b + j0 * ldb : b + j0);
        sgemm_serial_pp(transA, transB, m, j1 - j0, k, alpha, a, lda, b2, ldb, beta, c + j0, ldc,
                        bias ? bias + j0 : NULL, residual ? residual + j0 : NULL, ldr, gelu, bpp, n16, j0);
    }
}

void ramk_sgemm_part(int transA, int transB, long m, long n, long k, float alpha,
                     const float *a, long lda, const float *b, long ldb, float beta,
                     float *c, long ldc, const float *bias, const float *residual, long ldr,
                     int gelu, int part, int parts) {
    sgemm_part(transA, transB, m, n, k, alpha, a, lda, b, ldb, NULL, beta, c, ldc, bias, residual, ldr, gelu,
               part, parts);
}

// ---- B packed once (inference weights) ----

long ramk_sgemm_packed_b_count(long k, long n) { return (k > 0 ? k : 1) * ((n + NR - 1) / NR * NR); }

AVX2 void ramk_sgemm_pack_b_columns(int transB, const float *b, long ldb, long k, long n, long j0, long j1,
                                    float *dst) {
    long n16 = (n + NR - 1) / NR * NR;
    long nk = k > 0 ? (k + KC - 1) / KC : 1;
    long kcb = k > 0 ? (k + nk - 1) / nk : 0;
    if (j1 > n) j1 = n;
    if (j0 < 0 || j0 >= j1) return;
    // The same K slices as sgemm_serial_pp; slice pc holds n16 / 16 panels of kc × 16, the one
    // of columns j .. j + 15 at j · kc.
    for (long pc = 0; pc < k; pc += kcb) {
        long kc = k - pc < kcb ? k - pc : kcb;
        pack_b(transB, b, ldb, pc, kc, j0, j1 - j0, dst + pc * n16 + j0 * kc);
    }
}

void ramk_sgemm_pack_b(int transB, const float *b, long ldb, long k, long n, float *dst) {
    ramk_sgemm_pack_b_columns(transB, b, ldb, k, n, 0, n, dst);
}

void ramk_sgemm_part_packed_b(int transA, long m, long n, long k, float alpha,
                              const float *a, long lda, const float *packed_b, float beta,
                              float *c, long ldc, const float *bias, const float *residual, long ldr,
                              int gelu, int part, int parts) {
    if (!packed_b) abort();   // would pack from a NULL B
    sgemm_part(transA, 0, m, n, k, alpha, a, lda, NULL, 0, packed_b, beta, c, ldc, bias, residual, ldr, gelu,
               part, parts);
}

// ---- FMA throughput probe ----

AVX2 float ramk_fma_probe(long iters) {
    __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    __m256 a0 = _mm256_set1_ps(0.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0;
    __m256 a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0;
    for (long i = 0; i < iters; i++) {
        a0 = _mm256_fmadd_ps(a0, x, y); a1 = _mm256_fmadd_ps(a1, x, y);
        a2 = _mm256_fmadd_ps(a2, x, y); a3 = _mm256_fmadd_ps(a3, x, y);
        a4 = _mm256_fmadd_ps(a4, x, y); a5 = _mm256_fmadd_ps(a5, x, y);
        a6 = _mm256_fmadd_ps(a6, x, y); a7 = _mm256_fmadd_ps(a7, x, y);
        a8 = _mm256_fmadd_ps(a8, x, y); a9 = _mm256_fmadd_ps(a9, x, y);
        __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4));
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(_mm256_add_ps(a6, a7),
                                                                               _mm256_add_ps(a8, a9))));
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[7];
}
