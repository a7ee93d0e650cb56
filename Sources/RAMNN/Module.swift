import RAMTensor

/// A named, trainable (or buffer) tensor owned by a `Module`.
///
/// A trainable parameter's `value` requires a gradient (it is a leaf of the tape); assigning a
/// new value (loading, an optimizer step) keeps it so. Buffers (`isBuffer`) never require one.
public final class Parameter {
    public var value: Tensor {
        didSet { if !isBuffer && !value.requiresGrad { value.requiresGrad = true } }
    }
    /// Buffers are saved in state dicts but not trained (e.g. Swin's relative_position_index).
    public let isBuffer: Bool

    public init(_ value: Tensor, isBuffer: Bool = false) {
        self.isBuffer = isBuffer
        var v = value
        v.requiresGrad = !isBuffer
        self.value = v
    }

    /// The gradient accumulated by `backward()`, if any.
    public var grad: Tensor? { value.grad }
    /// Clears the gradient.
    public func zeroGrad() { value.zeroGrad() }
    /// The shape of the value.
    public var shape: [Int] { value.shape }
}

/// Base class of every layer and model.
///
/// Children and parameters are discovered by reflection (`Mirror`) over stored properties of
/// type `Parameter`, `Module`, `[Module]`, `[Parameter]` and their optionals (nil is skipped),
/// walking superclasses too; the property name is the state-dict name and array elements are
/// numbered, so models spell properties as the reference does (`visual_encoder`,
/// `layers.0.attn.qkv.weight`, ...). Properties of other types are ignored.
open class Module {
    /// Training mode (dropout, drop-path active). Set recursively with `train(_:)`.
    public var training: Bool = false

    public init() {}

    /// Direct children and parameters by property name, in declaration order
    /// (superclass properties first).
    public func namedMembers() -> [(String, Any)] {
        var chain: [Mirror] = []
        var m: Mirror? = Mirror(reflecting: self)
        while let mm = m { chain.append(mm); m = mm.superclassMirror }
        var out: [(String, Any)] = []
        for mirror in chain.reversed() {
            for child in mirror.children {
                guard let label = child.label, !label.hasPrefix("$__lazy_storage_$_") else { continue }
                let name = label.hasPrefix("_") ? String(label.dropFirst()) : label
                out.append((name, child.value))
            }
        }
        return out
    }

    /// Direct child modules (`name` or `name.i` for arrays).
    public func namedChildren() -> [(String, Module)] {
        var out: [(String, Module)] = []
        for (name, value) in namedMembers() {
            if let m = value as? Module { out.append((name, m)) }
            else if let ms = value as? [Module] { for (i, m) in ms.enumerated() { out.append(("\(name).\(i)", m)) } }
        }
        return out
    }

    /// Every module in the tree with its dotted path ("" for self), parents before children.
    public func namedModules() -> [(String, Module)] {
        var out: [(String, Module)] = []
        var stack: [(String, Module)] = [("", self)]
        while let (prefix, m) = stack.popLast() {
            out.append((prefix, m))
            for (name, c) in m.namedChildren().reversed() {
                stack.append((prefix.isEmpty ? name : "\(prefix).\(name)", c))
            }
        }
        return out
    }

    /// Every parameter and buffer with its dotted state-dict name, in module order.
    public func namedTensors() -> [(String, Parameter)] {
        var out: [(String, Parameter)] = []
        for (prefix, m) in namedModules() {
            for (name, value) in m.namedMembers() {
                let full = prefix.isEmpty ? name : "\(prefix).\(name)"
                if let p = value as? Parameter { out.append((full, p)) }
                else if let ps = value as? [Parameter] { for (i, p) in ps.enumerated() { out.append(("\(full).\(i)", p)) } }
            }
        }
        return out
    }

    /// Trainable parameters with dotted names (e.g. `layers.0.attn.qkv.weight`).
    public func namedParameters() -> [(String, Parameter)] { namedTensors().filter { !$0.1.isBuffer } }
    /// Buffers with dotted names.
    public func namedBuffers() -> [(String, Parameter)] { namedTensors().filter { $0.1.isBuffer } }
    /// Trainable parameters.
    public func parameters() -> [Parameter] { namedParameters().map { $0.1 } }

    /// Sets `training` on this module and every descendant.
    public func train(_ on: Bool = true) { for (_, m) in namedModules() { m.training = on } }
    /// `train(false)`.
    public func eval() { train(false) }
    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters() { p.zeroGrad() } }

    /// Every parameter and buffer by state-dict name.
    /// Traps when linear layers of the tree were packed for inference (their weights are gone).
    public func stateDict() -> [String: Tensor] {
        let packedLayers = packedLayerNames
        precondition(packedLayers.isEmpty, "stateDict: the linear layers \(packedLayers.prefix(3).joined(separator: ", "))"
                     + "\(packedLayers.count > 3 ? ", …" : "") were packed for inference; build the model again to save it")
        var d: [String: Tensor] = [:]
        for (n, p) in namedTensors() { d[n] = p.value.detached() }
        return d
    }
}

/// What `Module.load` matched.
public struct LoadReport: CustomStringConvertible {
    /// Model tensors with no entry in the checkpoint (left as they were).
    public var missing: [String] = []
    /// Checkpoint entries the model does not have (ignored).
    public var unexpected: [String] = []
    /// Entries present in both with different shapes (not loaded).
    public var shapeMismatches: [(key: String, expected: [Int], found: [Int])] = []
    /// Number of tensors loaded.
    public var loaded = 0

    public init() {}

    public var isComplete: Bool { missing.isEmpty && unexpected.isEmpty && shapeMismatches.isEmpty }

    public var description: String {
        var lines = ["loaded \(loaded) tensors"]
        if !missing.isEmpty { lines.append("missing (\(missing.count)): " + missing.joined(separator: ", ")) }
        if !unexpected.isEmpty { lines.append("unexpected (\(unexpected.count)): " + unexpected.joined(separator: ", ")) }
        for m in shapeMismatches { lines.append("shape mismatch for \(m.key): model \(m.expected), checkpoint \(m.found)") }
        return lines.joined(separator: "\n")
    }
}

/// A state dict that does not fit the model.
public struct LoadError: Error, CustomStringConvertible {
    public var report: LoadReport
    public var description: String { "checkpoint does not match the model (strict load):\n\(report)" }
}

extension Module {
    /// Copies `tensors` (state-dict name → value) into the parameters and buffers of this tree.
    /// Shape-mismatched entries are never loaded. With `strict`, any missing, unexpected or
    /// mismatched entry throws `LoadError` (naming every key) before anything is changed.
    @discardableResult
    public func load(_ tensors: [String: Tensor], strict: Bool) throws -> LoadReport {
        let packedLayers = packedLayerNames
        precondition(packedLayers.isEmpty, "load: the linear layers \(packedLayers.prefix(3).joined(separator: ", "))"
                     + "\(packedLayers.count > 3 ? ", …" : "") were packed for inference; build the model again to load weights")
        var report = LoadReport()
        let own = namedTensors()
        var ownNames = Set<String>()
        var toLoad: [(Parameter, Tensor)] = []
        for (name, p) in own {
            ownNames.insert(name)
            guard let t = tensors[name] else { report.missing.append(name); continue }
            if t.shape != p.value.shape {
                report.shapeMismatches.append((name, p.value.shape, t.shape))
                continue
            }
            toLoad.append((p, t))
        }
        report.unexpected = tensors.keys.filter { !ownNames.contains($0) }.sorted()
        if strict && !report.isComplete { throw LoadError(report: report) }
        for (p, t) in toLoad { p.value = t.detached() }
        report.loaded = toLoad.count
        return report
    }
}
