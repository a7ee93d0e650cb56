// Fused attention for AVX2 + FMA (see ramk_attention.h).
//
// Per (b, h) block: kᵀ is packed once into column panels of 16 (the last one 8 wide when the
// padded key count Nkp = ⌈Nk/8⌉·8 is not a multiple of 16), [D][width] each, and v into a
// contiguous [Nk][Dv]. Query rows are then taken in groups of up to 4 tiles of 6 rows, each group
// copied to contiguous memory first:
//   1. scores S[6][Nkp] = q·kᵀ by a 6×16 register tile (12 accumulators); the epilogue applies
//      scale, bias, mask and key padding (padded key columns get −∞) and keeps a running
//      maximum per row;
//   2. S ← exp(S − rowmax) in place, with the row sums;
//   3. out rows = (S·v) · (1/sum), a 6×16 tile over Dv, written straight to the
//      [B, Nq, H, Dv] output.
// The 6 score rows (≤ 6·Nkp floats) stay in L1 between the three steps. Fewer than 6 rows at
// the end of a range reuse the last valid row's pointers (computed, never stored).
#include "ramk_attention.h"
#include "avx2_util.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TGT __attribute__((target("avx2,fma")))
#define INL static inline __attribute__((always_inline))

// exp(x) for softmax arguments x = s − max ≤ 0, with a short dependency chain (the loop runs
// latency-bound otherwise: ~10 cycles per vector with a degree-7 Horner polynomial):
//   k = round(8·x·log2 e) (via the 1.5·2^23 trick: t = x·8·log2 e + 1.5·2^23 holds k in its
//   low mantissa bits), x = (k/8)·ln 2 + r with |r| ≤ ln2/16 (one FMA step with a one-part
//   ln2/8: its error, ≈ |k|·3e-9 absolute in r, grows with |x| where e^x is already small next
//   to the row maximum's 1; a two-part ln2/8 measured 4 % slower for the whole kernel);
//   e^x = 2^(k>>3) · 2^((k&7)/8) · e^r, the middle factor from an 8-entry table in a register
//   (vpermps uses the low 3 bits of t's bits as the index), e^r by its degree-4 Taylor
//   polynomial in Estrin form (truncation < 1.3e-9 relative), and 2^(k>>3) added into the
//   exponent bits. Measured against double-precision exp: ≤ 2.6 ulp on [−5, 0], ≤ 3.3 ulp on
//   [−20, 0] (relative error ≤ 4e-7 where e^x ≥ 2e-9).
// x is clamped at −86.6 (k>>3 ≥ −125, so the result stays a normal number): smaller arguments,
// including −∞, give ≈ 2.6e-38 instead of 0, which no softmax sum or weighted value can see.
// NaN stays NaN.
TGT INL __m256 exp_v(__m256 x0) {
    const __m256 magic = _mm256_set1_ps(12582912.0f);   // 1.5·2^23
    const __m256 tbl = _mm256_setr_ps(1.0f, 1.09050773266525766f, 1.18920711500272107f, 1.29683955465100967f,
                                      1.41421356237309505f, 1.54221082540794082f, 1.68179283050742909f,
                                      1.83400808640934246f);   // 2^(j/8)
    __m256 x = _mm256_max_ps(_mm256_set1_ps(-86.6f), x0);   // (returns x0 when x0 is NaN)
    __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(11.5415603271117073f), magic);   // 8·log2 e
    __m256 k = _mm256_sub_ps(t, magic);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.0866433975699931636f), x);    // ln2 / 8
    __m256 r2 = _mm256_mul_ps(r, r);
    __m256 hi = _mm256_fmadd_ps(r, _mm256_set1_ps(1.0f / 6), _mm256_set1_ps(0.5f));
    __m256 lo = _mm256_add_ps(r, _mm256_set1_ps(1.0f));
    hi = _mm256_fmadd_ps(r2, _mm256_set1_ps(1.0f / 24), hi);
    __m256 p = _mm256_fmadd_ps(r2, hi, lo);
    __m256i ti = _mm256_castps_si256(t);
    p = _mm256_mul_ps(p, _mm256_permutevar8x32_ps(tbl, ti));
    // t's bits are 0x4B400000 + k; ((bits & ~7) << 20) = (k >> 3) << 23: add it to p's exponent.
    __m256i e = _mm256_slli_epi32(_mm256_and_si256(ti, _mm256_set1_epi32(~7)), 20);
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e));
}

TGT INL float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

TGT INL float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Lane mask for the first n (0..8) lanes.
TGT INL __m256i lane_mask(long n) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), idx);
}

// Packs kᵀ (k rows with stride ks) into panels: panel p covers columns 16p ..< 16p + w,
// w = min(16, Nkp − 16p), stored [D][w] at KP + 16p·D. Columns ≥ Nk are zero.
TGT static void pack_kt(const float *k, long ks, long Nk, long Nkp, long D, float *KP) {
    for (long j0 = 0; j0 < Nkp; j0 += 16) {
        long w = Nkp - j0 < 16 ? Nkp - j0 : 16;
        float *P = KP + j0 * D;
        for (long c0 = 0; c0 < w; c0 += 8) {
            long d = 0;
            if (j0 + c0 + 8 <= Nk) {
                for (; d + 8 <= D; d += 8) {
                    __m256 r[8];
                    for (int t = 0; t < 8; t++) r[t] = _mm256_loadu_ps(k + (j0 + c0 + t) * ks + d);
                    ramk_transpose8(r);
                    for (int t = 0; t < 8; t++) _mm256_storeu_ps(P + (d + t) * w + c0, r[t]);
                }
            }
            for (; d < D; d++)
                for (long c = 0; c < 8; c++) {
                    long j = j0 + c0 + c;
                    P[d * w + c0 + c] = j < Nk ? k[j * ks + d] : 0.0f;
                }
        }
    }
}

// Software prefetch of the next work item's q rows and k / v rows (strided rows of a
// permuted projection, mostly from DRAM: the hardware prefetchers do not follow them well),
// a few lines after each score tile of the current item, so that the next block's packing and
// score tiles find them in cache.
typedef struct {
    const char *base[3];
    long stride[3], rows[3], lines[3];   // row stride in bytes, row count, 64-byte lines per row
    long arr, row, line;                 // cursor
} prefetcher;

static void pf_init(prefetcher *p, const ramk_attention_args *a, long it) {
    memset(p, 0, sizeof *p);
    long nblk = a->B * a->H;
    long blk = it / a->row_chunks, ch = it % a->row_chunks;
    if (blk >= nblk) { p->arr = 3; return; }
    long b = blk / a->H, h = blk % a->H;
    long r0 = a->Nq * ch / a->row_chunks, r1 = a->Nq * (ch + 1) / a->row_chunks;
    p->base[0] = (const char *)(a->q + b * a->q_sb + h * a->q_sh + r0 * a->q_sr);
    p->stride[0] = a->q_sr * 4; p->rows[0] = r1 - r0; p->lines[0] = (a->D * 4 + 63) / 64;
    p->base[1] = (const char *)(a->k + b * a->k_sb + h * a->k_sh);
    p->stride[1] = a->k_sr * 4; p->rows[1] = a->Nk; p->lines[1] = (a->D * 4 + 63) / 64;
    p->base[2] = (const char *)(a->v + b * a->v_sb + h * a->v_sh);
    p->stride[2] = a->v_sr * 4; p->rows[2] = a->Nk; p->lines[2] = (a->Dv * 4 + 63) / 64;
}

TGT INL void pf_step(prefetcher *p, long n) {
    while (n-- > 0 && p->arr < 3) {
        _mm_prefetch(p->base[p->arr] + p->row * p->stride[p->arr] + p->line * 64, _MM_HINT_T1);
        if (++p->line == p->lines[p->arr]) {
            p->line = 0;
            if (++p->row >= p->rows[p->arr]) { p->row = 0; p->arr++; }
        }
    }
}

// Flags selecting the score epilogue's additive terms (compile-time specialised).
enum { F_BIAS = 1, F_MASK = 2, F_COL = 4 };

// Score tile: rows r = 0..5 (row pointers q[r], additive rows bi[r] / mk[r] at column j0),
// NV vectors of 8 columns from panel P (row width w). s = acc·scale + bias + mask + col.
// Stores to S[r·ldS + j0 ..] and updates the row maxima mx[r]. Straight-line code (macros), so
// the 12 accumulators go from the FMA loop to the epilogue without a trip through the stack.
#define ST_FMA(R, A)                                                                  \
    a = _mm256_broadcast_ss(A + d); c##R##0 = _mm256_fmadd_ps(a, b0, c##R##0);        \
    if (NV > 1) c##R##1 = _mm256_fmadd_ps(a, b1, c##R##1);
#define ST_EPI(R, V, FULL)                                                            \
    {                                                                                 \
        long j = j0 + 8 * V;                                                          \
        __m256 add = _mm256_setzero_ps();                                             \
        if (flags & F_COL) add = _mm256_load_ps(col + j);                             \
        if (flags & F_BIAS) {                                                         \
            __m256 x = FULL ? _mm256_loadu_ps(bi[R] + j) : _mm256_maskload_ps(bi[R] + j, lm##V); \
            add = (flags & F_COL) ? _mm256_add_ps(add, x) : x;                        \
        }                                                                             \
        if (flags & F_MASK) {                                                         \
            __m256 x = FULL ? _mm256_loadu_ps(mk[R] + j) : _mm256_maskload_ps(mk[R] + j, lm##V); \
            add = (flags & (F_COL | F_BIAS)) ? _mm256_add_ps(add, x) : x;             \
        }                                                                             \
        __m256 s_ = (flags & (F_COL | F_BIAS | F_MASK)) ? _mm256_fmadd_ps(c##R##V, sc, add) \
                                                        : _mm256_mul_ps(c##R##V, sc);  \
        _mm256_store_ps(S + R * ldS + j, s_);                                         \
        mx[R] = _mm256_max_ps(mx[R], s_);                                             \
    }
#define ST_EPI_ALL(FULL)                                                              \
    ST_EPI(0, 0, FULL) ST_EPI(1, 0, FULL) ST_EPI(2, 0, FULL)                          \
    ST_EPI(3, 0, FULL) ST_EPI(4, 0, FULL) ST_EPI(5, 0, FULL)                          \
    if (NV > 1) {                                                                     \
        ST_EPI(0, 1, FULL) ST_EPI(1, 1, FULL) ST_EPI(2, 1, FULL)                      \
        ST_EPI(3, 1, FULL) ST_EPI(4, 1, FULL) ST_EPI(5, 1, FULL)                      \
    }

TGT INL void score_tile(int flags, int NV, const float *const q[6], const float *P, long w, long D,
                        float scale, const float *const bi[6], const float *const mk[6],
                        const float *col, long j0, long Nk, float *S, long ldS, __m256 mx[6]) {
    const __m256 z = _mm256_setzero_ps();
    __m256 c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
    const float *q0 = q[0], *q1 = q[1], *q2 = q[2], *q3 = q[3], *q4 = q[4], *q5 = q[5];
    for (long d = 0; d < D; d++) {
        __m256 b0 = _mm256_load_ps(P + d * w), b1 = NV > 1 ? _mm256_load_ps(P + d * w + 8) : b0;
        __m256 a;
        ST_FMA(0, q0) ST_FMA(1, q1) ST_FMA(2, q2) ST_FMA(3, q3) ST_FMA(4, q4) ST_FMA(5, q5)
    }
    const __m256 sc = _mm256_set1_ps(scale);
    if (j0 + 8 * NV <= Nk) {
        const __m256i lm0 = _mm256_set1_epi32(-1), lm1 = lm0;
        ST_EPI_ALL(1)
    } else {
        __m256i lm0 = lane_mask(Nk - j0), lm1 = lane_mask(Nk - j0 - 8);
        ST_EPI_ALL(0)
    }
}

// Output tile: rows r = 0..5 of P (S, row stride ldS) times packed v (row stride Dv), NV
// vectors of columns from j0, K = Nk; out row r (pointer o[r], only r < rows) = acc · inv[r].
TGT INL void pv_tile(int NV, const float *S, long ldS, const float *V, long Dv, long j0, long Nk,
                     const float inv[6], float *const o[6], int rows, int stream) {
    __m256 c[6][2];
    for (int r = 0; r < 6; r++) for (int v = 0; v < NV; v++) c[r][v] = _mm256_setzero_ps();
    const float *p0 = S, *p1 = S + ldS, *p2 = S + 2 * ldS, *p3 = S + 3 * ldS, *p4 = S + 4 * ldS, *p5 = S + 5 * ldS;
    const float *vp = V + j0;
    for (long k = 0; k < Nk; k++) {
        __m256 b0 = _mm256_load_ps(vp), b1 = NV > 1 ? _mm256_load_ps(vp + 8) : b0;
        __m256 a;
        a = _mm256_broadcast_ss(p0 + k); c[0][0] = _mm256_fmadd_ps(a, b0, c[0][0]); if (NV > 1) c[0][1] = _mm256_fmadd_ps(a, b1, c[0][1]);
        a = _mm256_broadcast_ss(p1 + k); c[1][0] = _mm256_fmadd_ps(a, b0, c[1][0]); if (NV > 1) c[1][1] = _mm256_fmadd_ps(a, b1, c[1][1]);
        a = _mm256_broadcast_ss(p2 + k); c[2][0] = _mm256_fmadd_ps(a, b0, c[2][0]); if (NV > 1) c[2][1] = _mm256_fmadd_ps(a, b1, c[2][1]);
        a = _mm256_broadcast_ss(p3 + k); c[3][0] = _mm256_fmadd_ps(a, b0, c[3][0]); if (NV > 1) c[3][1] = _mm256_fmadd_ps(a, b1, c[3][1]);
        a = _mm256_broadcast_ss(p4 + k); c[4][0] = _mm256_fmadd_ps(a, b0, c[4][0]); if (NV > 1) c[4][1] = _mm256_fmadd_ps(a, b1, c[4][1]);
        a = _mm256_broadcast_ss(p5 + k); c[5][0] = _mm256_fmadd_ps(a, b0, c[5][0]); if (NV > 1) c[5][1] = _mm256_fmadd_ps(a, b1, c[5][1]);
        vp += Dv;
    }
    for (int r = 0; r < rows; r++) {
        __m256 f = _mm256_set1_ps(inv[r]);
        for (int v = 0; v < NV; v++) {
            if (stream) _mm256_stream_ps(o[r] + j0 + 8 * v, _mm256_mul_ps(c[r][v], f));
            else _mm256_storeu_ps(o[r] + j0 + 8 * v, _mm256_mul_ps(c[r][v], f));
        }
    }
}

// Rows [i0, i1) of one block, with kᵀ / v already packed. Rows go in groups of up to `tiles`
// row tiles of 6 (tiles·6·Nkp scores, ≤ ~16 KiB, in L1): for each kᵀ panel all tiles of the
// group compute their scores while the panel is in L1, then exp / 1/Σ per row, then for each
// v column panel all tiles accumulate their output rows. KP + VP of a block (2·Nk·D floats,
// 37 KB at Swin's 144×32) do not fit in the 32 KB L1 next to the scores, so reusing each panel
// for several tiles is what keeps the two small GEMMs fed from L1 instead of L2.
TGT INL void block_rows(int flags, const ramk_attention_args *a, const float *qb, const float *bb,
                        const float *mb, const float *col, float *ob, long i0, long i1,
                        const float *KP, const float *VP, long Nkp, float *S, float *QP, long tiles,
                        prefetcher *pf) {
    const long Nk = a->Nk, D = a->D, Dv = a->Dv, ldo = a->H * a->Dv;
    const float scale = a->scale;
    const long group = 6 * tiles;
    // The next item's rows are prefetched a few lines after each score tile: spread over the
    // FMA work (a burst of ~150 per row group was 4-14 % slower at the Swin-L stage-1 shape in
    // an interleaved series: prefetches beyond what the miss buffers hold are dropped).
    long total = (i1 - i0) * pf->lines[0] + Nk * (pf->lines[1] + pf->lines[2]);
    long per_tile = total / (((i1 - i0 + 5) / 6) * ((Nkp + 15) / 16)) + 1;
    for (long i = i0; i < i1; i += group) {
        long n_rows = i1 - i < group ? i1 - i : group;
        long nt = (n_rows + 5) / 6;
        // The group's query rows, copied to contiguous memory first: they are strided rows of
        // the qkv projection, often not in cache, and read here (loads that can all be in
        // flight) they do not stall the score tiles' FMA loop (Swin-L stage-1 shape at full
        // size, interleaved series: 0-17 % faster, never slower beyond the noise; the same
        // when the rows are already in cache).
        for (long r = 0; r < n_rows; r++) memcpy(QP + r * D, qb + (i + r) * a->q_sr, (size_t)D * sizeof(float));
        // The next group's bias / mask rows (contiguous) and output rows (for writing).
        if (i + group < i1) {
            long n = (i1 - i - group < group ? i1 - i - group : group);
            if (bb) for (long off = 0; off < n * Nk; off += 16) _mm_prefetch((const char *)(bb + (i + group) * Nk + off), _MM_HINT_T1);
            if (mb) for (long off = 0; off < n * Nk; off += 16) _mm_prefetch((const char *)(mb + (i + group) * Nk + off), _MM_HINT_T1);
            if (!a->stream_out)
                for (long r = 0; r < n; r++)
                    for (long d = 0; d < Dv; d += 16) __builtin_prefetch(ob + (i + group + r) * ldo + d, 1, 3);
        }
        // Row pointers per tile; rows past the end of the range duplicate the tile's last valid
        // row (computed, never stored).
        const float *q[4][6], *bi[4][6], *mk[4][6];
        float *o[4][6];
        int rows[4];
        __m256 mx[4][6];
        for (long t = 0; t < nt; t++) {
            long base = i + 6 * t;
            rows[t] = i1 - base < 6 ? (int)(i1 - base) : 6;
            for (int r = 0; r < 6; r++) {
                long ii = base + (r < rows[t] ? r : rows[t] - 1);
                q[t][r] = QP + (ii - i) * D;
                bi[t][r] = bb ? bb + ii * Nk : 0;
                mk[t][r] = mb ? mb + ii * Nk : 0;
                o[t][r] = ob + ii * ldo;
                mx[t][r] = _mm256_set1_ps(-INFINITY);
            }
        }
        long j0 = 0;
        for (; j0 + 16 <= Nkp; j0 += 16)
            for (long t = 0; t < nt; t++) {
                score_tile(flags, 2, q[t], KP + j0 * D, 16, D, scale, bi[t], mk[t], col, j0, Nk, S + t * 6 * Nkp, Nkp, mx[t]);
                pf_step(pf, per_tile);
            }
        if (j0 < Nkp)
            for (long t = 0; t < nt; t++) {
                score_tile(flags, 1, q[t], KP + j0 * D, 8, D, scale, bi[t], mk[t], col, j0, Nk, S + t * 6 * Nkp, Nkp, mx[t]);
                pf_step(pf, per_tile);
            }
        // exp(S − rowmax) in place and 1/Σ, row by row, two sums per row: the loop-carried
        // state stays at 3 registers, so the exp constants stay in registers (a broadcast from
        // memory costs an FP pipe slot on Zen 3).
        float inv[4][6];
        for (long t = 0; t < nt; t++)
            for (int r = 0; r < 6; r++) {
                const __m256 m = _mm256_set1_ps(hmax(mx[t][r]));
                __m256 sa = _mm256_setzero_ps(), sb = sa;
                float *sp = S + (t * 6 + r) * Nkp;
                long j = 0;
                for (; j + 16 <= Nkp; j += 16) {
                    __m256 e0 = exp_v(_mm256_sub_ps(_mm256_load_ps(sp + j), m));
                    __m256 e1 = exp_v(_mm256_sub_ps(_mm256_load_ps(sp + j + 8), m));
                    _mm256_store_ps(sp + j, e0);
                    _mm256_store_ps(sp + j + 8, e1);
                    sa = _mm256_add_ps(sa, e0);
                    sb = _mm256_add_ps(sb, e1);
                }
                if (j < Nkp) {
                    __m256 e0 = exp_v(_mm256_sub_ps(_mm256_load_ps(sp + j), m));
                    _mm256_store_ps(sp + j, e0);
                    sa = _mm256_add_ps(sa, e0);
                }
                inv[t][r] = 1.0f / hsum(_mm256_add_ps(sa, sb));
            }
        long c0 = 0;
        for (; c0 + 16 <= Dv; c0 += 16)
            for (long t = 0; t < nt; t++)
                pv_tile(2, S + t * 6 * Nkp, Nkp, VP, Dv, c0, Nk, inv[t], o[t], rows[t], a->stream_out);
        if (c0 < Dv)
            for (long t = 0; t < nt; t++)
                pv_tile(1, S + t * 6 * Nkp, Nkp, VP, Dv, c0, Nk, inv[t], o[t], rows[t], a->stream_out);
    }
}

#define DISPATCH_FLAGS(F) \
    case F: block_rows(F, a, qb, bb, mb, col, ob, r0, r1, KP, VP, Nkp, S, QP, tiles, &pf); break;

TGT int ramk_attention_f32(const ramk_attention_args *a, long item_begin, long item_end) {
    const long H = a->H, Nq = a->Nq, Nk = a->Nk, D = a->D, Dv = a->Dv, chunks = a->row_chunks;
    const long Nkp = (Nk + 7) / 8 * 8;
    // Row tiles per group: as many (≤ 4) as keep the group's scores within ~16 KiB of L1.
    long tiles = 4096 / (6 * Nkp);
    tiles = tiles < 1 ? 1 : tiles > 4 ? 4 : tiles;
    size_t floats = (size_t)(D * Nkp + Nk * Dv + 6 * tiles * Nkp + Nkp + 6 * tiles * D) + 64;
    float *mem = aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64);
    if (!mem) return -1;
    float *KP = mem;
    float *VP = KP + (D * Nkp + 15) / 16 * 16;
    float *S = VP + (Nk * Dv + 15) / 16 * 16;
    float *col = S + (6 * tiles * Nkp + 15) / 16 * 16;
    float *QP = col + (Nkp + 15) / 16 * 16;
    long packed = -1;
    for (long it = item_begin; it < item_end; it++) {
        long blk = it / chunks, ch = it % chunks;
        long b = blk / H, h = blk % H;
        if (blk != packed) {
            const float *kb = a->k + b * a->k_sb + h * a->k_sh;
            const float *vb = a->v + b * a->v_sb + h * a->v_sh;
            pack_kt(kb, a->k_sr, Nk, Nkp, D, KP);
            for (long j = 0; j < Nk; j++)
                for (long d = 0; d < Dv; d += 8)
                    _mm256_store_ps(VP + j * Dv + d, _mm256_loadu_ps(vb + j * a->v_sr + d));
            for (long j = 0; j < Nkp; j++)
                col[j] = j >= Nk ? -INFINITY : (a->key_padding ? a->key_padding[b * Nk + j] : 0.0f);
            packed = blk;
        }
        long r0 = Nq * ch / chunks, r1 = Nq * (ch + 1) / chunks;
        if (r0 >= r1) continue;
        prefetcher pf;
        pf_init(&pf, a, it + 1);
        const float *qb = a->q + b * a->q_sb + h * a->q_sh;
        const float *bb = a->bias ? a->bias + h * Nq * Nk : 0;
        const float *mb = a->mask && (!a->mask_nonzero || a->mask_nonzero[b % a->M])
            ? a->mask + (b % a->M) * Nq * Nk : 0;
        float *ob = a->out + b * Nq * H * Dv + h * Dv;
        int flags = (bb ? F_BIAS : 0) | (mb ? F_MASK : 0) | ((a->key_padding || Nk % 8) ? F_COL : 0);
        switch (flags) {
            DISPATCH_FLAGS(0) DISPATCH_FLAGS(1) DISPATCH_FLAGS(2) DISPATCH_FLAGS(3)
            DISPATCH_FLAGS(4) DISPATCH_FLAGS(5) DISPATCH_FLAGS(6) DISPATCH_FLAGS(7)
        }
    }
    if (a->stream_out) _mm_sfence();
    free(mem);
    return 0;
}

#else
int ramk_attention_f32(const ramk_attention_args *a, long item_begin, long item_end) {
    (void)a; (void)item_begin; (void)item_end;
    return -1;
}
#endif
