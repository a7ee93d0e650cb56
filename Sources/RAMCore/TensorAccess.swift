import RAMTensor

/// The elements of `t` in row-major order (a contiguous copy; works for views). Kept for plugins
/// written before `Tensor.scalars` existed; prefer `t.scalars`.
public func rowMajorScalars(_ t: Tensor) -> [Float] {
    t.scalars
}
