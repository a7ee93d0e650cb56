// RAMKit's hand-vectorised CPU kernels (AVX2 + FMA), called from RAMTensor.
//
// Every entry point here is compiled for AVX2 + FMA with a function-level target attribute, so
// the package still builds and runs on any x86-64: callers check `ramk_cpu_has_avx2_fma()`
// once and fall back to OpenBLAS / portable Swift otherwise.
#ifndef RAMKERNELS_H
#define RAMKERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU (and OS) supports AVX2 and FMA3, else 0.
int ramk_cpu_has_avx2_fma(void);

#ifdef __cplusplus
}
#endif
#endif
