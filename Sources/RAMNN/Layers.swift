import RAMTensor

/// Fully connected layer (PyTorch `nn.Linear`): `weight` `[out, in]`, `bias` `[out]` (optional).
/// Initialised like PyTorch: U(−1/√in, 1/√in) for both, from `seed`.
public final class Linear: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let inFeatures: Int, outFeatures: Int

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, seed: UInt64 = 0) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let bound = 1 / Float(max(inFeatures, 1)).squareRoot()
        weight = Parameter(Tensor.uniform([outFeatures, inFeatures], low: -bound, high: bound, seed: seed))
        self.bias = bias ? Parameter(Tensor.uniform([outFeatures], low: -bound, high: bound, seed: seed &+ 1)) : nil
        super.init()
    }

    /// The weight in the packed GEMM's panel layout, after `packForInference()`; nil before.
    public private(set) var packed: PackedWeight?
    /// The packed weight to use for input `x`, or nil (use `weight`). Traps when a packed layer
    /// is asked to record a gradient for `x` (its weight is gone).
    private func packedWeight(for x: Tensor) -> PackedWeight? {
        if packed != nil {
            precondition(!(GradMode.isEnabled && x.requiresGrad),
                         "Linear: this layer was packed for inference (packForInference) and cannot record gradients")
        }
        return packed
    }

    /// x `[..., in]` → `[..., out]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        if let p = packedWeight(for: x) { return withNoGrad { RAMTensor.linear(x, packed: p, bias: bias?.value) } }
        return linear(x, weight: weight.value, bias: bias?.value)
    }

    /// `residual + x·Wᵀ + b`, the residual accumulated in the GEMM. x `[..., in]`, residual
    /// `[..., out]` → `[..., out]`.
    public func callAsFunction(_ x: Tensor, adding residual: Tensor) -> Tensor {
        if let p = packedWeight(for: x) {
            return withNoGrad { RAMTensor.linear(x, packed: p, bias: bias?.value, adding: residual) }
        }
        return linear(x, weight: weight.value, bias: bias?.value, adding: residual)
    }

    /// gelu(x·Wᵀ + b), fused when no gradient is recorded. x `[..., in]` → `[..., out]`.
    public func gelu(_ x: Tensor) -> Tensor {
        if let p = packedWeight(for: x) { return withNoGrad { RAMTensor.linear(x, packed: p, bias: bias?.value, gelu: true) } }
        return linearGELU(x, weight: weight.value, bias: bias?.value)
    }

    /// For inference only: replaces the weight by its packed form (`PackedWeight`), which the
    /// calls above then use; `weight.value` becomes an empty `[0]` tensor, so that nothing can
    /// read stale values from it, and `stateDict()` / `load` of the model refuse (see
    /// `Module.packedLayerNames`). Does nothing and returns false when the packed GEMM cannot
    /// run this layer (see `PackedWeight.init?(packing:)`) or when it is packed already.
    @discardableResult
    public func packForInference() -> Bool {
        guard packed == nil, let p = PackedWeight(packing: weight.value.detached()) else { return false }
        packed = p
        weight.value = Tensor(zeros: [0])
        return true
    }
}

extension Module {
    /// For inference only: `Linear.packForInference()` on every linear layer of the tree, then
    /// the freed weights go back to the system (`BufferPool.shared.trim()`), so the model's
    /// memory does not grow. Returns the number of layers packed. It costs one pass over the
    /// weights (RAM++ Swin-L/384: 0.36–0.43 s), which later forward passes may earn back (an
    /// estimated 0–4 % of each, see docs/tagging.md). Afterwards the model cannot be trained,
    /// loaded into or saved.
    @discardableResult
    public func packLinearLayersForInference() -> Int {
        var n = 0
        for (_, m) in namedModules() { if let l = m as? Linear, l.packForInference() { n += 1 } }
        BufferPool.shared.trim()
        return n
    }

    /// Dotted names of the linear layers whose weight has been packed (`Linear.packForInference`).
    public var packedLayerNames: [String] {
        namedModules().compactMap { name, m in (m as? Linear)?.packed != nil ? name : nil }
    }
}

/// Layer normalisation over the last axis (PyTorch `nn.LayerNorm`): `weight` (ones) and `bias`
/// (zeros) `[dim]`, `eps` (PyTorch default 1e-5; BERT uses 1e-12).
public final class LayerNorm: Module {
    public let weight: Parameter
    public let bias: Parameter
    public let eps: Float

    public init(_ dim: Int, eps: Float = 1e-5) {
        weight = Parameter(Tensor(ones: [dim]))
        bias = Parameter(Tensor(zeros: [dim]))
        self.eps = eps
        super.init()
    }

    /// x `[..., dim]` → same shape.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        layerNorm(x, weight: weight.value, bias: bias.value, eps: eps)
    }
}

/// Lookup table (PyTorch `nn.Embedding`): `weight` `[num, dim]`, initialised N(0, 1) from `seed`.
public final class Embedding: Module {
    public let weight: Parameter

    public init(_ num: Int, _ dim: Int, seed: UInt64 = 0) {
        weight = Parameter(Tensor.randn([num, dim], seed: seed))
        super.init()
    }

    /// Rows at `indices` arranged as `shape + [dim]` (indices must be in 0..<num: check user
    /// token ids before).
    public func callAsFunction(_ indices: [Int], shape: [Int]) -> Tensor {
        embedding(weight.value, indices: indices, shape: shape)
    }
}

/// Patch embedding convolution with kernel = stride = `patch` (the `proj` of Swin / ViT
/// `patch_embed`): `weight` `[O, C, p, p]`, `bias` `[O]`.
public final class Conv2dPatch: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let patch: Int

    public init(_ inChannels: Int, _ outChannels: Int, patch: Int, bias: Bool = true, seed: UInt64 = 0) {
        self.patch = patch
        let bound = 1 / Float(max(inChannels * patch * patch, 1)).squareRoot()
        weight = Parameter(Tensor.uniform([outChannels, inChannels, patch, patch], low: -bound, high: bound, seed: seed))
        self.bias = bias ? Parameter(Tensor.uniform([outChannels], low: -bound, high: bound, seed: seed &+ 1)) : nil
        super.init()
    }

    /// x `[B, C, H, W]` → `[B, O, H/p, W/p]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        patchEmbed(x, weight: weight.value, bias: bias?.value, patch: patch)
    }
}
