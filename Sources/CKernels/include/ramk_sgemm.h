// RAMKit's packed single-precision GEMM (AVX2 + FMA) with a fused epilogue.
//
// Row-major C[m×n] = epilogue(alpha · op(A)[m×k] · op(B)[k×n] + beta · C), where
//   op(A) = A (element (i,p) at a[i*lda + p]) or Aᵀ (transA: at a[p*lda + i]),
//   op(B) = B (element (p,j) at b[p*ldb + j]) or Bᵀ (transB: at b[j*ldb + p]),
// and the epilogue, applied to each element t of the product once, in this order:
//   t += bias[j]              (bias != NULL),
//   t  = gelu(t)              (gelu != 0; exact-erf GELU with RAMTensor's erf approximation),
//   t += residual[i*ldr + j]  (residual != NULL).
// When beta == 0, C is not read (it may hold garbage / NaN).
//
// Two-core use without barriers: `ramk_sgemm_part` computes the part-th of `parts` independent
// pieces of C (split along M or N, decided from the shape alone, so every part agrees); each
// piece packs what it needs into per-thread scratch memory that is kept between calls.
// Callers must check `ramk_cpu_has_avx2_fma()` first.
#ifndef RAMK_SGEMM_H
#define RAMK_SGEMM_H

#ifdef __cplusplus
extern "C" {
#endif

/// The whole product, on the calling thread.
void ramk_sgemm(int transA, int transB, long m, long n, long k, float alpha,
                const float *a, long lda, const float *b, long ldb, float beta,
                float *c, long ldc,
                const float *bias, const float *residual, long ldr, int gelu);

/// Piece `part` (0 ≤ part < parts) of the same product; running every part (in any order, on
/// any threads, concurrently) computes the whole product.
void ramk_sgemm_part(int transA, int transB, long m, long n, long k, float alpha,
                     const float *a, long lda, const float *b, long ldb, float beta,
                     float *c, long ldc,
                     const float *bias, const float *residual, long ldr, int gelu,
                     int part, int parts);

/// Floats that `ramk_sgemm_pack_b` writes for a k×n op(B): k · (n rounded up to 16).
long ramk_sgemm_packed_b_count(long k, long n);

/// Packs all of op(B) (k×n; transB as above) into the micro-kernel's panels, in the K slices
/// the GEMM uses, for `ramk_sgemm_part_packed_b`. dst: `ramk_sgemm_packed_b_count(k, n)` floats,
/// 32-byte aligned. Used for inference weights, packed once instead of at every product.
void ramk_sgemm_pack_b(int transB, const float *b, long ldb, long k, long n, float *dst);

/// The part of `ramk_sgemm_pack_b` for the columns j0 ..< j1 of op(B) (j0 a multiple of 16;
/// j1 a multiple of 16 or n), written where the whole packing puts them, so that threads can
/// pack disjoint column ranges of one dst concurrently.
void ramk_sgemm_pack_b_columns(int transB, const float *b, long ldb, long k, long n, long j0, long j1,
                               float *dst);

/// `ramk_sgemm_part` with op(B) already packed by `ramk_sgemm_pack_b` (same k and n; not NULL,
/// 32-byte aligned). The results are bit-identical to `ramk_sgemm_part` packing B itself.
void ramk_sgemm_part_packed_b(int transA, long m, long n, long k, float alpha,
                              const float *a, long lda, const float *packed_b, float beta,
                              float *c, long ldc, const float *bias, const float *residual, long ldr,
                              int gelu, int part, int parts);

/// Exact GELU x·½(1 + erf(x/√2)) with the same erf approximation as the epilogue, applied in
/// place to n floats (for tests and for elementwise use).
void ramk_gelu_inplace(float *x, long n);

/// FMA throughput probe: runs `iters` iterations of a dependency-free FMA loop (10 independent
/// 8-wide accumulators) and returns a value that depends on the result. FLOPs = iters · 160.
float ramk_fma_probe(long iters);

#ifdef __cplusplus
}
#endif
#endif
