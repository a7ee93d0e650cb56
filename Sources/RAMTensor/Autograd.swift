import Glibc

/// The tape switch, per thread: inference runs inside `withNoGrad`, which records nothing and
/// saves no activations. Each thread has its own state (a data-loading thread's `withNoGrad`
/// never affects a training thread); new threads start with the tape on.
public enum GradMode {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()
    /// Nesting depth of `withNoGrad` on this thread (stored in the thread-specific slot).
    static var depthDisabled: Int {
        get { Int(bitPattern: pthread_getspecific(key)) }
        set { pthread_setspecific(key, UnsafeRawPointer(bitPattern: newValue)) }
    }
    /// True unless inside `withNoGrad` on this thread.
    public static var isEnabled: Bool { pthread_getspecific(key) == nil }
}

/// Runs `body` with the tape off on this thread: no op records itself or saves activations
/// (inference).
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    GradMode.depthDisabled += 1
    defer { GradMode.depthDisabled -= 1 }
    return try body()
}

/// Runs `body` with the tape on, even inside `withNoGrad`.
public func withGrad<R>(_ body: () throws -> R) rethrows -> R {
    let saved = GradMode.depthDisabled
    GradMode.depthDisabled = 0
    defer { GradMode.depthDisabled = saved }
    return try body()
}

/// One node of the tape: the tensor's accumulated gradient, the nodes of the op's inputs and
/// the closure mapping the output gradient to input gradients (nil for a leaf).
final class GradNode {
    var grad: Tensor?
    let inputs: [GradNode?]
    var backwardFn: ((Tensor) -> [Tensor?])?
    let isLeaf: Bool
    let shape: [Int]

    init(leafShape: [Int]) {
        inputs = []; backwardFn = nil; isLeaf = true; shape = leafShape
    }

    init(shape: [Int], inputs: [GradNode?], backward: @escaping (Tensor) -> [Tensor?]) {
        self.shape = shape; self.inputs = inputs; self.backwardFn = backward; isLeaf = false
    }

    func accumulate(_ g: Tensor) {
        precondition(g.shape == shape, "autograd: gradient of shape \(g.shape) for a tensor of shape \(shape)")
        if let old = grad { grad = old + g } else { grad = g.detached() }
    }
}

/// Attaches a tape node to `out` if grad mode is on and some input requires a gradient.
/// `backward` gets the gradient of `out` and returns one gradient (or nil) per input, each of
/// the input's shape.
@inline(__always)
func record(_ out: inout Tensor, _ inputs: [Tensor], _ backward: @escaping (Tensor) -> [Tensor?]) {
    guard GradMode.isEnabled, inputs.contains(where: { $0.node != nil }) else { return }
    out.node = GradNode(shape: out.shape, inputs: inputs.map { $0.node }, backward: backward)
}

/// True when an op with these inputs will record (so it must save what its backward needs).
@inline(__always)
func needsGrad(_ inputs: Tensor...) -> Bool {
    GradMode.isEnabled && inputs.contains(where: { $0.node != nil })
}

extension Tensor {
    /// Reverse-mode differentiation from this tensor. `seed` is dL/d(self) (default: ones,
    /// which for a scalar loss is the usual dL/dL = 1). Gradients accumulate into the `grad`
    /// of leaves (tensors with `requiresGrad` set, e.g. parameters); intermediate gradients and
    /// saved activations are released as the walk proceeds. The graph is walked iteratively
    /// (no recursion), in reverse topological order. Backward itself is not recorded.
    public func backward(_ seed: Tensor? = nil) {
        guard let root = node else {
            preconditionFailure("backward: tensor of shape \(shape) does not require grad")
        }
        let g0 = seed ?? Tensor(ones: shape)
        precondition(g0.shape == shape, "backward: seed shape \(g0.shape) != tensor shape \(shape)")
        // Iterative DFS post-order -> topological order.
        var order: [GradNode] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(GradNode, Int)] = [(root, 0)]
        visited.insert(ObjectIdentifier(root))
        while !stack.isEmpty {
            let (n, i) = stack[stack.count - 1]
            if i < n.inputs.count {
                stack[stack.count - 1].1 = i + 1
                if let c = n.inputs[i], !visited.contains(ObjectIdentifier(c)) {
                    visited.insert(ObjectIdentifier(c))
                    stack.append((c, 0))
                }
            } else {
                order.append(n)
                stack.removeLast()
            }
        }
        withNoGrad {
            root.accumulate(g0)
            for n in order.reversed() {
                guard let fn = n.backwardFn, let g = n.grad else { continue }
                let grads = fn(g)
                for (k, parent) in n.inputs.enumerated() {
                    if let p = parent, k < grads.count, let gk = grads[k] { p.accumulate(gk) }
                }
                if !n.isLeaf { n.grad = nil; n.backwardFn = nil }
            }
        }
    }
}

/// Sums `g` over the axes that broadcasting added or repeated, giving a tensor of `shape`.
func sumToShape(_ g: Tensor, _ shape: [Int]) -> Tensor {
    if g.shape == shape { return g }
    let lead = g.rank - shape.count
    var axes: [Int] = Array(0..<lead)
    for i in 0..<shape.count where shape[i] == 1 && g.shape[lead + i] != 1 { axes.append(lead + i) }
    var r = axes.isEmpty ? g : sum(g, axes: axes, keepDims: true)
    if lead > 0 { r = r.reshaped(shape) }
    else if r.shape != shape { r = r.reshaped(shape) }
    return r
}
