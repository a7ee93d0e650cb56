/// Joins tensors along `axis` (torch.cat). Every other extent must match.
/// `[..., n_i, ...]` → `[..., Σ n_i, ...]`. Saves only the extents; backward slices the gradient.
public func concat(_ xs: [Tensor], axis: Int) -> Tensor {
    precondition(!xs.isEmpty, "concat: no tensors")
    let r = xs[0].rank
    let ax = normAxis(axis, r, "concat")
    for x in xs {
        precondition(x.rank == r && (0..<r).allSatisfy { $0 == ax || x.shape[$0] == xs[0].shape[$0] },
                     "concat: shapes \(xs.map { $0.shape }) differ off axis \(ax)")
    }
    var shape = xs[0].shape
    shape[ax] = xs.reduce(0) { $0 + $1.shape[ax] }
    let out = Tensor(uninitialized: shape)
    let ostr = rowMajorStrides(shape)
    var start = 0
    for x in xs {
        // Write x into the region of out starting at `start` on axis ax.
        let dst = out.storage.pointer + start * ostr[ax]
        let loop = StridedLoop(shape: x.shape, strides: [x.strides, ostr])
        let s = x.ptr, n = loop.n, si = loop.inner[0], di = loop.inner[1]
        loop.run { off in
            let sp = s + off[0], dp = dst + off[1]
            if si == 1 && di == 1 { dp.update(from: sp, count: n) } else { for i in 0..<n { dp[i * di] = sp[i * si] } }
        }
        start += x.shape[ax]
    }
    var res = out
    let sizes = xs.map { $0.shape[ax] }
    record(&res, xs) { g in split(g, sizes: sizes, axis: ax) }
    return res
}

/// Splits along `axis` into pieces of `sizes` (which must sum to the extent). Views.
public func split(_ x: Tensor, sizes: [Int], axis: Int) -> [Tensor] {
    let ax = normAxis(axis, x.rank, "split")
    precondition(sizes.reduce(0, +) == x.shape[ax], "split: sizes \(sizes) do not sum to \(x.shape[ax]) (axis \(ax) of \(x.shape))")
    var start = 0
    return sizes.map { n in
        defer { start += n }
        return x.slice(axis: ax, start..<(start + n))
    }
}

/// Cyclic shift (torch.roll): element i of each axis moves to (i + shift) mod n.
/// Any shape → same shape. Saves nothing; backward rolls back.
public func roll(_ x: Tensor, shifts: [Int], axes: [Int]) -> Tensor {
    precondition(shifts.count == axes.count, "roll: \(shifts.count) shifts for \(axes.count) axes")
    var out = x
    for (s, a) in zip(shifts, axes) {
        let ax = normAxis(a, x.rank, "roll")
        let n = x.shape[ax]
        if n == 0 { continue }
        let k = ((s % n) + n) % n
        if k == 0 { continue }
        out = concat([out.slice(axis: ax, (n - k)..<n), out.slice(axis: ax, 0..<(n - k))], axis: ax)
    }
    return out
}

/// Rows of `x` along `axis` at `indices` (torch.index_select); result extent on `axis` is
/// `indices.count`. Indices are checked (trap) against the axis extent. Saves the indices;
/// backward scatter-adds the gradient.
public func indexSelect(_ x: Tensor, axis: Int, indices: [Int]) -> Tensor {
    let ax = normAxis(axis, x.rank, "indexSelect")
    let n = x.shape[ax]
    for i in indices { precondition(i >= 0 && i < n, "indexSelect: index \(i) out of range 0..<\(n) on axis \(ax) of \(x.shape)") }
    let src = x.contiguous()
    let outer = x.shape[..<ax].reduce(1, *), inner = x.shape[(ax + 1)...].reduce(1, *)
    var shape = x.shape
    shape[ax] = indices.count
    let out = Tensor(uninitialized: shape)
    let s = src.ptr, o = out.storage.pointer
    let m = indices.count
    indices.withUnsafeBufferPointer { ib in
        Parallel.forChunks(outer * m, costPerItem: inner) { r in
            for t in r {
                let b = t / m, j = t % m
                (o + t * inner).update(from: s + (b * n + ib[j]) * inner, count: inner)
            }
        }
    }
    var res = out
    let inShape = x.shape
    record(&res, [x]) { g in
        let gc = g.contiguous()
        let gx = Tensor(zeros: inShape)
        let gp = gx.storage.pointer, sp = gc.ptr
        for b in 0..<outer {
            for j in 0..<m {
                let d = gp + (b * n + indices[j]) * inner, s2 = sp + (b * m + j) * inner
                for e in 0..<inner { d[e] += s2[e] }
            }
        }
        return [gx]
    }
    return res
}

/// `base + indexSelect(x, axis: 1, indices)` for 3-D tensors: x `[B, M, C]`, base `[B, K, C]`
/// with `K = indices.count` → `[B, K, C]` (the Swin block's window reverse + residual add).
/// Without the tape one pass (gathered rows of x added to base, two cores) instead of a gather
/// and an add; when recording it is built from the taped ops. Traps on mismatched shapes or an
/// index outside `0..<M`.
public func indexSelect(_ x: Tensor, axis: Int, indices: [Int], adding base: Tensor) -> Tensor {
    precondition(x.rank == 3 && normAxis(axis, x.rank, "indexSelect") == 1
                 && base.shape == [x.shape[0], indices.count, x.shape[2]],
                 "indexSelect(adding:): x \(x.shape) axis \(axis), \(indices.count) indices, base \(base.shape)")
    if needsGrad(x, base) { return base + indexSelect(x, axis: axis, indices: indices) }
    let n = x.shape[1], inner = x.shape[2], m = indices.count
    for i in indices { precondition(i >= 0 && i < n, "indexSelect: index \(i) out of range 0..<\(n) on axis 1 of \(x.shape)") }
    let src = x.contiguous(), bc = base.contiguous()
    let out = Tensor(uninitialized: base.shape)
    let s = UnsafePointer(src.ptr), bp = UnsafePointer(bc.ptr), o = out.storage.pointer
    indices.withUnsafeBufferPointer { ib in
        Parallel.forChunks(x.shape[0] * m, costPerItem: inner) { r in
            for t in r {
                let b = t / m, j = t % m
                let d = o + t * inner, g = s + (b * n + ib[j]) * inner, a = bp + t * inner
                for e in 0..<inner { d[e] = a[e] + g[e] }
            }
        }
    }
    return out
}

/// Embedding lookup: rows of `weight` `[num, dim]` at `indices`, arranged as `shape + [dim]`
/// (`indices.count` must equal the product of `shape`). Traps on an index outside 0..<num.
/// Saves the indices; backward scatter-adds into a `[num, dim]` gradient.
public func embedding(_ weight: Tensor, indices: [Int], shape: [Int]) -> Tensor {
    precondition(weight.rank == 2, "embedding: weight must be [num, dim], got \(weight.shape)")
    precondition(shapeCount(shape) == indices.count, "embedding: \(indices.count) indices for shape \(shape)")
    return indexSelect(weight, axis: 0, indices: indices).reshaped(shape + [weight.shape[1]])
}

/// Where `mask` ≠ 0 the result is `value`, elsewhere x (torch.masked_fill). `mask` broadcasts to
/// x's shape. Saves the mask; backward zeroes the gradient where filled.
public func maskedFill(_ x: Tensor, mask: Tensor, value: Float) -> Tensor {
    let shape = broadcastShapes(x.shape, mask.shape, op: "maskedFill")
    precondition(shape == x.shape, "maskedFill: mask \(mask.shape) does not broadcast to \(x.shape)")
    let keep = withNoGrad { binaryKernel(mask.detached(), Tensor(0), EqFn.self, "maskedFill") } // 1 where mask == 0
    let kb = keep.broadcast(to: shape).contiguous(), xc = x.contiguous()
    var out = Tensor(uninitialized: shape)
    let o = out.storage.pointer, kp = kb.ptr, xp = xc.ptr
    Parallel.forChunks(out.count) { r in for i in r { o[i] = kp[i] != 0 ? xp[i] : value } }
    record(&out, [x]) { g in [g * keep] }
    return out
}

/// Elementwise select: `cond` ≠ 0 → a, else b (torch.where); all three broadcast together.
/// Saves cond; backward routes the gradient to a or b (summed over broadcast axes).
public func where_(_ cond: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
    let shape = broadcastShapes(broadcastShapes(cond.shape, a.shape, op: "where"), b.shape, op: "where")
    let pick = withNoGrad { 1 - binaryKernel(cond.detached(), Tensor(0), EqFn.self, "where") }.broadcast(to: shape).contiguous()
    let ab = a.detached().broadcast(to: shape).contiguous(), bb = b.detached().broadcast(to: shape).contiguous()
    var out = Tensor(uninitialized: shape)
    let o = out.storage.pointer, pp = pick.ptr, ap = ab.ptr, bp = bb.ptr
    Parallel.forChunks(out.count) { r in for i in r { o[i] = pp[i] != 0 ? ap[i] : bp[i] } }
    record(&out, [cond, a, b]) { g in
        [nil, a.node != nil ? sumToShape(g * pick, a.shape) : nil,
         b.node != nil ? sumToShape(g * (1 - pick), b.shape) : nil]
    }
    return out
}

/// Patch embedding, a convolution with kernel = stride = `patch` and no padding (Swin / ViT
/// `patch_embed.proj`): x `[B, C, H, W]`, weight `[O, C, p, p]`, bias `[O]` → `[B, O, H/p, W/p]`
/// (trailing rows/columns that do not fill a patch are ignored, as torch's conv does).
/// Computed as one GEMM on the patches; the result is a view of a `[B, H/p·W/p, O]` buffer, so
/// `flatten(2).transpose(1, 2)` back to tokens is free. Saves the patches and weight.
public func patchEmbed(_ x: Tensor, weight: Tensor, bias: Tensor?, patch p: Int) -> Tensor {
    precondition(x.rank == 4 && weight.rank == 4 && weight.shape[1] == x.shape[1] && weight.shape[2] == p && weight.shape[3] == p,
                 "patchEmbed: x \(x.shape) ([B, C, H, W]) and weight \(weight.shape) ([O, C, \(p), \(p)]) do not match")
    let B = x.shape[0], C = x.shape[1], Hp = x.shape[2] / p, Wp = x.shape[3] / p, O = weight.shape[0]
    var xc = x
    if x.shape[2] != Hp * p { xc = xc.slice(axis: 2, 0..<(Hp * p)) }
    if x.shape[3] != Wp * p { xc = xc.slice(axis: 3, 0..<(Wp * p)) }
    let patches = xc.reshaped([B, C, Hp, p, Wp, p]).permuted([0, 2, 4, 1, 3, 5]).reshaped([B, Hp * Wp, C * p * p])
    let tokens = linear(patches, weight: weight.reshaped([O, C * p * p]), bias: bias)   // [B, L, O]
    return tokens.reshaped([B, Hp, Wp, O]).permuted([0, 3, 1, 2])
}
