import RAMTensor

/// The elements of `t` in row-major order, read through its shape, strides and offset (works for
/// views). Plugins that only need to read a model's output use this; it depends on nothing but the
/// storage layout in `docs/architecture.md`.
public func rowMajorScalars(_ t: Tensor) -> [Float] {
    let n = t.shape.reduce(1, *)
    if n == 0 { return [] }
    var out = [Float](repeating: 0, count: n)
    let p = t.storage.pointer
    if t.strides == Tensor.contiguousStrides(t.shape) {
        for i in 0..<n { out[i] = p[t.offset + i] }
        return out
    }
    var index = [Int](repeating: 0, count: t.shape.count)
    for i in 0..<n {
        var off = t.offset
        for d in 0..<index.count { off += index[d] * t.strides[d] }
        out[i] = p[off]
        var d = index.count - 1
        while d >= 0 {
            index[d] += 1
            if index[d] < t.shape[d] { break }
            index[d] = 0
            d -= 1
        }
    }
    return out
}
