// RAMPostProcess: post-processors by PaddleClas name (`RamOutPut`). See docs/tagging.md.
import Foundation
import Logging
import RAMCore

/// Registers this module's post-processors: `RamOutPut`.
public enum PostProcessPlugin: RAMPlugin {
    public static func register(into registries: Registries) throws {
        try registries.postProcess.register(
            "RamOutPut",
            summary: "RAM/RAM++ tags: sigmoid, per-class thresholds (strictly greater), language cn/en/all") { config in
                try RamOutPut(config: config)
            }
    }
}

/// `RamOutPut`'s options, by PaddleClas's names (`Infer.PostProcess`).
public struct RamOutPutOptions: Codable, ConfigDefaults {
    /// `cn` (PaddleClas's default), `en` or `all`: what `label_names` holds.
    public var language: String = "cn"
    /// English tags, one a line; default: the shipped 4,585-tag list.
    public var tag_list: String? = nil
    /// Chinese tags, same order; default: the shipped list when `tag_list` is the default.
    public var tag_list_chinese: String? = nil
    /// A global threshold overriding the per-class ones (0 included) when given.
    public var threshold: Double? = nil
    /// Per-class thresholds, one a line; default: the shipped file when `tag_list` is the default.
    public var ram_class_threshold_path: String? = nil
    /// Class indices never output.
    public var delete_tag_index: [Int] = []
    /// PaddleClas's class-id map key (accepted for compatibility, unused).
    public var class_id_map_file: String? = nil

    public init() {}
}

extension RamOutPut {
    /// Builds `RamOutPut` from its config section.
    ///
    /// When `tag_list` is not given, the shipped `ram_tag_list.txt` is used, and with it the
    /// shipped Chinese list and thresholds unless those are given. With a custom `tag_list`, the
    /// Chinese list and the threshold file are used only when given (otherwise every class uses
    /// 0.68 and `language` must be `en`).
    /// - Throws: `ConfigError` for unknown keys / missing files; `TagFileError` for lists that
    ///   disagree, bad threshold lines, out-of-range `delete_tag_index`, a bad `language`.
    public init(config: ComponentConfig) throws {
        let o = try config.decode(RamOutPutOptions.self)
        guard let language = Language(rawValue: o.language) else {
            throw TagFileError.badOption(key: "\(config.path).language", value: o.language, expected: "one of cn, en, all")
        }
        let customList = (o.tag_list ?? "").isEmpty == false
        let tagURL = try config.resolvePath(o.tag_list, defaultResource: "ram_tag_list.txt")
        let cnURL: URL? = (o.tag_list_chinese ?? "").isEmpty && customList ? nil
            : try config.resolvePath(o.tag_list_chinese, defaultResource: "ram_tag_list_chinese.txt")
        let thURL: URL? = (o.ram_class_threshold_path ?? "").isEmpty && customList ? nil
            : try config.resolvePath(o.ram_class_threshold_path, defaultResource: "ram_tag_list_threshold.txt")
        do {
            let tags = try TagList.load(tagURL)
            let thresholds = try thURL.map { try TagList.loadThresholds($0) }
            if let th = thresholds, let url = thURL, th.count < tags.count, o.threshold == nil {
                // The reference overrides the first thresholds only; a short file is more often a
                // mistake than meant, so say what the other tags get.
                Logger(label: "ramkit.postprocess").notice(
                    "\(url.path) (\(config.path).ram_class_threshold_path) has \(th.count) thresholds for \(tags.count) tags: the tags from index \(th.count) on use 0.68")
            }
            try self.init(tagList: tags,
                          tagListChinese: try cnURL.map { try TagList.load($0) },
                          classThresholds: thresholds,
                          threshold: o.threshold.map { Float($0) },
                          deleteTagIndex: o.delete_tag_index, language: language,
                          sourceNames: (tagURL.path, cnURL?.path ?? "", thURL?.path ?? ""))
        } catch let TagFileError.badOption(key, value, expected) {
            // Name the option by its place in the config (`Infer.PostProcess.delete_tag_index`).
            throw TagFileError.badOption(key: "\(config.path).\(key)", value: value, expected: expected)
        }
    }
}
