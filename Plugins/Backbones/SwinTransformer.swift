import RAMCore
import RAMNN
import RAMTensor

// Swin Transformer image encoder as RAM / RAM++ use it.
// Source: recognize-anything `ram/models/swin_transformer.py` (Liu et al., "Swin Transformer:
// Hierarchical Vision Transformer using Shifted Windows", arXiv:2103.14030, §3.1–3.2).
// Property names are the reference's state-dict names.

/// Two-layer feed-forward network: `fc2(GELU(fc1(x)))` (exact erf GELU).
public final class Mlp: Module {
    public let fc1: Linear
    public let fc2: Linear

    public init(inFeatures: Int, hiddenFeatures: Int, seed: inout UInt64) {
        fc1 = makeLinear(inFeatures, hiddenFeatures, bias: true, seed: &seed)
        fc2 = makeLinear(hiddenFeatures, inFeatures, bias: true, seed: &seed)
        super.init()
    }

    /// - Parameter x: `[..., in]` → `[..., in]`.
    public func forward(_ x: Tensor) -> Tensor {
        fc2(fc1.gelu(x))
    }

    /// `residual + forward(x)`, the residual accumulated in the second GEMM (no separate add).
    /// - Parameters: `x` `[..., in]`, `residual` `[..., in]` → `[..., in]`.
    public func forward(_ x: Tensor, adding residual: Tensor) -> Tensor {
        fc2(fc1.gelu(x), adding: residual)
    }
}

/// Multi-head self-attention inside W×W windows with a learned relative position bias
/// (paper §3.2 "Relative position bias": `softmax(QKᵀ/√d + B)V`).
public final class WindowAttention: Module {
    /// `[(2W−1)², heads]`.
    public let relative_position_bias_table: Parameter
    public let qkv: Linear
    public let proj: Linear

    public let dim: Int
    public let numHeads: Int
    public let window: Int
    let relativeIndex: [Int]

    public init(dim: Int, window: Int, numHeads: Int, qkvBias: Bool, seed: inout UInt64) {
        self.dim = dim
        self.window = window
        self.numHeads = numHeads
        relativeIndex = SwinGeometry.relativePositionIndex(window: window)
        let tableRows = (2 * window - 1) * (2 * window - 1)
        relative_position_bias_table = Parameter(
            Tensor.randn([tableRows, numHeads], std: 0.02, seed: nextSeed(&seed)))
        qkv = makeLinear(dim, 3 * dim, bias: qkvBias, seed: &seed)
        proj = makeLinear(dim, dim, bias: true, seed: &seed)
        super.init()
    }

    /// The relative position bias `[heads, N, N]` gathered from the table (differentiable
    /// with respect to the table).
    public func relativePositionBias() -> Tensor {
        let n = window * window
        // [N, N, heads] → [heads, N, N]
        return embedding(relative_position_bias_table.value, indices: relativeIndex, shape: [n, n])
            .permuted([2, 0, 1]).contiguous()
    }

    /// - Parameters:
    ///   - x: `[B·nW, N, C]` tokens of each window (N = W²), windows image-major.
    ///   - mask: `[nW, N, N]` additive mask (0 / −100) for shifted windows, or nil.
    ///   - maskNonzero: `[nW]`, false for the windows whose mask is all zeros (skipped; see
    ///     `attention`), or nil.
    /// - Returns: `[B·nW, N, C]`.
    public func forward(_ x: Tensor, mask: Tensor?, maskNonzero: [Bool]? = nil) -> Tensor {
        let b = x.shape[0], n = x.shape[1]
        let headDim = dim / numHeads
        let packed = qkv(x)
            .reshaped([b, n, 3, numHeads, headDim])
            .permuted([2, 0, 3, 1, 4])                      // [3, B_, H, N, D]
        let q = packed.slice(axis: 0, 0..<1).squeezed(axis: 0)
        let k = packed.slice(axis: 0, 1..<2).squeezed(axis: 0)
        let v = packed.slice(axis: 0, 2..<3).squeezed(axis: 0)
        let scale = 1 / Float(headDim).squareRoot()
        let out = attention(q: q, k: k, v: v, scale: scale, bias: relativePositionBias(), mask: mask,
                            maskNonzero: maskNonzero)
        let merged = out.transposed(1, 2).reshaped([b, n, dim])   // [B_, N, C]
        return proj(merged)
    }
}

/// One Swin block: (shifted) window attention and an MLP, each pre-norm with a residual.
public final class SwinTransformerBlock: Module {
    public let norm1: LayerNorm
    public let attn: WindowAttention
    public let norm2: LayerNorm
    public let mlp: Mlp

    public let resolution: Int
    public let window: Int
    public let shift: Int
    public let dropPathRate: Float
    let eps: Float
    /// Raster index of the token at each partitioned position, and its inverse.
    let partition: [Int]
    let reverse: [Int]
    /// `[nW, N, N]` when shifted.
    let attnMask: Tensor?
    /// Per window of `attnMask`: whether it has any non-zero entry (the others are skipped).
    let attnMaskNonzero: [Bool]?
    var dropSeed: UInt64

    public init(dim: Int, resolution: Int, numHeads: Int, window requestedWindow: Int, oddBlock: Bool,
                mlpRatio: Double, qkvBias: Bool, eps: Float, dropPath: Double, seed: inout UInt64) {
        let (w, s) = SwinGeometry.effectiveWindow(resolution: resolution, window: requestedWindow,
                                                  oddBlock: oddBlock)
        self.resolution = resolution
        window = w
        shift = s
        self.eps = eps
        dropPathRate = Float(dropPath)
        norm1 = makeLayerNorm(dim, eps: eps)
        attn = WindowAttention(dim: dim, window: w, numHeads: numHeads, qkvBias: qkvBias, seed: &seed)
        norm2 = makeLayerNorm(dim, eps: eps)
        mlp = Mlp(inFeatures: dim, hiddenFeatures: Int(Double(dim) * mlpRatio), seed: &seed)
        partition = SwinGeometry.partitionOrder(resolution: resolution, window: w, shift: s)
        reverse = SwinGeometry.inverse(partition)
        if s > 0 {
            let nW = (resolution / w) * (resolution / w)
            let m = Tensor(shape: [nW, w * w, w * w],
                           scalars: SwinGeometry.attentionMask(resolution: resolution, window: w, shift: s))
            attnMask = m
            attnMaskNonzero = attentionMaskNonzero(m)
        } else {
            attnMask = nil
            attnMaskNonzero = nil
        }
        dropSeed = nextSeed(&seed)
        super.init()
    }

    /// - Parameter x: `[B, R·R, C]` tokens in raster order → `[B, R·R, C]`.
    public func forward(_ x: Tensor) -> Tensor {
        let b = x.shape[0], l = x.shape[1], c = x.shape[2]
        let n = window * window
        // Roll + window partition as one gather (LayerNorm is per token, so it commutes).
        var h = layerNorm(x, weight: norm1.weight.value, bias: norm1.bias.value, eps: eps,
                          gatheringRows: partition)                 // [B, L, C], window order
        h = attn.forward(h.reshaped([b * (l / n), n, c]), mask: attnMask, maskNonzero: attnMaskNonzero)
        let y: Tensor
        if training && dropPathRate > 0 {
            y = x + droppedPath(indexSelect(h.reshaped([b, l, c]), axis: 1, indices: reverse))
        } else {
            y = indexSelect(h.reshaped([b, l, c]), axis: 1, indices: reverse, adding: x)  // window reverse + roll back + residual
        }
        let normed = layerNorm(y, weight: norm2.weight.value, bias: norm2.bias.value, eps: eps)
        if training && dropPathRate > 0 { return y + droppedPath(mlp.forward(normed)) }
        return mlp.forward(normed, adding: y)
    }

    private func droppedPath(_ t: Tensor) -> Tensor {
        guard training, dropPathRate > 0 else { return t }
        dropSeed &+= 0x9E37_79B9_7F4A_7C15
        return dropPath(t, p: dropPathRate, training: true, seed: dropSeed)
    }
}

/// Patch merging: 2×2 neighbouring tokens concatenated in the reference's order
/// (x0 = (even row, even col), x1 = (odd, even), x2 = (even, odd), x3 = (odd, odd)),
/// LayerNorm over 4C, then a bias-free Linear 4C → 2C.
public final class PatchMerging: Module {
    public let reduction: Linear
    public let norm: LayerNorm
    public let resolution: Int
    let eps: Float

    public init(resolution: Int, dim: Int, eps: Float, seed: inout UInt64) {
        self.resolution = resolution
        self.eps = eps
        reduction = makeLinear(4 * dim, 2 * dim, bias: false, seed: &seed)
        norm = makeLayerNorm(4 * dim, eps: eps)
        super.init()
    }

    /// - Parameter x: `[B, R·R, C]` → `[B, (R/2)², 2C]`.
    public func forward(_ x: Tensor) -> Tensor {
        let b = x.shape[0], c = x.shape[2], r = resolution
        // x[b, i, di, j, dj, c] → [b, i, j, dj, di, c]: concat index dj·2 + di is x0, x1, x2, x3.
        let merged = x.reshaped([b, r / 2, 2, r / 2, 2, c])
            .permuted([0, 1, 3, 4, 2, 5])
            .reshaped([b, (r / 2) * (r / 2), 4 * c])
        let normed = layerNorm(merged, weight: norm.weight.value, bias: norm.bias.value, eps: eps)
        return reduction(normed)
    }
}

/// One stage: `depth` blocks (even ones unshifted, odd ones shifted by W/2), then optional
/// patch merging.
public final class BasicLayer: Module {
    public let blocks: [SwinTransformerBlock]
    public let downsample: PatchMerging?

    public init(dim: Int, resolution: Int, depth: Int, numHeads: Int, window: Int, mlpRatio: Double,
                qkvBias: Bool, eps: Float, dropPath: [Double], downsample: Bool, seed: inout UInt64) {
        var blocks: [SwinTransformerBlock] = []
        for i in 0..<depth {
            blocks.append(SwinTransformerBlock(
                dim: dim, resolution: resolution, numHeads: numHeads, window: window,
                oddBlock: i % 2 == 1, mlpRatio: mlpRatio, qkvBias: qkvBias, eps: eps,
                dropPath: dropPath[i], seed: &seed))
        }
        self.blocks = blocks
        self.downsample = downsample ? PatchMerging(resolution: resolution, dim: dim, eps: eps, seed: &seed) : nil
        super.init()
    }

    public func forward(_ x: Tensor) -> Tensor {
        var h = x
        for block in blocks { h = block.forward(h) }
        if let d = downsample { h = d.forward(h) }
        return h
    }
}

/// Patch embedding: a p×p stride-p convolution, then LayerNorm (`patch_norm`).
public final class SwinPatchEmbed: Module {
    public let proj: Conv2dPatch
    public let norm: LayerNorm
    public let patch: Int
    let eps: Float

    public init(inChannels: Int, embedDim: Int, patch: Int, eps: Float, seed: inout UInt64) {
        self.patch = patch
        self.eps = eps
        proj = makeConv2dPatch(inChannels, embedDim, patch: patch, seed: &seed)
        norm = makeLayerNorm(embedDim, eps: eps)
        super.init()
    }

    /// - Parameter x: `[B, 3, S, S]` → `[B, (S/p)², C]`.
    public func forward(_ x: Tensor) -> Tensor {
        let t = patchTokens(x, proj: proj, patch: patch)
        return layerNorm(t, weight: norm.weight.value, bias: norm.bias.value, eps: eps)
    }
}

/// The Swin Transformer image encoder of RAM / RAM++ (`visual_encoder`).
///
/// Input `[B, 3, S, S]` normalised pixels; output `[B, 1 + L, C]`: token 0 is the average of the
/// final-norm tokens (`avgpool`), tokens 1…L are the final-norm tokens of the last stage in raster
/// order (L = (S/32)², C = `embed_dim · 8` for four stages). Source: `SwinTransformer.forward` in
/// `ram/models/swin_transformer.py`.
public final class SwinTransformer: Module, Backbone {
    public let patch_embed: SwinPatchEmbed
    public let layers: [BasicLayer]
    public let norm: LayerNorm

    public let config: SwinConfig
    public var outputDim: Int { config.numFeatures }

    /// Builds the architecture with random weights (Linear/conv: RAMNN's uniform init; the
    /// relative position tables N(0, 0.02²); LayerNorms at 1 and 0), deterministic for `seed`.
    /// - Throws: `BackboneConfigError` when `config` fails `SwinConfig.validate`.
    public init(config: SwinConfig, seed: UInt64 = 0) throws {
        try config.validate()
        self.config = config
        var seed = seed
        let total = config.depths.reduce(0, +)
        let rates: [Double] = (0..<total).map {
            total > 1 ? config.dropPathRate * Double($0) / Double(total - 1) : 0
        }
        patch_embed = SwinPatchEmbed(inChannels: config.inChannels, embedDim: config.embedDim,
                                     patch: config.patchSize, eps: config.layerNormEps, seed: &seed)
        var layers: [BasicLayer] = []
        var start = 0
        for i in 0..<config.depths.count {
            let depth = config.depths[i]
            layers.append(BasicLayer(
                dim: config.embedDim << i, resolution: config.resolution(stage: i), depth: depth,
                numHeads: config.numHeads[i], window: config.windowSize, mlpRatio: config.mlpRatio,
                qkvBias: config.qkvBias, eps: config.layerNormEps,
                dropPath: Array(rates[start..<start + depth]),
                downsample: i < config.depths.count - 1, seed: &seed))
            start += depth
        }
        self.layers = layers
        norm = makeLayerNorm(config.numFeatures, eps: config.layerNormEps)
        super.init()
    }

    /// - Parameter images: `[B, 3, S, S]` with S = `config.imageSize` → `[B, 1 + L, C]`.
    public func forward(_ images: Tensor) -> Tensor {
        precondition(images.rank == 4 && images.shape[1] == config.inChannels
                     && images.shape[2] == config.imageSize && images.shape[3] == config.imageSize,
                     "SwinTransformer.forward: expected [B, \(config.inChannels), \(config.imageSize), "
                     + "\(config.imageSize)], got \(images.shape) (call checkInput first for user data)")
        var x = patch_embed.forward(images)
        for layer in layers { x = layer.forward(x) }
        x = layerNorm(x, weight: norm.weight.value, bias: norm.bias.value, eps: config.layerNormEps)
        let pooled = mean(x, axes: [1], keepDims: true)             // [B, 1, C]
        return concat([pooled, x], axis: 1)
    }

    /// Checks an input shape before `forward` (which traps on a mismatch).
    /// - Throws: `BackboneConfigError` describing the expected `[B, 3, S, S]`.
    public func checkInput(_ shape: [Int]) throws {
        try checkImageShape(shape, channels: config.inChannels, size: config.imageSize, model: "Swin")
    }
}
