import Glibc

// MARK: kernel protocols

/// A binary elementwise function, specialised into the strided kernel.
protocol BinaryFn { static func f(_ a: Float, _ b: Float) -> Float }
/// A unary elementwise function with parameters. Kernels call `f` in plain loops that the
/// compiler vectorises (so `f` must be branch-free arithmetic to be fast).
protocol UnaryFn {
    func f(_ x: Float) -> Float
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
        for i in r { o[i] = op.f(s[i]) }
    }
    return out
}

/// Applies `op` in place to contiguous memory (used by fused kernels on fresh buffers).
@inline(__always)
func unaryInPlace<Op: UnaryFn>(_ p: UnsafeMutablePointer<Float>, _ n: Int, _ op: Op) {
    for i in 0..<n { p[i] = op.f(p[i]) }
}

// MARK: vector math

/// e^x in branch-free arithmetic (vectorisable): x = n·ln2 + r with n = round(x/ln2)
/// (magic-number rounding), a degree-7 Taylor polynomial for e^r on |r| ≤ ln2/2, and 2^n
/// built in the exponent bits. Relative error ≤ 3e-7 (checked against libm in the tests).
/// Below −87.3 the result is 0; above 88.7 it saturates at e^88.7 (not +inf).
@inline(__always)
func fexp(_ x0: Float) -> Float {
    var x = x0 < -87.3 ? -87.3 : x0
    x = x > 88.7 ? 88.7 : x
    let magic: Float = 12582912.0   // 1.5·2^23
    let t = x * 1.44269504088896341 + magic
    let n = t - magic
    let r = x - n * 0.693145751953125 - n * 1.428606765330187045e-06
    var p: Float = 1.0 / 5040
    p = (1.0 / 720 as Float).addingProduct(p, r)
    p = (1.0 / 120 as Float).addingProduct(p, r)
    p = (1.0 / 24 as Float).addingProduct(p, r)
    p = (1.0 / 6 as Float).addingProduct(p, r)
    p = (0.5 as Float).addingProduct(p, r)
    p = (1 as Float).addingProduct(p, r)
    p = (1 as Float).addingProduct(p, r)
    let bits = (t.bitPattern &- magic.bitPattern &+ 127) &<< 23
    let y = p * Float(bitPattern: bits)
    return x0 < -87.3 ? 0 : y
}

/// erf(x) in branch-free arithmetic: x·P(x²)/Q(x²) on x clamped to [−4, 4] (a rational
/// minimax fit of float erf, as used by Eigen/XLA); |error| ≲ 2e-7, checked in the tests
/// against double-precision erf.
@inline(__always)
func ferf(_ x0: Float) -> Float {
    var x = x0 < -4 ? -4 : x0
    x = x > 4 ? 4 : x
    let x2 = x * x
    var p: Float = -2.72614225801306e-10
    p = (2.77068142495902e-08 as Float).addingProduct(p, x2)
    p = (-2.10102402082508e-06 as Float).addingProduct(p, x2)
    p = (-5.69250639462346e-05 as Float).addingProduct(p, x2)
    p = (-7.34990630326855e-04 as Float).addingProduct(p, x2)
    p = (-2.95459980854025e-03 as Float).addingProduct(p, x2)
    p = (-1.60960333262415e-02 as Float).addingProduct(p, x2)
    p = p * x
    var q: Float = -1.45660718464996e-05
    q = (-2.13374055278905e-04 as Float).addingProduct(q, x2)
    q = (-1.68282697438203e-03 as Float).addingProduct(q, x2)
    q = (-7.37332916720468e-03 as Float).addingProduct(q, x2)
    q = (-1.42647390514189e-02 as Float).addingProduct(q, x2)
    return p / q
}

/// Exact GELU x·½(1 + erf(x/√2)) with the vectorisable erf.
@inline(__always)
func fgelu(_ x: Float) -> Float { 0.5 * x * (1 + ferf(x * 0.70710678118654752)) }

struct ExpOp: UnaryFn {
    @inline(__always) func f(_ x: Float) -> Float { fexp(x) }
}
struct LogOp: UnaryFn {
    @inline(__always) func f(_ x: Float) -> Float { logf(x) }
}
struct SigmoidOp: UnaryFn {
    @inline(__always) func f(_ x: Float) -> Float { 1 / (1 + fexp(-x)) }
}
struct TanhOp: UnaryFn {
    @inline(__always) func f(_ x: Float) -> Float { tanhf(x) }
}
struct ReluOp: UnaryFn {
    @inline(__always) func f(_ x: Float) -> Float { x > 0 ? x : 0 }
}
/// Exact GELU: x·Φ(x) = x·½(1 + erf(x/√2)) (PyTorch's default `approximate='none'`, BERT's gelu).
struct GeluOp: UnaryFn {
    @inline(__always) func f(_ x: Float) -> Float { fgelu(x) }
}
struct SqrtOp: UnaryFn {
    @inline(__always) func f(_ x: Float) -> Float { x.squareRoot() }
}
struct AbsOp: UnaryFn {
    @inline(__always) func f(_ x: Float) -> Float { x < 0 ? -x : x }
}
struct PowOp: UnaryFn {
    let p: Float
    @inline(__always) func f(_ x: Float) -> Float { p == 2 ? x * x : powf(x, p) }
}
/// a·x + b.
struct AffineOp: UnaryFn {
    let a: Float, b: Float
    @inline(__always) func f(_ x: Float) -> Float { a * x + b }
}
/// s / x.
struct RecipOp: UnaryFn {
    let s: Float
    @inline(__always) func f(_ x: Float) -> Float { s / x }
}
struct ClampOp: UnaryFn {
    let lo: Float, hi: Float
    @inline(__always) func f(_ x: Float) -> Float { let y = x < lo ? lo : x; return y > hi ? hi : y }
}
/// 1 where lo ≤ x ≤ hi else 0 (clamp backward mask).
struct InRangeOp: UnaryFn {
    let lo: Float, hi: Float
    @inline(__always) func f(_ x: Float) -> Float { (x >= lo && x <= hi) ? 1 : 0 }
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
    let y = out.detached()   // not `out` itself: its node would then hold itself (a cycle)
    record(&out, [a, b]) { g in
        let pickA = binaryKernel(y, a, EqFn.self, "maximum")  // 1 where a is the max
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
/// x^p elementwise; the same as `pow(x, p)`.
public func pow(_ x: Tensor, p: Float) -> Tensor { pow(x, p) }
/// Clamps elementwise to [min, max] (either may be nil: unbounded). Saves x; the gradient
/// passes where min ≤ x ≤ max.
public func clamp(_ x: Tensor, min lo: Float? = nil, max hi: Float? = nil) -> Tensor {
    let l = lo ?? -Float.infinity, h = hi ?? Float.infinity
    var out = unaryKernel(x, ClampOp(lo: l, hi: h))
    record(&out, [x]) { g in [g * unaryKernel(x, InRangeOp(lo: l, hi: h))] }
    return out
}
