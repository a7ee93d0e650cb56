/// Iteration over an n-d index space shared by up to three operands with arbitrary strides
/// (0 for broadcast axes). Axes are coalesced first (size-1 axes dropped, axes that are
/// contiguous in every operand merged), so the common cases become one long inner row.
struct StridedLoop {
    /// Extents of the outer axes (all but the innermost).
    var outer: [Int]
    /// Per operand, strides of the outer axes.
    var os: [[Int]]
    /// Inner row length and per-operand inner strides.
    var n: Int
    var inner: [Int]
    /// Number of inner rows.
    var rows: Int

    init(shape: [Int], strides: [[Int]]) {
        let k = strides.count
        var sh: [Int] = []
        var st: [[Int]] = Array(repeating: [], count: k)
        for d in 0..<shape.count where shape[d] != 1 {
            if let last = sh.last, (0..<k).allSatisfy({ st[$0].last! == strides[$0][d] * shape[d] }) {
                sh[sh.count - 1] = last * shape[d]
                for o in 0..<k { st[o][st[o].count - 1] = strides[o][d] }
            } else {
                sh.append(shape[d])
                for o in 0..<k { st[o].append(strides[o][d]) }
            }
        }
        if sh.isEmpty {
            sh = [shape.contains(0) ? 0 : 1]
            for o in 0..<k { st[o] = [0] }
        }
        n = sh.removeLast()
        inner = st.map { $0.last! }
        os = st.map { Array($0.dropLast()) }
        outer = sh
        rows = sh.reduce(1, *)
        if n == 0 { rows = 0 }
    }

    /// Calls `body(offsets)` for rows in `range`, where `offsets[o]` is operand o's element
    /// offset of the row start.
    @inline(__always)
    func forRows(_ range: Range<Int>, _ body: (UnsafePointer<Int>) -> Void) {
        let k = os.count
        let d = outer.count
        withUnsafeTemporaryAllocation(of: Int.self, capacity: d + k) { buf in
            let idx = buf.baseAddress!
            let off = idx + d
            // Decompose the first row index.
            var r = range.lowerBound
            for o in 0..<k { off[o] = 0 }
            var i = d - 1
            while i >= 0 {
                let v = r % outer[i]
                r /= outer[i]
                idx[i] = v
                for o in 0..<k { off[o] += v * os[o][i] }
                i -= 1
            }
            for _ in range {
                body(UnsafePointer(off))
                // Increment with carry.
                var j = d - 1
                while j >= 0 {
                    idx[j] += 1
                    for o in 0..<k { off[o] += os[o][j] }
                    if idx[j] < outer[j] { break }
                    for o in 0..<k { off[o] -= os[o][j] * outer[j] }
                    idx[j] = 0
                    j -= 1
                }
            }
        }
    }

    /// Runs all rows, in parallel chunks when large.
    func run(_ body: (UnsafePointer<Int>) -> Void) {
        if rows == 0 { return }
        Parallel.forChunks(rows, costPerItem: n) { range in forRows(range, body) }
    }
}

/// Copies `src` (any strides) into contiguous memory at `dst`.
func stridedCopy(from src: Tensor, to dst: UnsafeMutablePointer<Float>) {
    let loop = StridedLoop(shape: src.shape, strides: [src.strides, rowMajorStrides(src.shape)])
    let s = src.ptr
    let n = loop.n, si = loop.inner[0], di = loop.inner[1]
    loop.run { off in
        let sp = s + off[0], dp = dst + off[1]
        if si == 1 && di == 1 { dp.update(from: sp, count: n) }
        else { for i in 0..<n { dp[i * di] = sp[i * si] } }
    }
}
