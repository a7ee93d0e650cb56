import Foundation
import RAMBackbones

/// The image encoder's hyper-parameters as RAM's configs give them.
///
/// Swin: the reference's `configs/swin/config_swin{B,L}_{224,384}.json` keys (`embed_dim`,
/// `depths`, `num_heads`, `window_size`, `image_res`, `vision_width`; patch 4, MLP ratio 4).
/// ViT: `create_vit` in ram/models/utils.py (`base`: width 768, depth 12, 12 heads; `large`:
/// 1024, 24, 16; patch 16, MLP ratio 4, LayerNorm eps 1e-6).
public enum VisionSpec: Equatable {
    case swin(embedDim: Int, depths: [Int], heads: [Int], window: Int, imageSize: Int)
    case vit(width: Int, depth: Int, heads: Int, patch: Int, mlpRatio: Double, imageSize: Int)

    /// C, the width of the backbone's output tokens.
    public var outputDim: Int {
        switch self {
        case let .swin(c, depths, _, _, _): return c << max(depths.count - 1, 0)
        case let .vit(w, _, _, _, _, _): return w
        }
    }

    /// The preset for `Arch.vit` at `imageSize` (`swin_b`, `swin_l`, `base`, `large`), or nil.
    public static func preset(vit: String, imageSize: Int) -> VisionSpec? {
        let window = imageSize == 224 ? 7 : 12
        switch vit {
        case "swin_b": return .swin(embedDim: 128, depths: [2, 2, 18, 2], heads: [4, 8, 16, 32], window: window, imageSize: imageSize)
        case "swin_l": return .swin(embedDim: 192, depths: [2, 2, 18, 2], heads: [6, 12, 24, 48], window: window, imageSize: imageSize)
        case "base": return .vit(width: 768, depth: 12, heads: 12, patch: 16, mlpRatio: 4, imageSize: imageSize)
        case "large": return .vit(width: 1024, depth: 24, heads: 16, patch: 16, mlpRatio: 4, imageSize: imageSize)
        default: return nil
        }
    }

    /// Applies a reference-format JSON map (`vision_config`) over the preset for `vit`.
    /// - Throws: `RAMModelError.badConfig`: under `source.key` for a value of the wrong type;
    ///   under `source`, with the key named in the message, for values out of range (each size
    ///   positive and within `ArchitectureLimits`; `mlp_ratio` and `layer_norm_eps` positive and
    ///   finite) or inconsistent values.
    public static func from(vit: String, imageSize: Int, overrides: [String: Any], source: String) throws -> VisionSpec {
        guard var spec = preset(vit: vit, imageSize: imageSize) else {
            throw RAMModelError.badConfig(key: "Arch.vit", message: "unknown backbone '\(vit)'; expected one of swin_b, swin_l, base, large")
        }
        typealias L = ArchitectureLimits
        func bad(_ k: String, _ m: String) -> RAMModelError { RAMModelError.badConfig(key: "\(source).\(k)", message: m) }
        func int(_ k: String) throws -> Int? {
            guard let v = overrides[k] else { return nil }
            if let i = exactWholeNumber(v) { return i }
            throw bad(k, "expected an integer, found \(v)")
        }
        func ints(_ k: String) throws -> [Int]? {
            guard let v = overrides[k] else { return nil }
            if let a = v as? [Int] { return a }
            if let a = v as? [Any] { return try a.map { e in
                if let i = exactWholeNumber(e) { return i }
                throw bad(k, "expected a list of integers, found \(v)")
            } }
            throw bad(k, "expected a list of integers, found \(v)")
        }
        func number(_ k: String) throws -> Double? {
            guard let v = overrides[k] else { return nil }
            if let d = v as? Double { return d }
            if let i = v as? Int { return Double(i) }
            throw bad(k, "expected a number, found \(v)")
        }
        // The limit messages name the key themselves.
        func check(_ k: String, _ v: Int, minimum: Int = 1, maximum: Int) throws {
            if let m = L.rangeProblem(k, v, minimum: minimum, maximum: maximum) {
                throw RAMModelError.badConfig(key: source, message: m)
            }
        }
        if let eps = try number("layer_norm_eps"), let m = L.layerNormEpsProblem(eps) {
            throw RAMModelError.badConfig(key: source, message: m)
        }
        switch spec {
        case var .swin(c, depths, heads, window, size):
            if let v = try int("embed_dim") { c = v }
            if let v = try ints("depths") { depths = v }
            if let v = try ints("num_heads") { heads = v }
            if let v = try int("window_size") { window = v }
            if let v = try int("image_res") { size = v }
            if let r = try number("mlp_ratio"), let m = L.mlpRatioProblem(r) { throw RAMModelError.badConfig(key: source, message: m) }
            try check("embed_dim", c, maximum: L.maxWidth)
            try check("window_size", window, maximum: L.maxImageSize)
            try check("image_res", size, maximum: L.maxImageSize)
            if depths.isEmpty { throw bad("depths", "must be a non-empty list of blocks per stage, found []") }
            if depths.count > L.maxStages { throw bad("depths", "has \(depths.count) stages; at most \(L.maxStages) are accepted") }
            for (i, d) in depths.enumerated() { try check("depths[\(i)]", d, minimum: 0, maximum: L.maxLayers) }
            if heads.count != depths.count {
                throw bad("num_heads", "has \(heads.count) entries (\(heads)) but depths has \(depths.count) (\(depths)); give one head count per stage")
            }
            for (i, h) in heads.enumerated() { try check("num_heads[\(i)]", h, maximum: L.maxHeads) }
            if size != imageSize {
                throw RAMModelError.badConfig(key: "\(source).image_res", message: "\(size) differs from Arch.image_size \(imageSize)")
            }
            spec = .swin(embedDim: c, depths: depths, heads: heads, window: window, imageSize: size)
            if spec.outputDim > L.maxWidth {
                throw bad("embed_dim", "\(c) with \(depths.count) stages gives a last stage \(spec.outputDim) wide; at most \(L.maxWidth) is accepted")
            }
            if let w = try int("vision_width"), w != spec.outputDim {
                throw RAMModelError.badConfig(key: "\(source).vision_width", message: "\(w), but embed_dim \(c) with \(depths.count) stages gives \(spec.outputDim)")
            }
        case var .vit(w, depth, heads, patch, ratio, size):
            if let v = try int("embed_dim") ?? int("vision_width") { w = v }
            if let v = try int("depth") { depth = v }
            if let v = try int("num_heads") { heads = v }
            if let v = try int("patch_size") { patch = v }
            if let v = try number("mlp_ratio") { ratio = v }
            if let v = try int("image_res") ?? int("image_size") { size = v }
            try check("embed_dim", w, maximum: L.maxWidth)
            try check("depth", depth, minimum: 0, maximum: L.maxLayers)
            try check("num_heads", heads, maximum: L.maxHeads)
            try check("patch_size", patch, maximum: L.maxImageSize)
            try check(overrides["image_size"] != nil && overrides["image_res"] == nil ? "image_size" : "image_res", size, maximum: L.maxImageSize)
            if let m = L.mlpRatioProblem(ratio) { throw RAMModelError.badConfig(key: source, message: m) }
            let grid = size / patch
            if grid * grid > L.maxAttentionTokens {
                throw bad("patch_size", "image size \(size) / patch_size \(patch) gives \(grid * grid) patch tokens; at most \(L.maxAttentionTokens) are accepted")
            }
            spec = .vit(width: w, depth: depth, heads: heads, patch: patch, mlpRatio: ratio, imageSize: size)
        }
        return spec
    }

    /// `visual_encoder.*` parameter shapes, in the reference's names (buffers excluded).
    public func parameterShapes(prefix: String = "visual_encoder.") -> [(String, [Int])] {
        var out: [(String, [Int])] = []
        func add(_ n: String, _ s: [Int]) { out.append((prefix + n, s)) }
        func ln(_ n: String, _ d: Int) { add(n + ".weight", [d]); add(n + ".bias", [d]) }
        func lin(_ n: String, _ i: Int, _ o: Int, bias: Bool = true) { add(n + ".weight", [o, i]); if bias { add(n + ".bias", [o]) } }
        switch self {
        case let .swin(c, depths, heads, window, size):
            add("patch_embed.proj.weight", [c, 3, 4, 4]); add("patch_embed.proj.bias", [c])
            ln("patch_embed.norm", c)
            var d = c, res = size / 4
            for (i, (n, h)) in zip(depths, heads).enumerated() {
                let w = min(window, res)
                for j in 0..<n {
                    let b = "layers.\(i).blocks.\(j)."
                    ln(b + "norm1", d)
                    add(b + "attn.relative_position_bias_table", [(2 * w - 1) * (2 * w - 1), h])
                    lin(b + "attn.qkv", d, 3 * d); lin(b + "attn.proj", d, d)
                    ln(b + "norm2", d)
                    lin(b + "mlp.fc1", d, 4 * d); lin(b + "mlp.fc2", 4 * d, d)
                }
                if i < depths.count - 1 {
                    lin("layers.\(i).downsample.reduction", 4 * d, 2 * d, bias: false)
                    ln("layers.\(i).downsample.norm", 4 * d)
                    d *= 2; res /= 2
                }
            }
            ln("norm", d)
        case let .vit(w, depth, _, patch, ratio, size):
            let hidden = Int(Double(w) * ratio)
            add("cls_token", [1, 1, w])
            add("pos_embed", [1, 1 + (size / patch) * (size / patch), w])
            add("patch_embed.proj.weight", [w, 3, patch, patch]); add("patch_embed.proj.bias", [w])
            for j in 0..<depth {
                let b = "blocks.\(j)."
                ln(b + "norm1", w); lin(b + "attn.qkv", w, 3 * w); lin(b + "attn.proj", w, w)
                ln(b + "norm2", w); lin(b + "mlp.fc1", w, hidden); lin(b + "mlp.fc2", hidden, w)
            }
            ln("norm", w)
        }
        return out
    }
}

/// Parameter names and shapes of a whole RAM / RAM++ model, computed from the configs without
/// allocating anything (for parameter counts and for checking a checkpoint before building).
public enum RAMArchSpec {
    static func bertLayer(_ p: String, _ c: BertConfig, selfAttention: Bool) -> [(String, [Int])] {
        var out: [(String, [Int])] = []
        let h = c.hidden_size
        func lin(_ n: String, _ i: Int, _ o: Int) { out.append((p + n + ".weight", [o, i])); out.append((p + n + ".bias", [o])) }
        func ln(_ n: String) { out.append((p + n + ".weight", [h])); out.append((p + n + ".bias", [h])) }
        if selfAttention {
            lin("attention.self.query", h, h); lin("attention.self.key", h, h); lin("attention.self.value", h, h)
            lin("attention.output.dense", h, h); ln("attention.output.LayerNorm")
        }
        if c.add_cross_attention {
            lin("crossattention.self.query", h, h)
            lin("crossattention.self.key", c.encoder_width, h); lin("crossattention.self.value", c.encoder_width, h)
            lin("crossattention.output.dense", h, h); ln("crossattention.output.LayerNorm")
        }
        lin("intermediate.dense", h, c.intermediate_size)
        lin("output.dense", c.intermediate_size, h); ln("output.LayerNorm")
        return out
    }

    static func bertModel(_ p: String, _ c: BertConfig, embeddings: Bool, selfAttention: Bool) -> [(String, [Int])] {
        var out: [(String, [Int])] = []
        if embeddings {
            out.append((p + "embeddings.word_embeddings.weight", [c.vocab_size, c.hidden_size]))
            out.append((p + "embeddings.position_embeddings.weight", [c.max_position_embeddings, c.hidden_size]))
            out.append((p + "embeddings.LayerNorm.weight", [c.hidden_size]))
            out.append((p + "embeddings.LayerNorm.bias", [c.hidden_size]))
        }
        for i in 0..<c.num_hidden_layers {
            out += bertLayer(p + "encoder.layer.\(i).", c, selfAttention: selfAttention)
        }
        return out
    }

    /// Every parameter `(name, shape)` of the model, tied ones under each of their names.
    /// - Parameters: `arch` `ram` or `ram_plus`; `med` needed for `ram`.
    public static func parameterShapes(arch: String, vision: VisionSpec, q2l: BertConfig, med: BertConfig?,
                                       numTags: Int, descriptionsPerTag: Int = 51) -> [(String, [Int])] {
        var q = q2l
        q.encoder_width = 512
        var out = vision.parameterShapes()
        if arch == "ram_plus" {
            out.append(("label_embed", [numTags * descriptionsPerTag, 512]))
            out.append(("reweight_scale", []))
        } else {
            out.append(("label_embed", [numTags, 512]))
            if let med {
                var enc = med
                enc.encoder_width = 512
                out += bertModel("tag_encoder.", enc, embeddings: true, selfAttention: true)
                out += bertModel("text_decoder.bert.", med, embeddings: true, selfAttention: true)
                let h = med.hidden_size
                out.append(("text_decoder.cls.predictions.bias", [med.vocab_size]))
                out.append(("text_decoder.cls.predictions.transform.dense.weight", [h, h]))
                out.append(("text_decoder.cls.predictions.transform.dense.bias", [h]))
                out.append(("text_decoder.cls.predictions.transform.LayerNorm.weight", [h]))
                out.append(("text_decoder.cls.predictions.transform.LayerNorm.bias", [h]))
                out.append(("text_decoder.cls.predictions.decoder.weight", [med.vocab_size, h]))
                out.append(("text_decoder.cls.predictions.decoder.bias", [med.vocab_size]))
            }
        }
        out += bertModel("tagging_head.", q, embeddings: false, selfAttention: false)
        out.append(("wordvec_proj.weight", [q.hidden_size, 512])); out.append(("wordvec_proj.bias", [q.hidden_size]))
        out.append(("fc.weight", [1, q.hidden_size])); out.append(("fc.bias", [1]))
        out.append(("image_proj.weight", [512, vision.outputDim])); out.append(("image_proj.bias", [512]))
        return out
    }

    /// Groups of names that are one parameter (RAM's tied tagging head / tag encoder layers and
    /// the text decoder's LM head ties). Empty for RAM++.
    public static func tiedGroups(arch: String, q2lLayers: Int, names: [String]) -> [[String]] {
        guard arch == "ram" else { return [] }
        var groups: [[String]] = []
        let set = Set(names)
        for n in names where n.hasPrefix("tagging_head.encoder.layer.") {
            let twin = "tag_encoder." + n.dropFirst("tagging_head.".count)
            if set.contains(twin) { groups.append([n, twin]) }
        }
        if set.contains("text_decoder.cls.predictions.decoder.weight") {
            groups.append(["text_decoder.bert.embeddings.word_embeddings.weight", "text_decoder.cls.predictions.decoder.weight"])
            groups.append(["text_decoder.cls.predictions.bias", "text_decoder.cls.predictions.decoder.bias"])
        }
        return groups
    }

    /// The number of distinct parameters (each tied group counted once), as PyTorch's
    /// `sum(p.numel() for p in model.parameters())` counts them.
    public static func uniqueParameterCount(arch: String, vision: VisionSpec, q2l: BertConfig, med: BertConfig?, numTags: Int) -> Int {
        let shapes = parameterShapes(arch: arch, vision: vision, q2l: q2l, med: med, numTags: numTags)
        let groups = tiedGroups(arch: arch, q2lLayers: q2l.num_hidden_layers, names: shapes.map(\.0))
        var skip = Set<String>()
        for g in groups { for n in g.dropFirst() { skip.insert(n) } }
        return shapes.reduce(0) { acc, e in skip.contains(e.0) ? acc : acc + e.1.reduce(1, *) }
    }
}
