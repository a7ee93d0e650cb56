import Glibc

// MARK: kernel protocols

/// A binary elementwise function, specialised into the strided kernel.
protocol BinaryFn { static func f(_ a: Float, _ b: Float) -> Float }
/// A unary elementwise function with parameters, plus an 8-lane form.
protocol UnaryFn {
    func f(_ x: Float) -> Float
    func v(_ x: SIMD8<Float>) -> SIMD8<Float>
}

enum AddFn: BinaryFn { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { a + b } }
enum SubFn: BinaryFn { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { a - b } }
enum MulFn: BinaryFn { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { a * b } }
enum DivFn: BinaryFn { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { a / b } }
enum MaxFn: BinaryFn { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { Swift.max(a, b) } }
enum MinFn: BinaryFn { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { Swift.min(a, b) } }
/// 1 where a == b else 0.
enum EqFn: BinaryFn { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { a == b ? 1 : 0 } }
/// a > 0 ? b : 0 (ReLU backward with a = x, b = grad).
enum ReluGradFn: BinaryFn { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { a > 0 ? b : 0 } }
/// GELU backward: b · (Φ(a) + a·φ(a)).
enum GeluGradFn: BinaryFn {
    @inline(__always) static func f(_ a: Float, _ b: Float) -> Float {
        let cdf = 0.5 * (1 + erff(a * 0.70710678118654752))
        let pdf = expf(-0.5 * a * a) * 0.39894228040143268
        return b * (cdf + a * pdf)
    }
}
/// sign(a) · b (abs backward).
enum AbsGradFn: BinaryFn { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { a > 0 ? b : (a < 0 ? -b : 0) } }
/// b · s(1 − s) with a = s = sigmoid(x).
enum SigmoidGradFn: BinaryFn { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { b * a * (1 - a) } }
/// b · (1 − t²) with a = t = tanh(x).
enum TanhGradFn: BinaryFn { @inline(__always) static func f(_ a: Float, _ b: Float) -> Float { b * (1 - a * a) } }

/// out = Op(a, b) with NumPy broadcasting, contiguous output. No tape.
func binaryKernel<Op: BinaryFn>(_ a: Tensor, _ b: Tensor, _: Op.Type, _ name: String) -> Tensor {
    let shape = a.shape == b.shape ? a.shape : broadcastShapes(a.shape, b.shape, op: name)
    let out = Tensor(uninitialized: shape)
    let o = out.storage.pointer
    let ap = a.ptr, bp = b.ptr
    if a.shape == b.shape && a.isContiguous && b.isContiguous {
        Parallel.forChunks(out.count) { r in
            for i in r { o[i] = Op.f(ap[i], bp[i]) }
        }
        return out
    }
    let sa = broadcastStrides(a, to: shape, op: name), sb = broadcastStrides(b, to: shape, op: name)
    let loop = StridedLoop(shape: shape, strides: [sa, sb, rowMajorStrides(shape)])
    let n = loop.n, ia = loop.inner[0], ib = loop.inner[1], io = loop.inner[2]
    loop.run { off in
        let x = ap + off[0], y = bp + off[1], z = o + off[2]
        if io == 1 {
            if ia == 1 && ib == 1 { for i in 0..<n { z[i] = Op.f(x[i], y[i]) } }
            else if ia == 1 && ib == 0 { let c = y[0]; for i in 0..<n { z[i] = Op.f(x[i], c) } }
            else if ia == 0 && ib == 1 { let c = x[0]; for i in 0..<n { z[i] = Op.f(c, y[i]) } }
            else { for i in 0..<n { z[i] = Op.f(x[i * ia], y[i * ib]) } }
        } else {
            for i in 0..<n { z[i * io] = Op.f(x[i * ia], y[i * ib]) }
        }
    }
    return out
}

/// out = op(x), contiguous output. No tape.
func unaryKernel<Op: UnaryFn>(_ x: Tensor, _ op: Op) -> Tensor {
    let src = x.contiguous()
    let out = Tensor(uninitialized: x.shape)
    let s = src.ptr, o = out.storage.pointer
    Parallel.forChunks(x.count, costPerItem: 4) { r in
        var i = r.lowerBound
        let end = r.upperBound
        let rs = UnsafeRawPointer(s), ro = UnsafeMutableRawPointer(o)
        while i + 8 <= end {
            let v = rs.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            ro.storeBytes(of: op.v(v), toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < end { o[i] = op.f(s[i]); i += 1 }
    }
    return out
}

/// Applies `op` in place to contiguous memory (used by fused kernels on fresh buffers).
func unaryInPlace<Op: UnaryFn>(_ p: UnsafeMutablePointer<Float>, _ n: Int, _ op: Op) {
    var i = 0
    let rp = UnsafeMutableRawPointer(p)
    while i + 8 <= n {
        let v = rp.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        rp.storeBytes(of: op.v(v), toByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { p[i] = op.f(p[i]); i += 1 }
}

// MARK: vector math

/// e^x for 8 lanes: range reduction x = n·ln2 + r, degree-6 polynomial for e^r, scale by 2^n.
/// Relative error ≈ 2 ulp over the float range; underflows to 0 below −87.3, saturates above 88.7.
@inline(__always)
func vexp(_ x0: SIMD8<Float>) -> SIMD8<Float> {
    let x = x0.clamped(lowerBound: SIMD8(repeating: -87.3), upperBound: SIMD8(repeating: 88.7))
    let magic = SIMD8<Float>(repeating: 12582912.0) // 1.5 * 2^23
    let t = x * 1.44269504088896341 + magic
    let n = t - magic
    var r = x - n * 0.693145751953125
    r = r - n * 1.428606765330187045e-06
    var p = SIMD8<Float>(repeating: 1.0 / 5040)
    p = p * r + 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let bits = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
    let scale = unsafeBitCast((bits &+ 127) &<< 23, to: SIMD8<Float>.self)
    var res = p * scale
    res.replace(with: 0, where: x0 .< -87.3)
    return res
}

/// erf(x) for 8 lanes: x·P(x²)/Q(x²) on x clamped to [−4, 4] (a rational minimax fit; max
/// abs error ≈ 2e-7 against the double-precision erf, checked in the tests).
@inline(__always)
func verf(_ x0: SIMD8<Float>) -> SIMD8<Float> {
    let x = x0.clamped(lowerBound: SIMD8(repeating: -4), upperBound: SIMD8(repeating: 4))
    let x2 = x * x
    var p = SIMD8<Float>(repeating: -2.72614225801306e-10)
    p = p * x2 + 2.77068142495902e-08
    p = p * x2 + -2.10102402082508e-06
    p = p * x2 + -5.69250639462346e-05
    p = p * x2 + -7.34990630326855e-04
    p = p * x2 + -2.95459980854025e-03
    p = p * x2 + -1.60960333262415e-02
    p = p * x
    var q = SIMD8<Float>(repeating: -1.45660718464996e-05)
    q = q * x2 + -2.13374055278905e-04
    q = q * x2 + -1.68282697438203e-03
    q = q * x2 + -7.37332916720468e-03
    q = q * x2 + -1.42647390514189e-02
    return p / q
}

struct ExpOp: UnaryFn {
    @inline(__always) func f(_ x: Float) -> Float { expf(x) }
    @inline(__always) func v(_ x: SIMD8<Float>) -> SIMD8<Float> { vexp(x) }
}
struct LogOp: UnaryFn {
    @inline(__always) func f(_ x: Float) -> Float { logf(x) }
    @inline(__always) func v(_ x: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8(logf(x[0]), logf(x[1]), logf(x[2]), logf(x[3]), logf(x[4]), logf(x[5]), logf(x[6]), logf(x[7]))
    }
}
struct SigmoidOp: UnaryFn {
    @inline(__always) func f(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
    @inline(__always) func v(_ x: SIMD8<Float>) -> SIMD8<Float> { 1 / (1 + vexp(-x)) }
}
struct TanhOp: UnaryFn {
    @inline(__always) func f(_ x: Float) -> Float { tanhf(x) }
    @inline(__always) func v(_ x: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8(tanhf(x[0]), tanhf(x[1]), tanhf(x[2]), tanhf(x[3]), tanhf(x[4]), tanhf(x[5]), tanhf(x[6]), tanhf(x[7]))
    }
}
struct ReluOp: UnaryFn {
    @inline(__always) func f(_ x: Float) -> Float { x > 0 ? x : 0 }
    @inline(__always) func v(_ x: SIMD8<Float>) -> SIMD8<Float> { x.replacing(with: 0, where: x .< 0) }
}
/// Exact GELU: x·Φ(x) = x·½(1 + erf(x/√2)) (PyTorch's default `approximate='none'`, BERT's gelu).
struct GeluOp: UnaryFn {
    @inline(__always) func f(_ x: Float) -> Float { 0.5 * x * (1 + erff(x * 0.70710678118654752)) }
    @inline(__always) func v(_ x: SIMD8<Float>) -> SIMD8<Float> { 0.5 * x * (1 + verf(x * 0.70710678118654752)) }
}
struct SqrtOp: UnaryFn {
    @inline(__always) func f(_ x: Float) -> Float { x.squareRoot() }
    @inline(__always) func v(_ x: SIMD8<Float>) -> SIMD8<Float> { x.squareRoot() }
}
struct AbsOp: UnaryFn {
    @inline(__always) func f(_ x: Float) -> Float { Swift.abs(x) }
    @inline(__always) func v(_ x: SIMD8<Float>) -> SIMD8<Float> { x.replacing(with: -x, where: x .< 0) }
}
struct PowOp: UnaryFn {
    let p: Float
    @inline(__always) func f(_ x: Float) -> Float { p == 2 ? x * x : powf(x, p) }
    @inline(__always) func v(_ x: SIMD8<Float>) -> SIMD8<Float> {
        if p == 2 { return x * x }
        return SIMD8(f(x[0]), f(x[1]), f(x[2]), f(x[3]), f(x[4]), f(x[5]), f(x[6]), f(x[7]))
    }
}
/// a·x + b.
struct AffineOp: UnaryFn {
    let a: Float, b: Float
    @inline(__always) func f(_ x: Float) -> Float { a * x + b }
    @inline(__always) func v(_ x: SIMD8<Float>) -> SIMD8<Float> { a * x + b }
}
/// s / x.
struct RecipOp: UnaryFn {
    let s: Float
    @inline(__always) func f(_ x: Float) -> Float { s / x }
    @inline(__always) func v(_ x: SIMD8<Float>) -> SIMD8<Float> { s / x }
}
struct ClampOp: UnaryFn {
    let lo: Float, hi: Float
    @inline(__always) func f(_ x: Float) -> Float { Swift.min(Swift.max(x, lo), hi) }
    @inline(__always) func v(_ x: SIMD8<Float>) -> SIMD8<Float> {
        x.clamped(lowerBound: SIMD8(repeating: lo), upperBound: SIMD8(repeating: hi))
    }
}
/// 1 where lo ≤ x ≤ hi else 0 (clamp backward mask).
struct InRangeOp: UnaryFn {
    let lo: Float, hi: Float
    @inline(__always) func f(_ x: Float) -> Float { (x >= lo && x <= hi) ? 1 : 0 }
    @inline(__always) func v(_ x: SIMD8<Float>) -> SIMD8<Float> {
        SIMD8<Float>(repeating: 0).replacing(with: 1, where: (x .>= lo) .& (x .<= hi))
    }
}

// MARK: public arithmetic

/// Elementwise a + b with NumPy broadcasting: shapes align from the right, extents equal or 1.
/// Result: the broadcast shape. Saves nothing; backward sums over broadcast axes.
public func + (a: Tensor, b: Tensor) -> Tensor {
    var out = binaryKernel(a, b, AddFn.self, "add")
    record(&out, [a, b]) { g in [sumToShape(g, a.shape), sumToShape(g, b.shape)] }
    return out
}
/// Elementwise a − b (broadcasting). Saves nothing.
public func - (a: Tensor, b: Tensor) -> Tensor {
    var out = binaryKernel(a, b, SubFn.self, "sub")
    record(&out, [a, b]) { g in [sumToShape(g, a.shape), sumToShape(-g, b.shape)] }
    return out
}
/// Elementwise a · b (broadcasting). Saves a and b (when recording).
public func * (a: Tensor, b: Tensor) -> Tensor {
    var out = binaryKernel(a, b, MulFn.self, "mul")
    record(&out, [a, b]) { g in
        [a.node != nil ? sumToShape(g * b, a.shape) : nil, b.node != nil ? sumToShape(g * a, b.shape) : nil]
    }
    return out
}
/// Elementwise a / b (broadcasting). Saves a and b.
public func / (a: Tensor, b: Tensor) -> Tensor {
    var out = binaryKernel(a, b, DivFn.self, "div")
    record(&out, [a, b]) { g in
        [a.node != nil ? sumToShape(g / b, a.shape) : nil,
         b.node != nil ? sumToShape(-(g * a) / (b * b), b.shape) : nil]
    }
    return out
}
/// −x. Saves nothing.
public prefix func - (x: Tensor) -> Tensor { affine(x, -1, 0) }
/// x + s.
public func + (x: Tensor, s: Float) -> Tensor { affine(x, 1, s) }
/// s + x.
public func + (s: Float, x: Tensor) -> Tensor { affine(x, 1, s) }
/// x − s.
public func - (x: Tensor, s: Float) -> Tensor { affine(x, 1, -s) }
/// s − x.
public func - (s: Float, x: Tensor) -> Tensor { affine(x, -1, s) }
/// x · s.
public func * (x: Tensor, s: Float) -> Tensor { affine(x, s, 0) }
/// s · x.
public func * (s: Float, x: Tensor) -> Tensor { affine(x, s, 0) }
/// x / s.
public func / (x: Tensor, s: Float) -> Tensor { affine(x, 1 / s, 0) }
/// s / x, elementwise. Saves x.
public func / (s: Float, x: Tensor) -> Tensor {
    var out = unaryKernel(x, RecipOp(s: s))
    record(&out, [x]) { g in [-(g * s) / (x * x)] }
    return out
}

/// a·x + b elementwise, any shape. Saves nothing.
public func affine(_ x: Tensor, _ a: Float, _ b: Float) -> Tensor {
    var out = unaryKernel(x, AffineOp(a: a, b: b))
    record(&out, [x]) { g in [g * a] }
    return out
}

/// Elementwise maximum (broadcasting); the gradient goes to `a` where a ≥ b, else to `b`.
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
    var out = binaryKernel(a, b, MaxFn.self, "maximum")
    record(&out, [a, b]) { g in
        let pickA = binaryKernel(out.detached(), a, EqFn.self, "maximum")  // 1 where a is the max
        return [sumToShape(g * pickA, a.shape), sumToShape(g * (1 - pickA), b.shape)]
    }
    return out
}

// MARK: public unary

/// e^x elementwise (any shape). Saves the output.
public func exp(_ x: Tensor) -> Tensor {
    var out = unaryKernel(x, ExpOp())
    let y = out.detached()
    record(&out, [x]) { g in [g * y] }
    return out
}
/// Natural log elementwise. Saves x. (log of a non-positive value gives −inf/NaN, as in torch.)
public func log(_ x: Tensor) -> Tensor {
    var out = unaryKernel(x, LogOp())
    record(&out, [x]) { g in [g / x] }
    return out
}
/// 1 / (1 + e^−x) elementwise. Saves the output.
public func sigmoid(_ x: Tensor) -> Tensor {
    var out = unaryKernel(x, SigmoidOp())
    let y = out.detached()
    record(&out, [x]) { g in [binaryKernel(y, g, SigmoidGradFn.self, "sigmoid")] }
    return out
}
/// tanh elementwise. Saves the output.
public func tanh(_ x: Tensor) -> Tensor {
    var out = unaryKernel(x, TanhOp())
    let y = out.detached()
    record(&out, [x]) { g in [binaryKernel(y, g, TanhGradFn.self, "tanh")] }
    return out
}
/// max(x, 0) elementwise. Saves x.
public func relu(_ x: Tensor) -> Tensor {
    var out = unaryKernel(x, ReluOp())
    record(&out, [x]) { g in [binaryKernel(x, g, ReluGradFn.self, "relu")] }
    return out
}
/// Exact GELU, x·½(1 + erf(x/√2)) (PyTorch `F.gelu` default; BERT's `gelu`). Saves x.
public func gelu(_ x: Tensor) -> Tensor {
    var out = unaryKernel(x, GeluOp())
    record(&out, [x]) { g in [binaryKernel(x, g, GeluGradFn.self, "gelu")] }
    return out
}
/// √x elementwise. Saves the output.
public func sqrt(_ x: Tensor) -> Tensor {
    var out = unaryKernel(x, SqrtOp())
    let y = out.detached()
    record(&out, [x]) { g in [g * 0.5 / y] }
    return out
}
/// |x| elementwise. Saves x; the gradient at 0 is 0.
public func abs(_ x: Tensor) -> Tensor {
    var out = unaryKernel(x, AbsOp())
    record(&out, [x]) { g in [binaryKernel(x, g, AbsGradFn.self, "abs")] }
    return out
}
/// x^p elementwise (torch.pow with a float exponent). Saves x.
public func pow(_ x: Tensor, _ p: Float) -> Tensor {
    var out = unaryKernel(x, PowOp(p: p))
    record(&out, [x]) { g in [g * (pow(x, p - 1) * p)] }
    return out
}
/// Clamps elementwise to [min, max] (either may be nil: unbounded). Saves x; the gradient
/// passes where min ≤ x ≤ max.
public func clamp(_ x: Tensor, min lo: Float? = nil, max hi: Float? = nil) -> Tensor {
    let l = lo ?? -Float.infinity, h = hi ?? Float.infinity
    var out = unaryKernel(x, ClampOp(lo: l, hi: h))
    record(&out, [x]) { g in [g * unaryKernel(x, InRangeOp(lo: l, hi: h))] }
    return out
}
