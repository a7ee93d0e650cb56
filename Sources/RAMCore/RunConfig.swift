import Foundation
import Logging

/// A run's whole configuration: a PaddleClas-shaped YAML file (Global, AMP, Arch, Loss, Optimizer,
/// DataLoader, Infer, PostProcess, Metric) with `-o` overrides applied.
public struct RunConfig {
    /// The top-level sections this project reads (plus `PreProcess`, PaddleClas's deploy configs).
    public static let sections = ["Global", "AMP", "Arch", "Loss", "Optimizer", "DataLoader", "Infer",
                                  "PostProcess", "Metric", "PreProcess"]

    /// The whole tree (a map), overrides applied.
    public var root: ConfigNode
    /// The config file, when the config came from one.
    public var file: URL?

    /// The folder relative paths fall back to (the config file's folder).
    public var baseDirectory: URL? { file?.deletingLastPathComponent() }

    /// - Parameters:
    ///   - root: the tree; must be a map whose keys are known sections.
    /// - Throws: `ConfigError.unknownKey` for an unknown top-level section, with "did you mean".
    public init(root: ConfigNode, file: URL? = nil) throws {
        guard case .map = root else {
            throw ConfigError.typeMismatch(path: file?.path ?? "config", expected: "a map of sections (Global, Arch, ...)", found: root.kindDescription)
        }
        self.root = root
        self.file = file
        try validateSections()
    }

    /// Reads `path` (YAML) and applies `overrides` (`Section.key.sub=value`) in order.
    /// - Throws: `ConfigError` naming the file, section, key or override at fault.
    public static func load(path: String, overrides: [String] = []) throws -> RunConfig {
        let url = try PathResolver.resolve(path, what: "config file", baseDirectory: nil, allowResourceFallback: false)
        var root = try ConfigNode.load(file: url)
        if root.isNull || root.mapPairs?.isEmpty == true {
            // An empty file (or comments only) is almost surely not the config meant.
            throw ConfigError.invalidValue(path: url.path, message: "the config file is empty (no sections; expected Global, Arch, Infer, ...)")
        }
        for o in overrides { try ConfigOverride.apply(o, to: &root) }
        return try RunConfig(root: root, file: url)
    }

    /// Checks that every top-level key is a known section.
    public func validateSections() throws {
        for k in root.keys where !RunConfig.sections.contains(k) {
            throw ConfigError.unknownKey(path: "", key: k, valid: RunConfig.sections)
        }
    }

    /// The node at a dotted path ("Infer.transforms.1"), or nil.
    public func node(at path: String) -> ConfigNode? {
        var cur: ConfigNode? = root
        for seg in path.split(separator: ".").map(String.init) {
            switch cur {
            case let .map(m)?: cur = m.first(where: { $0.key == seg })?.value
            case let .list(l)?:
                guard let i = Int(seg), i >= 0, i < l.count else { return nil }
                cur = l[i]
            default: return nil
            }
        }
        return cur
    }

    /// A `ComponentConfig` for the subtree at `path` (null when absent).
    public func componentConfig(at path: String, registries: Registries) -> ComponentConfig {
        ComponentConfig(path: path, node: node(at: path) ?? .null, registries: registries, baseDirectory: baseDirectory)
    }

    /// `Global`, decoded strictly (an unknown key is an error with "did you mean").
    /// `Global.plugins` may be one path (`-o Global.plugins=lib.so` gives a string): it is read as
    /// a one-element list.
    public func global() throws -> GlobalConfig {
        var node = root["Global"] ?? .map([])
        if case let .string(one)? = node["plugins"] { node["plugins"] = .list([.string(one)]) }
        return try ConfigDecoding.decode(GlobalConfig.self, from: node, path: "Global")
    }

    /// `AMP`, decoded strictly.
    public func amp() throws -> AMPConfig {
        try ConfigDecoding.decode(AMPConfig.self, from: root["AMP"] ?? .map([]), path: "AMP")
    }

    /// The resolved config as YAML (what `--print-config` prints and training saves).
    public func yamlText() -> String { root.yamlText() }

    /// Loads every `Global.plugins` library into `registries`.
    public func loadPlugins(into registries: Registries) throws {
        let plugins = try global().plugins
        for (i, p) in plugins.enumerated() {
            // An empty path (`-o Global.plugins=`) would resolve to the working directory.
            if p.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ConfigError.invalidValue(path: plugins.count > 1 ? "Global.plugins.\(i)" : "Global.plugins",
                                               message: "the path is empty; give a plugin library (.so), or leave Global.plugins out")
            }
            try PluginLoader.load(p, into: registries, baseDirectory: baseDirectory)
        }
    }

    /// Builds a `name:`-style component (`Arch`, `Optimizer`, `Optimizer.lr`, `Infer.PostProcess`):
    /// the section's `name` picks the factory, the other keys are its parameters.
    /// - Throws: `ConfigError.missingKey` when there is no `name`, `.unknownName` (did you mean)
    ///   when no plugin registered it.
    public func buildNamed<C>(_ registry: Registry<C>, at path: String, registries: Registries) throws -> C {
        guard let n = node(at: path) else { throw ConfigError.missingKey(path: "", key: path) }
        return try RunConfig.buildNamed(registry, node: n, path: path, registries: registries, baseDirectory: baseDirectory)
    }

    /// `buildNamed` for a node that is not in a `RunConfig` (nested components).
    public static func buildNamed<C>(_ registry: Registry<C>, node: ConfigNode, path: String,
                                     registries: Registries, baseDirectory: URL?) throws -> C {
        guard case .map = node else {
            throw ConfigError.typeMismatch(path: path, expected: "a map with a 'name' key", found: node.kindDescription)
        }
        guard let nameNode = node["name"] else { throw ConfigError.missingKey(path: path, key: "name") }
        guard case let .string(name) = nameNode else {
            throw ConfigError.typeMismatch(path: path + ".name", expected: "a \(registry.kind) name", found: nameNode.shortDescription)
        }
        let cfg = ComponentConfig(path: path, node: node.removing(key: "name"), registries: registries, baseDirectory: baseDirectory)
        return try registry.build(name, cfg)
    }

    /// Builds a PaddleClas operator list (`transforms: [- DecodeImage: {...}, - ToCHWImage:]`,
    /// `Loss.Train: [- RAMLoss: {weight: 1.0}]`): each item is a map with one key, the component name.
    public func buildList<C>(_ registry: Registry<C>, at path: String, registries: Registries) throws -> [C] {
        guard let n = node(at: path) else { return [] }
        return try RunConfig.buildList(registry, node: n, path: path, registries: registries, baseDirectory: baseDirectory)
    }

    /// `buildList` for a node that is not in a `RunConfig`.
    public static func buildList<C>(_ registry: Registry<C>, node: ConfigNode, path: String,
                                    registries: Registries, baseDirectory: URL?) throws -> [C] {
        if node.isNull { return [] }
        guard case let .list(items) = node else {
            throw ConfigError.typeMismatch(path: path, expected: "a list of `- Name: {parameters}` items", found: node.kindDescription)
        }
        var out: [C] = []
        for (i, item) in items.enumerated() {
            let ipath = "\(path).\(i)"
            let name: String, params: ConfigNode
            switch item {
            case let .string(s): (name, params) = (s, .null)
            case let .map(m) where m.count == 1: (name, params) = (m[0].key, m[0].value)
            default:
                throw ConfigError.typeMismatch(path: ipath, expected: "one `Name: {parameters}` entry", found: item.shortDescription)
            }
            let cfg = ComponentConfig(path: "\(ipath).\(name)", node: params, registries: registries, baseDirectory: baseDirectory)
            do {
                out.append(try registry.build(name, cfg))
            } catch ConfigError.unknownName(let kind, _, let n, let registered) {
                throw ConfigError.unknownName(kind: kind, path: ipath, name: n, registered: registered)
            }
        }
        return out
    }
}

/// `-o Section.key.sub=value` overrides (PaddleClas's `-o`).
public enum ConfigOverride {
    /// Applies one override to `root`.
    ///
    /// - The text is split on the first `=`: `Arch.prompt=a=b` sets `a=b`.
    /// - The key is a dotted path; integer segments index lists (`Infer.transforms.1.ResizeImage.resize_short=256`).
    /// - The value is read as YAML (`3`, `0.5`, `true`, `null`, `[1, 2]`, `{a: 1}`, `'quoted'`); any other
    ///   text is kept verbatim as a string (trailing spaces too); an empty value is the empty string.
    /// - Every segment but the last must exist (a typo is an error with "did you mean"); the last may
    ///   add a new key to an existing map (typed decoding rejects keys a component does not have).
    /// - A key that holds a number refuses a word (an arithmetic expression such as `1.0/255.0` is
    ///   accepted); a key that holds a bool refuses a non-bool; a key that holds null takes any value.
    /// - Throws: `ConfigError.badOverride` / `.unknownKey` / `.typeMismatch` naming the override.
    public static func apply(_ text: String, to root: inout ConfigNode) throws {
        guard let eq = text.firstIndex(of: "=") else {
            throw ConfigError.badOverride(override: text, message: "expected Section.key=value")
        }
        let key = String(text[..<eq]).trimmingCharacters(in: .whitespaces)
        let raw = String(text[text.index(after: eq)...])
        let segments = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !key.isEmpty, !segments.contains(where: \.isEmpty) else {
            throw ConfigError.badOverride(override: text, message: "the key '\(key)' is not a dotted path such as Global.epochs")
        }
        let value = try parseValue(raw, override: text)
        if root.isNull { root = .map([]) }
        // `-o PostProcess.language=en` on a config that keeps its post-processor under `Infer`:
        // point at the key that exists instead of only listing the sections.
        if segments.count > 1, case let .map(sections) = root, !sections.contains(where: { $0.key == segments[0] }),
           let owner = sections.first(where: { $0.value[segments[0]] != nil })?.key {
            throw ConfigError.badOverride(override: text, message: "the config has no '\(segments[0])' section; it sets '\(owner).\(segments[0])': did you mean -o \(owner).\(key)=\(raw)?")
        }
        try set(&root, segments[...], value: value, walked: [], override: text)
    }

    /// Reads an override's value (see `apply`).
    public static func parseValue(_ raw: String, override: String) throws -> ConfigNode {
        if raw.isEmpty { return .string("") }
        let t = raw.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("[") || t.hasPrefix("{") {
            do { return try ConfigNode.parse(yaml: t, source: "-o \(override)") } catch ConfigError.tooComplex(_, let message) {
                throw ConfigError.badOverride(override: override, message: "the value is refused: \(message)")
            } catch {
                throw ConfigError.badOverride(override: override, message: "the value is not a valid YAML list/map: \(error)")
            }
        }
        if t.hasPrefix("'") || t.hasPrefix("\""), let n = try? ConfigNode.parse(yaml: t, source: "-o"), case .string = n {
            return n
        }
        switch ConfigNode.resolvePlain(t) {
        case .string: return .string(raw)
        case let other: return other
        }
    }

    static func set(_ node: inout ConfigNode, _ segs: ArraySlice<String>, value: ConfigNode, walked: [String], override: String) throws {
        guard let seg = segs.first else { return }
        let here = walked.joined(separator: ".")
        let rest = segs.dropFirst()
        switch node {
        case var .list(items):
            guard let i = Int(seg) else {
                throw ConfigError.badOverride(override: override, message: "'\(here)' is a list; the next segment must be an index 0..<\(items.count), not '\(seg)'")
            }
            guard i >= 0, i < items.count else {
                throw ConfigError.badOverride(override: override, message: "index \(i) is out of range: '\(here)' has \(items.count) item(s)")
            }
            if rest.isEmpty {
                try check(existing: items[i], new: value, path: (walked + [seg]).joined(separator: "."), override: override)
                items[i] = value
            } else {
                try set(&items[i], rest, value: value, walked: walked + [seg], override: override)
            }
            node = .list(items)
        case var .map(pairs):
            if let i = pairs.firstIndex(where: { $0.key == seg }) {
                if rest.isEmpty {
                    try check(existing: pairs[i].value, new: value, path: (walked + [seg]).joined(separator: "."), override: override)
                    pairs[i].value = value
                } else {
                    if pairs[i].value.isNull { pairs[i].value = .map([]) }   // `- ToCHWImage:` gains a parameter
                    try set(&pairs[i].value, rest, value: value, walked: walked + [seg], override: override)
                }
            } else if rest.isEmpty {
                pairs.append((seg, value))
            } else if walked.isEmpty {
                // A top-level section: list every section a config may have, not only the ones
                // this file happens to set.
                if RunConfig.sections.contains(seg) {
                    throw ConfigError.badOverride(override: override, message: "the config has no '\(seg)' section (it has \(pairs.isEmpty ? "none" : pairs.map(\.key).joined(separator: ", "))); add it to the file, or give it whole: -o \(seg)={key: value, ...}")
                }
                throw ConfigError.unknownKey(path: here, key: seg, valid: RunConfig.sections)
            } else {
                throw ConfigError.unknownKey(path: here, key: seg, valid: pairs.map(\.key))
            }
            node = .map(pairs)
        default:
            throw ConfigError.badOverride(override: override, message: "'\(here)' is \(node.kindDescription) (\(node.shortDescription)), not a map or list, so it has no '\(seg)'")
        }
    }

    static func check(existing: ConfigNode, new: ConfigNode, path: String, override: String) throws {
        switch (existing, new) {
        case (.int, .int), (.int, .double), (.double, .int), (.double, .double), (_, .null): return
        case (.int, .string(let s)), (.double, .string(let s)):
            if evaluateArithmetic(s) != nil { return }
            throw ConfigError.typeMismatch(path: path, expected: "a number (it holds \(existing.shortDescription))", found: "'\(s)'")
        case (.int, _), (.double, _):
            throw ConfigError.typeMismatch(path: path, expected: "a number (it holds \(existing.shortDescription))", found: new.shortDescription)
        case (.bool, .bool): return
        case (.bool, _):
            throw ConfigError.typeMismatch(path: path, expected: "true or false (it holds \(existing.shortDescription))", found: new.shortDescription)
        default: return
        }
    }
}

/// The `Global` section. Keys are PaddleClas's (training configs and deploy configs), plus `plugins`.
public struct GlobalConfig: Codable, ConfigDefaults {
    /// A training state to resume from.
    public var checkpoints: String? = nil
    /// Weights to load (`ram_plus_swin_large_14m.pth`, a `.pdparams`, or a `.safetensors`).
    public var pretrained_model: String? = nil
    public var output_dir: String = "./output/"
    /// Only `cpu` runs here; `gpu`/`xpu`/... are accepted for PaddleClas configs and run on the CPU (logged).
    public var device: String = "cpu"
    public var save_interval: Int = 1
    public var eval_during_train: Bool = true
    public var eval_interval: Int = 1
    public var start_eval_epoch: Int? = nil
    public var epochs: Int = 1
    public var print_batch_step: Int = 10
    public var use_visualdl: Bool = false
    /// `[3, S, S]`, the export input shape.
    public var image_shape: [Int] = [3, 384, 384]
    public var save_inference_dir: String = "./inference"
    public var seed: Int? = nil
    public var to_static: Bool? = nil
    public var eval_mode: String? = nil
    public var use_dali: Bool? = nil
    public var use_multilabel: Bool? = nil
    public var class_num: Int? = nil
    /// Shared libraries to load before building anything (each exports `ramkit_register_plugin`).
    public var plugins: [String] = []
    // PaddleClas deploy (`deploy/configs/inference_*.yaml`) keys.
    public var infer_imgs: ConfigNode? = nil
    public var inference_model_dir: String? = nil
    public var batch_size: Int? = nil
    public var use_gpu: Bool? = nil
    public var enable_mkldnn: Bool? = nil
    public var cpu_num_threads: Int? = nil
    public var enable_benchmark: Bool? = nil
    public var use_fp16: Bool? = nil
    public var ir_optim: Bool? = nil
    public var use_tensorrt: Bool? = nil
    public var gpu_mem: Int? = nil
    public var enable_profile: Bool? = nil

    public init() {}
}

/// The `AMP` section. Everything here runs in float32 on the CPU; `use_amp: True` is accepted and logged.
public struct AMPConfig: Codable, ConfigDefaults {
    public var use_amp: Bool = false
    public var use_fp16_test: Bool = false
    public var scale_loss: Double = 1.0
    public var use_dynamic_loss_scaling: Bool = false
    public var use_promote: Bool = false
    public var level: String = "O1"

    public init() {}
}
