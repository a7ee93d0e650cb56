import RAMCore
import RAMNN
import RAMTensor

// ViT image encoder as RAM / RAM++ use it (`vit: base | large`).
// Source: recognize-anything `ram/models/vit.py` (BLIP's, after timm; Dosovitskiy et al.,
// "An Image is Worth 16x16 Words", arXiv:2010.11929, §3.1). Property names are the reference's.

/// Multi-head self-attention over all tokens: `proj(softmax(QKᵀ/√d)V)`.
public final class Attention: Module {
    public let qkv: Linear
    public let proj: Linear
    public let dim: Int
    public let numHeads: Int

    public init(dim: Int, numHeads: Int, qkvBias: Bool, seed: inout UInt64) {
        self.dim = dim
        self.numHeads = numHeads
        qkv = makeLinear(dim, 3 * dim, bias: qkvBias, seed: &seed)
        proj = makeLinear(dim, dim, bias: true, seed: &seed)
        super.init()
    }

    /// - Parameter x: `[B, N, C]` → `[B, N, C]`.
    public func forward(_ x: Tensor) -> Tensor { forward(x, adding: nil) }

    /// `residual + forward(x)` with the residual accumulated in the output projection's GEMM.
    /// - Parameters: `x` `[B, N, C]`, `residual` `[B, N, C]` or nil → `[B, N, C]`.
    public func forward(_ x: Tensor, adding residual: Tensor?) -> Tensor {
        let b = x.shape[0], n = x.shape[1]
        let headDim = dim / numHeads
        let packed = qkv(x)
            .reshaped([b, n, 3, numHeads, headDim])
            .permuted([2, 0, 3, 1, 4])                                  // [3, B, H, N, D]
        let q = packed.slice(axis: 0, 0..<1).squeezed(axis: 0)
        let k = packed.slice(axis: 0, 1..<2).squeezed(axis: 0)
        let v = packed.slice(axis: 0, 2..<3).squeezed(axis: 0)
        let out = attention(q: q, k: k, v: v, scale: 1 / Float(headDim).squareRoot())
        let merged = out.transposed(1, 2).reshaped([b, n, dim])
        guard let r = residual else { return proj(merged) }
        return proj(merged, adding: r)
    }
}

/// A pre-norm transformer block: `x + attn(norm1(x))`, then `x + mlp(norm2(x))`.
public final class Block: Module {
    public let norm1: LayerNorm
    public let attn: Attention
    public let norm2: LayerNorm
    public let mlp: Mlp
    let eps: Float
    let dropPathRate: Float
    var dropSeed: UInt64

    public init(dim: Int, numHeads: Int, mlpRatio: Double, qkvBias: Bool, eps: Float, dropPath: Double,
                seed: inout UInt64) {
        self.eps = eps
        dropPathRate = Float(dropPath)
        norm1 = makeLayerNorm(dim, eps: eps)
        attn = Attention(dim: dim, numHeads: numHeads, qkvBias: qkvBias, seed: &seed)
        norm2 = makeLayerNorm(dim, eps: eps)
        mlp = Mlp(inFeatures: dim, hiddenFeatures: Int(Double(dim) * mlpRatio), seed: &seed)
        dropSeed = nextSeed(&seed)
        super.init()
    }

    public func forward(_ x: Tensor) -> Tensor {
        if !(training && dropPathRate > 0) {
            // Residuals accumulated in the proj / fc2 GEMMs (no separate adds).
            let y = attn.forward(layerNorm(x, weight: norm1.weight.value, bias: norm1.bias.value, eps: eps), adding: x)
            return mlp.forward(layerNorm(y, weight: norm2.weight.value, bias: norm2.bias.value, eps: eps), adding: y)
        }
        let a = attn.forward(layerNorm(x, weight: norm1.weight.value, bias: norm1.bias.value, eps: eps))
        let y = x + droppedPath(a)
        let m = mlp.forward(layerNorm(y, weight: norm2.weight.value, bias: norm2.bias.value, eps: eps))
        return y + droppedPath(m)
    }

    private func droppedPath(_ t: Tensor) -> Tensor {
        guard training, dropPathRate > 0 else { return t }
        dropSeed &+= 0x9E37_79B9_7F4A_7C15
        return dropPath(t, p: dropPathRate, training: true, seed: dropSeed)
    }
}

/// ViT patch embedding: a p×p stride-p convolution (no norm).
public final class ViTPatchEmbed: Module {
    public let proj: Conv2dPatch
    public let patch: Int

    public init(inChannels: Int, embedDim: Int, patch: Int, seed: inout UInt64) {
        self.patch = patch
        proj = makeConv2dPatch(inChannels, embedDim, patch: patch, seed: &seed)
        super.init()
    }

    /// `[B, 3, S, S]` → `[B, (S/p)², C]`.
    public func forward(_ x: Tensor) -> Tensor { patchTokens(x, proj: proj, patch: patch) }
}

/// The ViT image encoder of RAM / RAM++ (`visual_encoder` when `vit` is `base` or `large`).
///
/// Input `[B, 3, S, S]`; output `[B, 1 + L, C]` = all tokens (class token first) after the final
/// LayerNorm (eps 1e-6), L = (S/16)². Source: `VisionTransformer.forward` in `ram/models/vit.py`.
public final class VisionTransformer: Module, Backbone {
    public let patch_embed: ViTPatchEmbed
    /// `[1, 1, C]`.
    public let cls_token: Parameter
    /// `[1, 1 + L, C]`.
    public let pos_embed: Parameter
    public let blocks: [Block]
    public let norm: LayerNorm

    public let config: ViTConfig
    public var outputDim: Int { config.embedDim }

    /// Builds the architecture with random weights (Linear/conv: RAMNN's uniform init; `cls_token`,
    /// `pos_embed` N(0, 0.02²)), deterministic for `seed`.
    /// - Throws: `BackboneConfigError` when `config` fails `ViTConfig.validate`.
    public init(config: ViTConfig, seed: UInt64 = 0) throws {
        try config.validate()
        self.config = config
        var seed = seed
        let c = config.embedDim
        patch_embed = ViTPatchEmbed(inChannels: config.inChannels, embedDim: c, patch: config.patchSize,
                                    seed: &seed)
        cls_token = Parameter(Tensor.randn([1, 1, c], std: 0.02, seed: nextSeed(&seed)))
        pos_embed = Parameter(Tensor.randn([1, 1 + config.numPatches, c], std: 0.02, seed: nextSeed(&seed)))
        var blocks: [Block] = []
        for i in 0..<config.depth {
            let rate = config.depth > 1 ? config.dropPathRate * Double(i) / Double(config.depth - 1) : 0
            blocks.append(Block(dim: c, numHeads: config.numHeads, mlpRatio: config.mlpRatio,
                                qkvBias: config.qkvBias, eps: config.layerNormEps, dropPath: rate, seed: &seed))
        }
        self.blocks = blocks
        norm = makeLayerNorm(c, eps: config.layerNormEps)
        super.init()
    }

    /// - Parameter images: `[B, 3, S, S]` with S = `config.imageSize` → `[B, 1 + L, C]`.
    public func forward(_ images: Tensor) -> Tensor {
        precondition(images.rank == 4 && images.shape[1] == config.inChannels
                     && images.shape[2] == config.imageSize && images.shape[3] == config.imageSize,
                     "VisionTransformer.forward: expected [B, \(config.inChannels), \(config.imageSize), "
                     + "\(config.imageSize)], got \(images.shape) (call checkInput first for user data)")
        let b = images.shape[0]
        let patches = patch_embed.forward(images)                           // [B, L, C]
        let cls = concat(Array(repeating: cls_token.value, count: b), axis: 0)  // [B, 1, C]
        var x = concat([cls, patches], axis: 1) + pos_embed.value
        for block in blocks { x = block.forward(x) }
        return layerNorm(x, weight: norm.weight.value, bias: norm.bias.value, eps: config.layerNormEps)
    }

    /// - Throws: `BackboneConfigError` describing the expected `[B, 3, S, S]`.
    public func checkInput(_ shape: [Int]) throws {
        try checkImageShape(shape, channels: config.inChannels, size: config.imageSize, model: "ViT")
    }
}
