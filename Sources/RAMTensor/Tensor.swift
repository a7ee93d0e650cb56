#if canImport(Glibc)
import Glibc
#endif

/// An n-dimensional float32 array: row-major, over reference-counted storage, with a shape,
/// element strides and an element offset, so that `reshaped`, `permuted`, `transposed`,
/// `slice`, `squeezed` and `unsqueezed` are views (no copy) whenever the layout allows.
///
/// `Tensor` is a value type. Values are never mutated in place by ops: every op returns a new
/// tensor (`withUnsafeMutableBufferPointer` copies first if the storage is shared).
///
/// Autograd: a tensor with `requiresGrad` carries a node of the tape. An op records itself
/// (and saves what its backward needs) only when grad mode is on (`withNoGrad` turns it off)
/// and at least one input requires a gradient. `backward()` walks the graph iteratively and
/// accumulates into the `grad` of leaf tensors (parameters).
///
/// Shape mismatches are programmer errors in model code: they trap with a message naming the
/// op and the shapes. User input must be validated before it reaches an op.
public struct Tensor: @unchecked Sendable {
    /// The shared buffer (views of one tensor share it).
    public internal(set) var storage: TensorStorage
    /// Extent of each axis.
    public private(set) var shape: [Int]
    /// Element step of each axis in `storage` (0 for a broadcast axis).
    public private(set) var strides: [Int]
    /// Element index of the first element in `storage`.
    public private(set) var offset: Int
    /// The tape node (nil: no gradient wanted).
    var node: GradNode?

    // MARK: construction

    init(storage: TensorStorage, shape: [Int], strides: [Int], offset: Int, node: GradNode? = nil) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.node = node
    }

    /// Contiguous, uninitialised tensor (internal: kernels fill it).
    init(uninitialized shape: [Int]) {
        let n = shapeCount(shape)
        self.init(storage: TensorStorage(count: n), shape: shape,
                  strides: rowMajorStrides(shape), offset: 0)
    }

    /// A tensor of the given shape holding `scalars` in row-major order.
    /// Traps if `scalars.count` is not the product of `shape` (programmer error).
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor(shape:scalars:): negative extent in \(shape)")
        precondition(shapeCount(shape) == scalars.count,
                     "Tensor(shape:scalars:): shape \(shape) needs \(shapeCount(shape)) scalars, got \(scalars.count)")
        self.init(uninitialized: shape)
        let base = storage.pointer
        scalars.withUnsafeBufferPointer { src in
            if let s = src.baseAddress { base.update(from: s, count: src.count) }
        }
    }

    /// A contiguous tensor whose elements `body` writes in row-major order (e.g. a checkpoint
    /// reader's `floats(into:)`), without an intermediate array. The buffer starts
    /// uninitialised: `body` must write every element. Errors thrown by `body` propagate.
    public init(shape: [Int], initializingWith body: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor(shape:initializingWith:): negative extent in \(shape)")
        self.init(uninitialized: shape)
        try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// A scalar (rank-0) tensor.
    public init(_ value: Float) { self.init(shape: [], scalars: [value]) }

    /// Zeros of the given shape.
    public init(zeros shape: [Int]) {
        self.init(storage: TensorStorage(zeros: shapeCount(shape)), shape: shape,
                  strides: rowMajorStrides(shape), offset: 0)
    }

    /// Ones of the given shape.
    public init(ones shape: [Int]) { self.init(repeating: 1, shape: shape) }

    /// `value` everywhere.
    public init(repeating value: Float, shape: [Int]) {
        self.init(uninitialized: shape)
        storage.pointer.update(repeating: value, count: count)
    }

    /// Normal samples with mean 0 and standard deviation `std`, reproducible from `seed`
    /// (xoshiro256** + Box–Muller).
    public static func randn(_ shape: [Int], std: Float = 1, seed: UInt64) -> Tensor {
        var rng = SeededRNG(seed: seed)
        var t = Tensor(uninitialized: shape)
        let n = t.count
        let p = t.storage.pointer
        var i = 0
        while i < n {
            let u1 = max(rng.nextUnitDouble(), 1e-300), u2 = rng.nextUnitDouble()
            let r = (-2 * Glibc.log(u1)).squareRoot()
            p[i] = Float(r * Glibc.cos(2 * Double.pi * u2)) * std
            if i + 1 < n { p[i + 1] = Float(r * Glibc.sin(2 * Double.pi * u2)) * std }
            i += 2
        }
        t.node = nil
        return t
    }

    /// Uniform samples in `[low, high)`, reproducible from `seed`.
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, seed: UInt64) -> Tensor {
        var rng = SeededRNG(seed: seed)
        let t = Tensor(uninitialized: shape)
        let p = t.storage.pointer
        for i in 0..<t.count { p[i] = low + (high - low) * Float(rng.nextUnitDouble()) }
        return t
    }

    // MARK: properties

    /// Number of axes.
    public var rank: Int { shape.count }
    /// Number of elements.
    public var count: Int { shapeCount(shape) }

    /// True when the elements are laid out row-major without gaps (views may not be).
    public var isContiguous: Bool {
        var expected = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            if shape[i] == 1 { continue }
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    /// The elements in row-major order (a copy).
    public var scalars: [Float] {
        let c = contiguous()
        return Array(UnsafeBufferPointer(start: c.storage.pointer + c.offset, count: c.count))
    }

    /// The single element of a one-element tensor. Traps otherwise.
    public var item: Float {
        precondition(count == 1, "Tensor.item: tensor of shape \(shape) has \(count) elements")
        return (storage.pointer + offset).pointee
    }

    /// Calls `body` with the elements in row-major order (copying first only if this is a
    /// non-contiguous view).
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        let c = contiguous()
        return try body(UnsafeBufferPointer(start: c.storage.pointer + c.offset, count: c.count))
    }

    /// Calls `body` with mutable row-major elements. Copies first when the storage is shared
    /// with another tensor or the tensor is a non-contiguous view (copy-on-write), so other
    /// tensors never see the change. Not recorded on the tape (use for optimizer updates
    /// and initialisation only).
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) || !isContiguous || offset != 0 || storage.count != count {
            let node = self.node
            self = withNoGrad { self.copied() }
            self.node = node
        }
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// Pointer to the first element (internal: kernels).
    var ptr: UnsafeMutablePointer<Float> { storage.pointer + offset }

    // MARK: autograd surface

    /// Whether gradients flow to this tensor. Setting `true` makes it a leaf of the tape
    /// (a parameter); setting `false` detaches it.
    public var requiresGrad: Bool {
        get { node != nil }
        set {
            if newValue { if node == nil || !(node!.isLeaf) { node = GradNode(leafShape: shape) } }
            else { node = nil }
        }
    }

    /// The gradient accumulated by `backward()` (leaves only; nil before any backward).
    public var grad: Tensor? { node?.grad }

    /// Clears the accumulated gradient.
    public func zeroGrad() { node?.grad = nil }

    /// The same values, cut from the tape.
    public func detached() -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset, node: nil)
    }

    /// A contiguous copy of the values (always a new buffer). Recorded on the tape.
    public func copied() -> Tensor {
        var out = Tensor(uninitialized: shape)
        stridedCopy(from: self, to: out.storage.pointer)
        if let _ = node, GradMode.isEnabled {
            record(&out, [self]) { g in [g] }
        }
        return out
    }

    /// This tensor if it is already contiguous, else a contiguous copy. Recorded on the tape.
    public func contiguous() -> Tensor { isContiguous ? self : copied() }

    // MARK: views

    /// The same elements with a new shape (one extent may be -1: inferred). A view when the
    /// tensor is contiguous, otherwise a copy. Backward: reshape of the gradient.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.map { $0.element }.reduce(1, *)
            precondition(known > 0 && count % known == 0, "reshaped: cannot infer -1 in \(newShape) for shape \(shape)")
            s[i] = count / known
        }
        precondition(shapeCount(s) == count && s.allSatisfy { $0 >= 0 },
                     "reshaped: shape \(shape) (\(count) elements) cannot become \(newShape)")
        if s == shape { return self }
        let src = isContiguous ? self : copied()
        var out = Tensor(storage: src.storage, shape: s, strides: rowMajorStrides(s), offset: src.offset)
        let oldShape = shape
        if src.node != nil, GradMode.isEnabled { record(&out, [src]) { g in [g.reshaped(oldShape)] } }
        return out
    }

    /// Reorders axes: result axis i is input axis `axes[i]` (torch `permute`). A view.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.count == rank && Set(axes) == Set(0..<rank),
                     "permuted: \(axes) is not a permutation of the \(rank) axes of \(shape)")
        var out = Tensor(storage: storage, shape: axes.map { shape[$0] }, strides: axes.map { strides[$0] }, offset: offset)
        if node != nil, GradMode.isEnabled {
            var inverse = [Int](repeating: 0, count: axes.count)
            for (i, a) in axes.enumerated() { inverse[a] = i }
            record(&out, [self]) { g in [g.permuted(inverse)] }
        }
        return out
    }

    /// Swaps two axes (negative indices count from the end). A view.
    public func transposed(_ a: Int, _ b: Int) -> Tensor {
        let a = normAxis(a, rank, "transposed"), b = normAxis(b, rank, "transposed")
        var axes = Array(0..<rank)
        axes.swapAt(a, b)
        return permuted(axes)
    }

    /// Elements `range` along `axis` (negative axis counts from the end). A view.
    /// Backward: the gradient placed into zeros of the input shape.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let ax = normAxis(axis, rank, "slice")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[ax],
                     "slice: range \(range) out of bounds for axis \(ax) of shape \(shape)")
        var s = shape
        s[ax] = range.count
        var out = Tensor(storage: storage, shape: s, strides: strides, offset: offset + range.lowerBound * strides[ax])
        if node != nil, GradMode.isEnabled {
            let inShape = shape
            record(&out, [self]) { g in
                var parts: [Tensor] = []
                if range.lowerBound > 0 {
                    var z = inShape; z[ax] = range.lowerBound; parts.append(Tensor(zeros: z))
                }
                parts.append(g)
                if range.upperBound < inShape[ax] {
                    var z = inShape; z[ax] = inShape[ax] - range.upperBound; parts.append(Tensor(zeros: z))
                }
                return [parts.count == 1 ? g : concat(parts, axis: ax)]
            }
        }
        return out
    }

    /// Element `index` along `axis`, with that axis removed. A view.
    public func select(axis: Int, _ index: Int) -> Tensor {
        slice(axis: axis, index..<(index + 1)).squeezed(axis: axis)
    }

    /// Removes an axis of extent 1. A view.
    public func squeezed(axis: Int) -> Tensor {
        let ax = normAxis(axis, rank, "squeezed")
        precondition(shape[ax] == 1, "squeezed: axis \(ax) of shape \(shape) is not 1")
        var s = shape, st = strides
        s.remove(at: ax); st.remove(at: ax)
        var out = Tensor(storage: storage, shape: s, strides: st, offset: offset)
        if node != nil, GradMode.isEnabled { record(&out, [self]) { g in [g.unsqueezed(axis: ax)] } }
        return out
    }

    /// Inserts an axis of extent 1 at `axis` (0...rank; negative counts from the end). A view.
    public func unsqueezed(axis: Int) -> Tensor {
        let ax = axis < 0 ? axis + rank + 1 : axis
        precondition(ax >= 0 && ax <= rank, "unsqueezed: axis \(axis) out of range for shape \(shape)")
        var s = shape, st = strides
        s.insert(1, at: ax)
        st.insert(ax < rank ? strides[ax] * shape[ax] : 1, at: ax)
        var out = Tensor(storage: storage, shape: s, strides: st, offset: offset)
        if node != nil, GradMode.isEnabled { record(&out, [self]) { g in [g.squeezed(axis: ax)] } }
        return out
    }

    /// A view repeating axes of extent 1 to `newShape` (NumPy broadcasting; stride 0). Backward: sum.
    public func broadcast(to newShape: [Int]) -> Tensor {
        let st = broadcastStrides(self, to: newShape, op: "broadcast")
        var out = Tensor(storage: storage, shape: newShape, strides: st, offset: offset)
        if node != nil, GradMode.isEnabled {
            let s = shape
            record(&out, [self]) { g in [sumToShape(g, s)] }
        }
        return out
    }

    /// Storage index of a multi-index (internal helper).
    func flattenedIndex(_ idx: [Int]) -> Int {
        var o = offset
        for i in 0..<idx.count { o += idx[i] * strides[i] }
        return o
    }

    /// The element at a multi-index (for tests and debugging).
    public subscript(_ idx: Int...) -> Float {
        precondition(idx.count == rank, "subscript: \(idx.count) indices for shape \(shape)")
        for (i, v) in idx.enumerated() { precondition(v >= 0 && v < shape[i], "subscript: index \(idx) out of \(shape)") }
        return storage.pointer[flattenedIndex(idx)]
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let vals = count <= 16 ? scalars.map { "\($0)" }.joined(separator: ", ") : "\(count) values"
        return "Tensor(shape: \(shape), [\(vals)]\(requiresGrad ? ", requiresGrad" : ""))"
    }
}

// MARK: helpers

@inline(__always) func shapeCount(_ s: [Int]) -> Int { s.reduce(1, *) }

extension Tensor {
    /// Row-major strides of `shape`.
    public static func contiguousStrides(_ shape: [Int]) -> [Int] { rowMajorStrides(shape) }
}

func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var st = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        st[i] = acc
        acc *= max(shape[i], 1)
    }
    return st
}

func normAxis(_ a: Int, _ rank: Int, _ op: String) -> Int {
    let r = a < 0 ? a + rank : a
    precondition(r >= 0 && r < max(rank, 1), "\(op): axis \(a) out of range for rank \(rank)")
    return r
}

/// NumPy broadcast of two shapes; traps naming `op` when incompatible.
func broadcastShapes(_ a: [Int], _ b: [Int], op: String) -> [Int] {
    let n = max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let da = i < n - a.count ? 1 : a[i - (n - a.count)]
        let db = i < n - b.count ? 1 : b[i - (n - b.count)]
        precondition(da == db || da == 1 || db == 1, "\(op): shapes \(a) and \(b) do not broadcast")
        out[i] = da == 1 ? db : da
    }
    return out
}

/// Strides that read `t` as if broadcast to `shape` (0 on repeated axes).
func broadcastStrides(_ t: Tensor, to shape: [Int], op: String) -> [Int] {
    let n = shape.count
    precondition(t.rank <= n, "\(op): cannot broadcast \(t.shape) to \(shape)")
    var st = [Int](repeating: 0, count: n)
    for i in 0..<t.rank {
        let j = n - t.rank + i
        if t.shape[i] == shape[j] { st[j] = t.shape[i] == 1 ? 0 : t.strides[i] }
        else {
            precondition(t.shape[i] == 1, "\(op): cannot broadcast \(t.shape) to \(shape)")
            st[j] = 0
        }
    }
    return st
}

/// Deterministic PRNG (xoshiro256**, seeded by SplitMix64).
public struct SeededRNG: RandomNumberGenerator {
    private var s: (UInt64, UInt64, UInt64, UInt64)
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E3779B97F4A7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }
    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }
    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnitDouble() -> Double { Double(next() >> 11) * (1.0 / 9007199254740992.0) }
}
