import Foundation
import RAMCore
import RAMNN
import RAMTensor

// BERT with cross-attention, as the reference's ram/models/bert.py (BLIP's "med" BERT) builds it.
// Property names are the reference's module names, so `namedParameters()` gives the checkpoint
// keys (`encoder.layer.0.crossattention.self.query.weight`, ...). Dropout is a no-op at
// inference and is not modelled.

// Layer factories: the one place that knows RAMNN's initialisers. Each layer gets its own seed
// (deterministic across runs), so randomly initialised layers differ from one another.
nonisolated(unsafe) private var layerSeed: UInt64 = 0x5241_4D00
private func nextSeed() -> UInt64 { layerSeed &+= 0x9E37_79B9_7F4A_7C15; return layerSeed }
func makeLinear(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) -> Linear {
    Linear(inFeatures, outFeatures, bias: bias, seed: nextSeed())
}
func makeLayerNorm(_ dim: Int, eps: Float) -> LayerNorm {
    RAMNN.LayerNorm(dim, eps: eps)
}
func makeEmbedding(_ count: Int, _ dim: Int) -> Embedding {
    Embedding(count, dim, seed: nextSeed())
}

/// Multi-head attention projections (`BertSelfAttention`): `query` from the hidden states,
/// `key`/`value` from the hidden states (self-attention) or the image tokens (cross-attention).
public final class BertSelfAttention: Module {
    public let query: Linear
    public let key: Linear
    public let value: Linear
    public let numHeads: Int

    /// - Parameters: hidden `H`, `kvWidth` = `H` (self) or `encoder_width` (cross), `heads`.
    public init(hidden: Int, kvWidth: Int, heads: Int) {
        query = makeLinear(hidden, hidden)
        key = makeLinear(kvWidth, hidden)
        value = makeLinear(kvWidth, hidden)
        numHeads = heads
        super.init()
    }

    /// Over existing projections (weight tying keeps each module's own head count).
    public init(query: Linear, key: Linear, value: Linear, heads: Int) {
        self.query = query
        self.key = key
        self.value = value
        numHeads = heads
        super.init()
    }

    /// `softmax(q·kᵀ/√d)·v` per head, no mask (the reference's masks are all ones at inference).
    /// - Parameters:
    ///   - hidden: `[B, Nq, H]`
    ///   - context: `[B, Nk, W]` (W = H for self-attention, `encoder_width` for cross-attention)
    /// - Returns: `[B, Nq, H]` (heads merged, before the output projection)
    public func callAsFunction(_ hidden: Tensor, context: Tensor) -> Tensor {
        let b = hidden.shape[0], nq = hidden.shape[1], h = query.outFeatures
        let nk = context.shape[1], d = h / numHeads
        let q = query(hidden).reshaped([b, nq, numHeads, d]).permuted([0, 2, 1, 3])
        let k = key(context).reshaped([b, nk, numHeads, d]).permuted([0, 2, 1, 3])
        let v = value(context).reshaped([b, nk, numHeads, d]).permuted([0, 2, 1, 3])
        let o = attention(q: q, k: k, v: v, scale: 1 / Float(d).squareRoot())
        return o.permuted([0, 2, 1, 3]).reshaped([b, nq, h])
    }
}

/// `dense` then `LayerNorm(x + residual)` (`BertSelfOutput` and `BertOutput`).
public final class BertResidualOutput: Module {
    public let dense: Linear
    public let LayerNorm: RAMNN.LayerNorm

    /// LayerNorm epsilon of this module (`layer_norm_eps` of its own config).
    public let eps: Float

    public init(inFeatures: Int, hidden: Int, eps: Float) {
        dense = makeLinear(inFeatures, hidden)
        LayerNorm = makeLayerNorm(hidden, eps: eps)
        self.eps = eps
        super.init()
    }

    /// Over existing layers (weight tying).
    public init(dense: Linear, LayerNorm: RAMNN.LayerNorm, eps: Float) {
        self.dense = dense
        self.LayerNorm = LayerNorm
        self.eps = eps
        super.init()
    }

    /// - Parameters: `x` `[B, N, in]`, `residual` `[B, N, H]` → `[B, N, H]`.
    public func callAsFunction(_ x: Tensor, residual: Tensor) -> Tensor {
        layerNorm(dense(x, adding: residual),
                  weight: LayerNorm.weight.value, bias: LayerNorm.bias.value, eps: eps)
    }
}

/// `BertAttention`: projections (`self`) + output (`output`).
public final class BertAttention: Module {
    public let `self`: BertSelfAttention
    public let output: BertResidualOutput

    public init(config: BertConfig, kvWidth: Int) {
        self.`self` = BertSelfAttention(hidden: config.hidden_size, kvWidth: kvWidth, heads: config.num_attention_heads)
        output = BertResidualOutput(inFeatures: config.hidden_size, hidden: config.hidden_size, eps: config.layer_norm_eps)
        super.init()
    }

    /// Sharing `other`'s weights, with this config's head count and epsilon (the reference's
    /// `tie_encoder_decoder_weights` ties weights, not modules).
    public init(tiedTo other: BertAttention, config: BertConfig) {
        let s = other.`self`
        self.`self` = BertSelfAttention(query: s.query, key: s.key, value: s.value, heads: config.num_attention_heads)
        output = BertResidualOutput(dense: other.output.dense, LayerNorm: other.output.LayerNorm, eps: config.layer_norm_eps)
        super.init()
    }

    /// - Parameters: `hidden` `[B, Nq, H]`, `context` `[B, Nk, W]` → `[B, Nq, H]`.
    public func callAsFunction(_ hidden: Tensor, context: Tensor) -> Tensor {
        output(self.`self`(hidden, context: context), residual: hidden)
    }
}

/// `BertIntermediate`: `gelu(dense(x))` (exact GELU).
public final class BertIntermediate: Module {
    public let dense: Linear
    public init(hidden: Int, intermediate: Int) {
        dense = makeLinear(hidden, intermediate)
        super.init()
    }
    /// Over an existing layer (weight tying).
    public init(dense: Linear) {
        self.dense = dense
        super.init()
    }
    /// `[B, N, H]` → `[B, N, I]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        dense.gelu(x)
    }
}

/// One BERT layer. `attention` (self-attention) is absent in the tagging head (the reference's
/// `del_selfattention` deletes it); `crossattention` is present when `add_cross_attention`.
public final class BertLayer: Module {
    public var attention: BertAttention?
    public var crossattention: BertAttention?
    public var intermediate: BertIntermediate
    public var output: BertResidualOutput

    public init(config: BertConfig, selfAttention: Bool) {
        attention = selfAttention ? BertAttention(config: config, kvWidth: config.hidden_size) : nil
        crossattention = config.add_cross_attention ? BertAttention(config: config, kvWidth: config.encoder_width) : nil
        intermediate = BertIntermediate(hidden: config.hidden_size, intermediate: config.intermediate_size)
        output = BertResidualOutput(inFeatures: config.intermediate_size, hidden: config.hidden_size, eps: config.layer_norm_eps)
        super.init()
    }

    /// The reference's `mode='tagging'` forward: cross-attention to `image` then the FFN
    /// (bert.py `BertLayer.forward`, the `tagging` branch); self-attention is skipped.
    /// - Parameters: `hidden` `[B, N, H]`, `image` `[B, L, encoder_width]` → `[B, N, H]`.
    public func tagging(_ hidden: Tensor, image: Tensor) -> Tensor {
        guard let cross = crossattention else { return feedForward(hidden) }
        return feedForward(cross(hidden, context: image))
    }

    /// `output(intermediate(x), residual: x)`.
    public func feedForward(_ x: Tensor) -> Tensor {
        output(intermediate(x), residual: x)
    }
}

/// `BertEncoder`: `layer.0 ... layer.{n-1}`.
public final class BertEncoder: Module {
    public var layer: [BertLayer]
    public init(config: BertConfig, selfAttention: Bool) {
        layer = (0..<config.num_hidden_layers).map { _ in BertLayer(config: config, selfAttention: selfAttention) }
        super.init()
    }
}

/// `BertEmbeddings` of the reference's BERT: word + learned absolute position embeddings, then
/// LayerNorm (no token-type embeddings). The `position_ids` buffer of the checkpoint is an
/// `arange` and is not stored (the loader drops it).
public final class BertEmbeddings: Module {
    public let word_embeddings: Embedding
    public let position_embeddings: Embedding
    public let LayerNorm: RAMNN.LayerNorm
    public init(config: BertConfig) {
        word_embeddings = makeEmbedding(config.vocab_size, config.hidden_size)
        position_embeddings = makeEmbedding(config.max_position_embeddings, config.hidden_size)
        LayerNorm = makeLayerNorm(config.hidden_size, eps: config.layer_norm_eps)
        super.init()
    }
}

/// `BertModel` without pooler. The tagging head has no `embeddings` (deleted by the reference's
/// `del_selfattention`).
public final class BertModel: Module {
    public var embeddings: BertEmbeddings?
    public var encoder: BertEncoder
    public let config: BertConfig

    /// - Parameters:
    ///   - withEmbeddings: false for the tagging head.
    ///   - selfAttention: false for the tagging head.
    public init(config: BertConfig, withEmbeddings: Bool, selfAttention: Bool) {
        self.config = config
        embeddings = withEmbeddings ? BertEmbeddings(config: config) : nil
        encoder = BertEncoder(config: config, selfAttention: selfAttention)
        super.init()
    }

    /// The Query2Label tagging forward (`mode='tagging'`, `encoder_embeds` given): every layer's
    /// cross-attention + FFN. No final LayerNorm, no pooling.
    /// - Parameters:
    ///   - queries: `[B, N, H]` label queries.
    ///   - image: `[B, L, encoder_width]` image tokens (all of them, CLS included).
    /// - Returns: `[B, N, H]`.
    public func tagging(queries: Tensor, image: Tensor) -> Tensor {
        var h = queries
        for l in encoder.layer { h = l.tagging(h, image: image) }
        return h
    }
}

/// `BertPredictionHeadTransform`: dense, GELU, LayerNorm.
public final class BertPredictionHeadTransform: Module {
    public let dense: Linear
    public let LayerNorm: RAMNN.LayerNorm
    public init(config: BertConfig) {
        dense = makeLinear(config.hidden_size, config.hidden_size)
        LayerNorm = makeLayerNorm(config.hidden_size, eps: config.layer_norm_eps)
        super.init()
    }
}

/// `BertLMPredictionHead`: `decoder` (weight tied to the word embeddings) and `bias` (tied to
/// `decoder.bias`), as Hugging Face ties them.
public final class BertLMPredictionHead: Module {
    public let transform: BertPredictionHeadTransform
    public let decoder: TiedLinear
    public let bias: Parameter
    public init(config: BertConfig, wordEmbeddings: Embedding) {
        transform = BertPredictionHeadTransform(config: config)
        bias = Parameter(Tensor(zeros: [config.vocab_size]))
        decoder = TiedLinear(weight: wordEmbeddings.weight, bias: bias)
        super.init()
    }
}

/// A linear layer over parameters owned elsewhere (the LM head's decoder shares the word
/// embeddings' `[vocab, H]` weight and the head's `bias`).
public final class TiedLinear: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public init(weight: Parameter, bias: Parameter?) {
        self.weight = weight
        self.bias = bias
        super.init()
    }
    /// `[..., in]` → `[..., out]`.
    public func callAsFunction(_ x: Tensor) -> Tensor { linear(x, weight: weight.value, bias: bias?.value) }
}

/// `BertOnlyMLMHead`.
public final class BertOnlyMLMHead: Module {
    public let predictions: BertLMPredictionHead
    public init(config: BertConfig, wordEmbeddings: Embedding) {
        predictions = BertLMPredictionHead(config: config, wordEmbeddings: wordEmbeddings)
        super.init()
    }
}

/// `BertLMHeadModel`: RAM's text decoder (`bert` + `cls`). Its forward (captioning) comes with
/// training.
public final class BertLMHeadModel: Module {
    public let bert: BertModel
    public let cls: BertOnlyMLMHead
    public init(config: BertConfig) {
        bert = BertModel(config: config, withEmbeddings: true, selfAttention: true)
        // BertModel(withEmbeddings: true) always has embeddings.
        let emb = bert.embeddings ?? BertEmbeddings(config: config)
        cls = BertOnlyMLMHead(config: config, wordEmbeddings: emb.word_embeddings)
        super.init()
    }

    /// - Throws: always, "not implemented yet" (the captioning forward comes with training).
    public func forward(inputIds: [[Int]], encoderHiddenStates: Tensor) throws -> Tensor {
        throw RAMModelError.notImplemented("RAM text_decoder forward (image-tag-text generation; comes with training)")
    }
}
