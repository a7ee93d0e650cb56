// ExampleTopK: an example third-party plugin. It registers one post-processor, `TopK`, exactly
// the way a user's own module would (see docs/plugins.md): a `Codable, ConfigDefaults` options
// struct, a type conforming to `PostProcess`, one `register(into:)`, and, for loading from a
// shared library at run time, the C entry point `ramkit_register_plugin`.
import Foundation
import RAMCore
import RAMTensor

/// Registers `TopK`.
public enum ExampleTopKPlugin: RAMPlugin {
    public static func register(into registries: Registries) throws {
        try registries.postProcess.register("TopK", summary: "the k highest-scoring tags (sigmoid scores), best first") { config in
            try TopK(config: config)
        }
    }
}

/// The entry point `ram --plugin libExampleTopKPlugin.so` / `Global.plugins` calls.
@_cdecl("ramkit_register_plugin")
public func ramkit_register_plugin(_ registries: UnsafeMutableRawPointer) -> Int32 {
    ramkitRegister(registries, ExampleTopKPlugin.self)
}

/// `TopK`'s options (`Infer.PostProcess: {name: TopK, k: 5, language: en}`).
public struct TopKOptions: Codable, ConfigDefaults {
    /// How many tags per image (>= 1).
    public var k: Int = 5
    /// `en` or `cn`: which list `label_names` uses.
    public var language: String = "en"
    /// English tags, one a line; default: the shipped 4,585-tag `ram_tag_list.txt`.
    public var tag_list: String? = nil
    /// Chinese tags, same order; default: the shipped `ram_tag_list_chinese.txt`.
    public var tag_list_chinese: String? = nil

    public init() {}
}

/// The k tags with the highest scores, best first.
///
/// score = sigmoid(logit) per class (RAM's tagging scores, recognize-anything `ram/models/ram.py`
/// `generate_tag`); the k largest, ties broken by the lower class index.
public struct TopK: PostProcess {
    public let k: Int
    /// The names `label_names` is made of (`tags[i]` for class i).
    public let names: [String]
    /// Both languages, for `Prediction.tags` (`"en"`, `"cn"`).
    public let english: [String]
    public let chinese: [String]?

    /// - Throws: `ConfigError` for unknown keys, a bad `k` / `language`, or missing tag files.
    public init(config: ComponentConfig) throws {
        let o = try config.decode(TopKOptions.self)
        guard o.k >= 1 else {
            throw ConfigError.invalidValue(path: "\(config.path).k", message: "must be at least 1, got \(o.k)")
        }
        guard o.language == "en" || o.language == "cn" else {
            throw ConfigError.invalidValue(path: "\(config.path).language", message: "expected en or cn, got '\(o.language)'")
        }
        let en = try RAMResources.readLines(of: config.resolvePath(o.tag_list, defaultResource: "ram_tag_list.txt"))
        var cn: [String]? = nil
        if o.tag_list_chinese != nil || o.tag_list == nil || o.language == "cn" {
            cn = try RAMResources.readLines(of: config.resolvePath(o.tag_list_chinese, defaultResource: "ram_tag_list_chinese.txt"))
        }
        if let cn, cn.count != en.count {
            throw ConfigError.invalidValue(path: "\(config.path).tag_list_chinese",
                                           message: "has \(cn.count) tags but tag_list has \(en.count)")
        }
        try self.init(k: o.k, english: en, chinese: cn, language: o.language)
    }

    public init(k: Int, english: [String], chinese: [String]?, language: String) throws {
        self.k = k
        self.english = english
        self.chinese = chinese
        if language == "cn" {
            guard let chinese else { throw ConfigError.invalidValue(path: "TopK.language", message: "cn needs tag_list_chinese") }
            names = chinese
        } else {
            names = english
        }
    }

    /// - Parameter output: `logits [B, numTags]`, numTags equal to the tag list's length.
    /// - Throws: `ConfigError.invalidValue` when the logits do not match the tag list.
    public func process(_ output: TaggingOutput, files: [String?]) throws -> [Prediction] {
        let shape = output.logits.shape
        guard shape.count == 2, shape[1] == names.count else {
            throw ConfigError.invalidValue(path: "TopK", message: "the model gives logits of shape \(shape), but the tag list has \(names.count) tags")
        }
        let (b, n) = (shape[0], shape[1])
        let logits = output.logits.scalars
        var out: [Prediction] = []
        for i in 0..<b {
            let row = logits[(i * n)..<((i + 1) * n)]
            let scores = row.map { 1 / (1 + Float(exp(Double(-$0)))) }
            let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
            let top = Array(order.prefix(k))
            var tags = ["en": top.map { english[$0] }.joined(separator: " | ")]
            if let chinese { tags["cn"] = top.map { chinese[$0] }.joined(separator: " | ") }
            out.append(Prediction(file: i < files.count ? files[i] : nil, classIds: top, scores: top.map { scores[$0] },
                                  labelNames: top.map { names[$0] }.joined(separator: " | "), tags: tags))
        }
        return out
    }
}
