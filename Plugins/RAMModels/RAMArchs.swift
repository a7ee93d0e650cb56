import Foundation
import RAMCore
import RAMNN
import RAMTensor

/// RAM++ (`ram_plus`): "Open-Set Image Tagging with Multi-Grained Text Supervision"
/// (ram/models/ram_plus.py, `RAM_plus.generate_tag`).
///
/// Forward, for `B` images of `S×S` pixels, `N` tags with `D = 51` descriptions each:
/// 1. `image_embeds = image_proj(visual_encoder(images))`: `[B, 1+L, 512]` (token 0 is the
///    backbone's pooled / class token).
/// 2. `cls = normalize(image_embeds[:, 0])` `[B, 512]`; per image the description weights
///    `w = softmax_d(exp(reweight_scale) · cls · label_embedᵀ)` `[B, N, D]` and the tag query
///    `q[b, n] = Σ_d w[b, n, d] · label_embed[n·D + d]` `[B, N, 512]`.
/// 3. `queries = relu(wordvec_proj(q))` `[B, N, H]`; `tagging_head` cross-attends to all of
///    `image_embeds` (CLS included, mask all ones); `logits = fc(·)` `[B, N]`.
public final class RAMPlus: Module, TaggingModel {
    public let visual_encoder: any Backbone
    public let image_proj: Linear
    /// `[N·D, 512]` description embeddings (CLIP text features), class-major.
    public let label_embed: Parameter
    /// Scalar logit scale (`log(1/0.07)` at initialisation).
    public let reweight_scale: Parameter
    public let wordvec_proj: Linear
    public let tagging_head: BertModel
    public let fc: Linear

    public let imageSize: Int
    public let numTags: Int
    /// Descriptions per tag (51 in the official model).
    public let descriptionsPerTag: Int

    /// - Parameters:
    ///   - visualEncoder: the backbone (`[B, 3, S, S]` → `[B, 1+L, C]`).
    ///   - q2l: the tagging head's config; `encoder_width` is forced to 512 as the reference does.
    ///   - numTags: `N`, the tag count (from the tag list).
    ///   - descriptionsPerTag: `D` (51).
    public init(visualEncoder: any Backbone, imageSize: Int, q2l: BertConfig, numTags: Int, descriptionsPerTag: Int = 51) {
        var q = q2l
        q.encoder_width = 512
        visual_encoder = visualEncoder
        image_proj = makeLinear(visualEncoder.outputDim, 512)
        label_embed = Parameter(Tensor(zeros: [numTags * descriptionsPerTag, 512]))
        reweight_scale = Parameter(Tensor(shape: [], scalars: [Float(log(1 / 0.07))]))
        wordvec_proj = makeLinear(512, q.hidden_size)
        tagging_head = BertModel(config: q, withEmbeddings: false, selfAttention: false)
        fc = makeLinear(q.hidden_size, 1)
        self.imageSize = imageSize
        self.numTags = numTags
        self.descriptionsPerTag = descriptionsPerTag
        super.init()
    }

    /// The tag queries from the image's CLS embedding (step 2–3 above, before the head).
    /// - Parameter cls: `[B, 512]` (not yet normalised). - Returns: `[B, N, H]`.
    public func labelQueries(cls: Tensor) -> Tensor {
        let unit = l2Normalize(cls, axis: 1)                                    // [B, 512]
        let scale = exp(reweight_scale.value).scalars[0]
        // softmax over each tag's D descriptions of scale · unit · label_embedᵀ, then the
        // weighted sum of the descriptions: [B, N, 512], one pass over label_embed at inference.
        let reweighted = groupedSoftmaxSum(query: unit, table: label_embed.value,
                                           groupSize: descriptionsPerTag, scale: scale)
        return relu(wordvec_proj(reweighted))
    }

    /// - Parameter images: `[B, 3, S, S]` normalised pixels.
    /// - Returns: logits `[B, N]`, `imageEmbeds` `[B, 1+L, 512]`, `visual` `[B, 1+L, C]`.
    /// In eval mode (`training == false`) no autograd tape is recorded.
    public func forward(_ images: Tensor) -> TaggingOutput {
        if !training { return withNoGrad { forward(visual: visual_encoder.forward(images)) } }
        return forward(visual: visual_encoder.forward(images))
    }

    /// The part after the backbone. - Parameter visual: `[B, 1+L, C]` backbone tokens.
    public func forward(visual: Tensor) -> TaggingOutput {
        let imageEmbeds = image_proj(visual)
        let cls = imageEmbeds.slice(axis: 1, 0..<1).squeezed(axis: 1)
        let queries = labelQueries(cls: cls)
        let tagged = tagging_head.tagging(queries: queries, image: imageEmbeds)
        let logits = fc(tagged).squeezed(axis: 2)
        return TaggingOutput(logits: logits, imageEmbeds: imageEmbeds, visual: visual)
    }
}

/// RAM (`ram`): "Recognize Anything: A Strong Image Tagging Model" (ram/models/ram.py).
///
/// Tagging forward: `image_embeds = image_proj(visual_encoder(images))` `[B, 1+L, 512]`;
/// queries `relu(wordvec_proj(label_embed))` `[N, H]`, the same for every image; the tagging
/// head cross-attends to all of `image_embeds`; `logits = fc(·)` `[B, N]`.
///
/// RAM also carries the image-tag interaction encoder (`tag_encoder`, BERT with cross-attention
/// to the image) and the image-tag-text decoder (`text_decoder`, BERT LM head) so that the
/// official checkpoint loads with nothing unexpected. As the reference's
/// `tie_encoder_decoder_weights`, the tagging head's layers share their modules with the
/// tag encoder's lowest layers (one set of weights, two names).
public final class RAM: Module, TaggingModel {
    public let visual_encoder: any Backbone
    public let tag_encoder: BertModel
    public let text_decoder: BertLMHeadModel
    /// `[N, 512]` tag embeddings.
    public let label_embed: Parameter
    public let wordvec_proj: Linear
    public let tagging_head: BertModel
    public let fc: Linear
    public let image_proj: Linear

    public let imageSize: Int
    public let numTags: Int

    /// - Parameters:
    ///   - med: the tag encoder / text decoder config (`med_config`); the tag encoder's
    ///     `encoder_width` is forced to 512, the decoder keeps the file's value (it attends to
    ///     the tag encoder's output).
    ///   - q2l: the tagging head's config; `encoder_width` forced to 512.
    /// - Throws: `RAMModelError.badConfig` when the tagging head cannot share the tag encoder's
    ///   layers (more head layers than encoder layers, or different widths).
    public init(visualEncoder: any Backbone, imageSize: Int, q2l: BertConfig, med: BertConfig, numTags: Int) throws {
        var q = q2l
        q.encoder_width = 512
        var enc = med
        enc.encoder_width = 512
        guard q.num_hidden_layers <= enc.num_hidden_layers, q.hidden_size == enc.hidden_size,
              q.intermediate_size == enc.intermediate_size, q.add_cross_attention, enc.add_cross_attention else {
            throw RAMModelError.badConfig(key: "Arch.q2l_config",
                                          message: "the tagging head (\(q.num_hidden_layers) layers, hidden \(q.hidden_size), intermediate \(q.intermediate_size)) must share its layers with the tag encoder of med_config (\(enc.num_hidden_layers) layers, hidden \(enc.hidden_size), intermediate \(enc.intermediate_size)), both with cross-attention, as the reference ties them")
        }
        visual_encoder = visualEncoder
        tag_encoder = BertModel(config: enc, withEmbeddings: true, selfAttention: true)
        text_decoder = BertLMHeadModel(config: med)
        label_embed = Parameter(Tensor(zeros: [numTags, 512]))
        wordvec_proj = makeLinear(512, q.hidden_size)
        tagging_head = BertModel(config: q, withEmbeddings: false, selfAttention: false)
        fc = makeLinear(q.hidden_size, 1)
        image_proj = makeLinear(visualEncoder.outputDim, 512)
        self.imageSize = imageSize
        self.numTags = numTags
        super.init()
        // tie_encoder_decoder_weights(tag_encoder, tagging_head): the head's layer i shares
        // crossattention / intermediate / output with the encoder's layer i.
        // Weights are shared; each side keeps its own head count and epsilon.
        for (i, l) in tagging_head.encoder.layer.enumerated() {
            let src = tag_encoder.encoder.layer[i]
            if let cross = src.crossattention { l.crossattention = BertAttention(tiedTo: cross, config: q) }
            l.intermediate = BertIntermediate(dense: src.intermediate.dense)
            l.output = BertResidualOutput(dense: src.output.dense, LayerNorm: src.output.LayerNorm, eps: q.layer_norm_eps)
        }
    }

    /// Names of the tied pairs `(tagging_head key, tag_encoder key)` prefixes.
    var tiedPrefixes: [(String, String)] {
        (0..<tagging_head.encoder.layer.count).map {
            ("tagging_head.encoder.layer.\($0).", "tag_encoder.encoder.layer.\($0).")
        }
    }

    /// - Parameter images: `[B, 3, S, S]` normalised pixels.
    /// - Returns: logits `[B, N]`, `imageEmbeds` `[B, 1+L, 512]`, `visual` `[B, 1+L, C]`.
    /// In eval mode (`training == false`) no autograd tape is recorded.
    public func forward(_ images: Tensor) -> TaggingOutput {
        if !training { return withNoGrad { forward(visual: visual_encoder.forward(images)) } }
        return forward(visual: visual_encoder.forward(images))
    }

    /// The part after the backbone. - Parameter visual: `[B, 1+L, C]` backbone tokens.
    public func forward(visual: Tensor) -> TaggingOutput {
        let imageEmbeds = image_proj(visual)
        let b = imageEmbeds.shape[0]
        let q = relu(wordvec_proj(label_embed.value)).unsqueezed(axis: 0)   // [1, N, H]
        let queries = b == 1 ? q : concat(Array(repeating: q, count: b), axis: 0)
        let tagged = tagging_head.tagging(queries: queries, image: imageEmbeds)
        let logits = fc(tagged).squeezed(axis: 2)
        return TaggingOutput(logits: logits, imageEmbeds: imageEmbeds, visual: visual)
    }

    /// - Throws: always, "not implemented yet" (image-tag-text generation comes with training).
    public func generateCaption(_ images: Tensor) throws -> [String] {
        throw RAMModelError.notImplemented("RAM captioning (tag_encoder + text_decoder forward; comes with training)")
    }
}
