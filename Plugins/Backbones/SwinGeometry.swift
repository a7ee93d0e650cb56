/// Index tables of Swin's windowed attention, computed once per block from the geometry alone
/// (the checkpoint's `relative_position_index` and `attn_mask` buffers are not used).
///
/// Source: `ram/models/swin_transformer.py` (`WindowAttention.__init__`,
/// `SwinTransformerBlock.__init__`, `window_partition`, `torch.roll`).
public enum SwinGeometry {
    /// The relative position index of a W×W window: `[N, N]` row-major with `N = W²`;
    /// entry (p, q) for tokens p = (a₁, b₁), q = (a₂, b₂) is
    /// `(a₁ − a₂ + W − 1) · (2W − 1) + (b₁ − b₂ + W − 1)`, a row of the `[(2W−1)², heads]` table.
    public static func relativePositionIndex(window w: Int) -> [Int] {
        let n = w * w
        var index = [Int](repeating: 0, count: n * n)
        for p in 0..<n {
            let a1 = p / w, b1 = p % w
            for q in 0..<n {
                let a2 = q / w, b2 = q % w
                index[p * n + q] = (a1 - a2 + w - 1) * (2 * w - 1) + (b1 - b2 + w - 1)
            }
        }
        return index
    }

    /// The window order of the tokens of an R×R grid after a cyclic shift by `−shift` on both
    /// axes (`torch.roll(x, (−s, −s), (1, 2))`) and `window_partition`: entry j is the raster
    /// index (row · R + col) of the token that lands at position j of the partitioned sequence,
    /// where j = ((window_row · R/W + window_col) · W + a) · W + b.
    public static func partitionOrder(resolution r: Int, window w: Int, shift s: Int) -> [Int] {
        let windowsPerSide = r / w
        var order = [Int](repeating: 0, count: r * r)
        var j = 0
        for wr in 0..<windowsPerSide {
            for wc in 0..<windowsPerSide {
                for a in 0..<w {
                    for b in 0..<w {
                        let row = (wr * w + a + s) % r
                        let col = (wc * w + b + s) % r
                        order[j] = row * r + col
                        j += 1
                    }
                }
            }
        }
        return order
    }

    /// The inverse permutation: entry i is the partitioned position of raster token i
    /// (`window_reverse` followed by the reverse roll).
    public static func inverse(_ permutation: [Int]) -> [Int] {
        var inv = [Int](repeating: 0, count: permutation.count)
        for (j, i) in permutation.enumerated() { inv[i] = j }
        return inv
    }

    /// The shifted-window attention mask `[nW, N, N]` (nW = (R/W)², N = W²), row-major:
    /// 0 where both tokens come from the same region of the un-shifted image, −100 elsewhere
    /// (the reference's value, not −∞). Regions: rows and columns are each cut into
    /// `[0, R−W)`, `[R−W, R−s)`, `[R−s, R)`, giving 9 labels.
    public static func attentionMask(resolution r: Int, window w: Int, shift s: Int) -> [Float] {
        func band(_ x: Int) -> Int { x < r - w ? 0 : (x < r - s ? 1 : 2) }
        let windowsPerSide = r / w
        let n = w * w
        let nW = windowsPerSide * windowsPerSide
        var mask = [Float](repeating: 0, count: nW * n * n)
        var labels = [Int](repeating: 0, count: n)
        for wr in 0..<windowsPerSide {
            for wc in 0..<windowsPerSide {
                let win = wr * windowsPerSide + wc
                for a in 0..<w {
                    for b in 0..<w {
                        // Position in the shifted image; the mask is defined on that image.
                        labels[a * w + b] = band(wr * w + a) * 3 + band(wc * w + b)
                    }
                }
                let base = win * n * n
                for p in 0..<n {
                    for q in 0..<n where labels[p] != labels[q] {
                        mask[base + p * n + q] = -100
                    }
                }
            }
        }
        return mask
    }

    /// The effective (window, shift) of a block: the reference uses no shift and one window of
    /// the whole grid when the grid is not larger than the window.
    public static func effectiveWindow(resolution r: Int, window w: Int, oddBlock: Bool) -> (window: Int, shift: Int) {
        if r <= w { return (r, 0) }
        return (w, oddBlock ? w / 2 : 0)
    }
}
