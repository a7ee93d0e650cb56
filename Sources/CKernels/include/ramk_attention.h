// Fused attention softmax(q·kᵀ·scale + bias + mask + keyPadding)·v for AVX2 + FMA.
//
// Call only when `ramk_cpu_has_avx2_fma()` is 1 (the function is compiled for AVX2 + FMA).
#ifndef RAMK_ATTENTION_H
#define RAMK_ATTENTION_H

#ifdef __cplusplus
extern "C" {
#endif

/// Operands of one attention call. q/k/v are [B, H, N, D] views with unit stride on the last
/// axis (strides in elements for batch, head and row); bias is a contiguous [H, Nq, Nk] or
/// NULL; mask a contiguous [M, Nq, Nk] (batch entry b uses mask[b % M]) or NULL; key_padding a
/// contiguous [B, Nk] or NULL. out is a contiguous [B, Nq, H, Dv] buffer. Dv must be a
/// multiple of 8.
typedef struct {
    const float *q, *k, *v;
    long q_sb, q_sh, q_sr;
    long k_sb, k_sh, k_sr;
    long v_sb, v_sh, v_sr;
    long B, H, Nq, Nk, D, Dv;
    float scale;
    const float *bias;
    const float *mask;
    long M;
    const float *key_padding;
    float *out;
    /// Each (b, h) block is split into this many ranges of query rows; work item
    /// it = (b·H + h)·row_chunks + chunk.
    long row_chunks;
    /// 1: write out with non-temporal stores (outputs much larger than the last-level cache;
    /// out must be 32-byte aligned), 0: ordinary stores.
    int stream_out;
    /// NULL, or M flags: mask_nonzero[m] == 0 promises that mask[m] is all zeros, and the
    /// kernel then skips it (Swin's shift mask is zero in all windows but the last row and
    /// column of the window grid).
    const unsigned char *mask_nonzero;
} ramk_attention_args;

/// Computes work items [item_begin, item_end) (see row_chunks). Returns 0, or -1 when the
/// scratch memory could not be allocated (nothing written then).
int ramk_attention_f32(const ramk_attention_args *args, long item_begin, long item_end);

#ifdef __cplusplus
}
#endif
#endif
