import Foundation
import RAMCore
import RAMPostProcess
import RAMBackbones

/// `Arch` options of `ram` / `ram_plus`, by PaddleClas's names (ppcls/configs/ram/RAM*.yaml).
///
/// `vision_config` (inline map or a path to a JSON in the reference's format) is read
/// separately (it is a free-form map). Training-only PaddleClas keys are accepted and unused at
/// inference: `prompt`, `clip_pretraind`, `clip_version`, `stage`, `vit_grad_ckpt`,
/// `vit_ckpt_layer`, `pretrained`.
public struct RAMArchOptions: Codable, ConfigDefaults {
    /// Backbone: `swin_b`, `swin_l` (Swin, patch 4) or `base`, `large` (ViT/16). Required.
    public var vit: String? = nil
    /// S, the square input size (224 or 384 for Swin presets).
    public var image_size: Int = 384
    /// The tagging head's BERT config (JSON or YAML); default: the shipped `q2l_config.json`.
    public var q2l_config: String? = nil
    /// RAM's tag encoder / text decoder config; default: the shipped `med_config.json`.
    public var med_config: String? = nil
    /// English tags (defines N); default: the shipped 4,585-tag list.
    public var tag_list: String? = nil
    /// Chinese tags (read by the post-processor; checked here for length when given).
    public var tag_list_chinese: String? = nil
    /// Per-class thresholds file (used by `RamOutPut`; checked here when given).
    public var ram_class_threshold_path: String? = nil
    /// The reference's base threshold (0.68).
    public var threshold: Double = 0.68
    /// Tags never output (used by `RamOutPut`).
    public var delete_tag_index: [Int] = []
    /// N; inferred from `tag_list`, must agree when given.
    public var num_class: Int? = nil
    // PaddleClas training keys, accepted and unused at inference.
    public var prompt: String? = nil
    public var clip_pretraind: String? = nil
    public var clip_version: String? = nil
    public var stage: String? = nil
    public var vit_grad_ckpt: Bool? = nil
    public var vit_ckpt_layer: Int? = nil
    public var pretrained: String? = nil

    public init() {}
}

/// Everything needed to build `ram` / `ram_plus`, resolved from the `Arch` section.
public struct RAMArchPlan {
    public var arch: String
    public var vit: String
    public var imageSize: Int
    public var vision: VisionSpec
    public var q2l: BertConfig
    public var med: BertConfig?
    public var tagList: [String]
    public var options: RAMArchOptions
    /// Where each architecture file came from (for messages).
    public var sources: [String: String]

    /// N.
    public var numTags: Int { tagList.count }

    /// Parameter names and shapes of the planned model (nothing allocated).
    public var parameterShapes: [(String, [Int])] {
        RAMArchSpec.parameterShapes(arch: arch, vision: vision, q2l: q2l, med: med, numTags: numTags)
    }

    /// Resolves the `Arch` section of `arch` (`ram` or `ram_plus`).
    /// - Throws: `ConfigError` (unknown keys with did-you-mean, missing files),
    ///   `RAMModelError.badConfig` (bad values, sizes beyond `ArchitectureLimits`, a model of
    ///   more than `ArchitectureLimits.maxParameters` parameters, `num_class` disagreeing with
    ///   the tag list),
    ///   `RAMModelError.badFile` (unparsable architecture files).
    public init(arch: String, config: ComponentConfig) throws {
        let node = config.node.isNull ? ConfigNode.map([]) : config.node
        let visionNode = node["vision_config"]
        let o = try ConfigDecoding.decode(RAMArchOptions.self, from: node.removing(key: "vision_config"), path: config.path)
        guard let vit = o.vit, !vit.isEmpty else {
            throw ConfigError.missingKey(path: config.path, key: "vit")
        }
        if let m = ArchitectureLimits.rangeProblem("image_size", o.image_size, maximum: ArchitectureLimits.maxImageSize) {
            throw RAMModelError.badConfig(key: "\(config.path).image_size", message: m)
        }
        var sources: [String: String] = [:]
        let q2lURL = try config.resolvePath(o.q2l_config, defaultResource: "reference-configs/q2l_config.json")
        sources["q2l_config"] = q2lURL.path
        let q2l = try BertConfig.load(q2lURL)
        var med: BertConfig? = nil
        if arch == "ram" {
            let medURL = try config.resolvePath(o.med_config, defaultResource: "reference-configs/med_config.json")
            sources["med_config"] = medURL.path
            med = try BertConfig.load(medURL)
        }
        // Vision: preset, then the shipped reference JSON for Swin presets, then vision_config.
        var overrides: [String: Any] = [:]
        var visionSource = "\(config.path).vision_config"
        if let v = visionNode, !v.isNull {
            switch v {
            case let .string(path):
                let url = try config.resolvePath(path)
                visionSource = url.path
                sources["vision_config"] = url.path
                let data: Data
                do { data = try regularFileData(url) } catch {
                    throw RAMModelError.badFile(path: url.path, message: "cannot read: \(readFailureReason(url.path, error))")
                }
                guard let m = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                    throw RAMModelError.badFile(path: url.path, message: "expected a JSON object of backbone hyper-parameters (embed_dim, depths, num_heads, window_size, image_res, vision_width)")
                }
                overrides = m
            case .map:
                overrides = (RAMArchPlan.plain(v) as? [String: Any]) ?? [:]
            default:
                throw RAMModelError.badConfig(key: "\(config.path).vision_config",
                                              message: "expected a path to a JSON file or a map of backbone hyper-parameters, found \(v.shortDescription)")
            }
        }
        let vision = try VisionSpec.from(vit: vit, imageSize: o.image_size, overrides: overrides, source: visionSource)
        // Tags.
        let tagURL = try config.resolvePath(o.tag_list, defaultResource: "ram_tag_list.txt")
        sources["tag_list"] = tagURL.path
        let tags = try TagList.load(tagURL)
        guard !tags.isEmpty else {
            throw RAMModelError.badFile(path: tagURL.path, message: "the tag list is empty (expected one tag a line)")
        }
        if let n = o.num_class, n != tags.count {
            throw RAMModelError.badConfig(key: "\(config.path).num_class",
                                          message: "\(n), but tag_list '\(tagURL.path)' has \(tags.count) tags")
        }
        if let cn = o.tag_list_chinese, !cn.isEmpty {
            let url = try config.resolvePath(cn)
            let zh = try TagList.load(url)
            if zh.count != tags.count {
                throw RAMModelError.badConfig(key: "\(config.path).tag_list_chinese",
                                              message: "'\(url.path)' has \(zh.count) tags, tag_list has \(tags.count)")
            }
        }
        if let th = o.ram_class_threshold_path, !th.isEmpty {
            let url = try config.resolvePath(th)
            let values = try TagList.loadThresholds(url)
            if values.count > tags.count {
                throw RAMModelError.badConfig(key: "\(config.path).ram_class_threshold_path",
                                              message: "'\(url.path)' has \(values.count) thresholds, tag_list has \(tags.count) tags")
            }
        }
        guard o.threshold.isFinite, o.threshold >= 0, o.threshold <= 1 else {
            throw RAMModelError.badConfig(key: "\(config.path).threshold",
                                          message: "\(o.threshold) is not a score threshold in [0, 1]")
        }
        for i in o.delete_tag_index where i < 0 || i >= tags.count {
            throw RAMModelError.badConfig(key: "\(config.path).delete_tag_index", message: "\(i) is not a class index in 0..<\(tags.count)")
        }
        try RAMArchPlan.checkParameterCount(arch: arch, vision: vision, q2l: q2l, med: med, numTags: tags.count,
                                            path: config.path, sources: sources)
        self.arch = arch
        self.vit = vit
        self.imageSize = o.image_size
        self.vision = vision
        self.q2l = q2l
        self.med = med
        self.tagList = tags
        self.options = o
        self.sources = sources
    }

    /// Refuses a model with more than `ArchitectureLimits.maxParameters` parameters before
    /// anything is allocated, saying which part is large.
    /// - Throws: `RAMModelError.badConfig` naming `path`, the count and its parts.
    static func checkParameterCount(arch: String, vision: VisionSpec, q2l: BertConfig, med: BertConfig?,
                                    numTags: Int, path: String, sources: [String: String]) throws {
        let shapes = RAMArchSpec.parameterShapes(arch: arch, vision: vision, q2l: q2l, med: med, numTags: numTags)
        var parts: [(name: String, count: Int)] = [
            ("vision backbone (vision_config)", 0), ("tagging head (q2l_config)", 0),
            ("tag encoder / text decoder (med_config)", 0), ("label_embed (tag_list, \(numTags) tags)", 0), ("other", 0),
        ]
        var total = 0
        for (name, shape) in shapes {
            var n = 1
            for d in shape {
                let (m, overflow) = n.multipliedReportingOverflow(by: max(d, 0))
                n = overflow ? Int.max / 4 : m
            }
            let part = name.hasPrefix("visual_encoder.") ? 0 : name.hasPrefix("tagging_head.") ? 1
                : name.hasPrefix("tag_encoder.") || name.hasPrefix("text_decoder.") ? 2 : name == "label_embed" ? 3 : 4
            parts[part].count = min(parts[part].count + n, Int.max / 4)
            total = min(total + n, Int.max / 4)
        }
        guard total > ArchitectureLimits.maxParameters else { return }
        let detail = parts.filter { $0.count > 0 }.map { "\($0.name) \($0.count)" }.joined(separator: ", ")
        let files = sources.keys.sorted().map { "\($0) '\(sources[$0]!)'" }.joined(separator: ", ")
        throw RAMModelError.badConfig(key: path, message:
            "the model would have \(total) parameters (\(detail)); at most \(ArchitectureLimits.maxParameters) are accepted. "
            + "Check the sizes in \(files)")
    }

    /// A ConfigNode as plain Swift values (Int, Double, Bool, String, [Any], [String: Any]).
    static func plain(_ n: ConfigNode) -> Any? {
        switch n {
        case .null: return nil
        case let .bool(b): return b
        case let .int(i): return i
        case let .double(d): return d
        case let .string(s): return s
        case let .list(l): return l.map { plain($0) ?? NSNull() }
        case let .map(pairs):
            var d: [String: Any] = [:]
            for (k, v) in pairs { d[k] = plain(v) ?? NSNull() }
            return d
        }
    }
}

extension RAMArchPlan {
    /// Builds the planned model around `backbone` (whose `outputDim` must be the plan's C).
    /// - Throws: `RAMModelError.badConfig` when the backbone's width differs from the plan, or
    ///   RAM's tagging head cannot be tied to its tag encoder.
    public func build(backbone: any Backbone) throws -> any TaggingModel {
        guard backbone.outputDim == vision.outputDim else {
            throw RAMModelError.badConfig(key: "Arch.vit", message: "the backbone gives \(backbone.outputDim)-wide tokens, the plan expects \(vision.outputDim)")
        }
        switch arch {
        case "ram_plus":
            return RAMPlus(visualEncoder: backbone, imageSize: imageSize, q2l: q2l, numTags: numTags)
        case "ram":
            guard let med else { throw RAMModelError.badConfig(key: "Arch.med_config", message: "RAM needs med_config") }
            return try RAM(visualEncoder: backbone, imageSize: imageSize, q2l: q2l, med: med, numTags: numTags)
        default:
            throw RAMModelError.badConfig(key: "Arch.name", message: "'\(arch)' is not ram or ram_plus")
        }
    }
}
