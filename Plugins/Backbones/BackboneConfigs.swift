import Foundation
import RAMCore

/// An error in a backbone's configuration (preset name, `vision_config` file or value).
public struct BackboneConfigError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

// MARK: - Size limits

/// `v` as an Int when it is one, or a Double holding a whole number that converts exactly
/// (|v| ≤ 2^53; `Int(d)` traps outside Int's range); nil otherwise. For the number values of
/// JSON / YAML model configs.
public func exactWholeNumber(_ v: Any) -> Int? {
    if let i = v as? Int { return i }
    if let d = v as? Double, d.rounded() == d, abs(d) <= 9_007_199_254_740_992 { return Int(d) }
    return nil
}

/// Upper bounds on architecture hyper-parameters, checked before anything is allocated so that
/// a typo such as `embed_dim: 1048576` is an error naming the key instead of an out-of-memory
/// crash. The largest RAM models (Swin-L, ViT-L, BERT-base heads) are far below every bound.
public enum ArchitectureLimits {
    /// Widths: `embed_dim` (and a Swin's last-stage width), `hidden_size`,
    /// `intermediate_size`, `encoder_width`.
    public static let maxWidth = 65_536
    /// Blocks per Swin stage, ViT `depth`, BERT `num_hidden_layers`.
    public static let maxLayers = 256
    /// Swin stages (entries of `depths`).
    public static let maxStages = 16
    /// Attention heads (per stage).
    public static let maxHeads = 1_024
    /// `mlp_ratio`.
    public static let maxMLPRatio = 64.0
    /// Image, patch and window sizes in pixels / tokens.
    public static let maxImageSize = 8_192
    /// `in_chans`.
    public static let maxChannels = 1_024
    /// Tokens in one attention window: a ViT's whole patch grid (`(image/patch)²`), a Swin
    /// window (`min(window, grid)²`). Attention scores grow with its square.
    public static let maxAttentionTokens = 16_384
    /// Tokens of a Swin's first stage (`(image/patch)²`).
    public static let maxSwinTokens = 1 << 20
    /// BERT `vocab_size`.
    public static let maxVocabulary = 1 << 20
    /// BERT `max_position_embeddings`.
    public static let maxPositions = 65_536
    /// Parameters of a whole model (16 GB of float32).
    public static let maxParameters = 4_000_000_000

    /// Why `value` of `key` is outside `minimum...maximum`, or nil when it is inside.
    public static func rangeProblem(_ key: String, _ value: Int, minimum: Int = 1, maximum: Int) -> String? {
        if value < minimum {
            return minimum == 1 ? "\(key) must be positive, got \(value)"
                : minimum == 0 ? "\(key) must not be negative, got \(value)"
                : "\(key) must be at least \(minimum), got \(value)"
        }
        if value > maximum { return "\(key) is \(value); at most \(maximum) is accepted" }
        return nil
    }

    /// Why a `mlp_ratio` is unusable (not finite, not positive, above `maxMLPRatio`), or nil.
    public static func mlpRatioProblem(_ ratio: Double) -> String? {
        guard ratio.isFinite, ratio > 0 else { return "mlp_ratio must be a positive finite number, got \(ratio)" }
        if ratio > maxMLPRatio { return "mlp_ratio is \(ratio); at most \(maxMLPRatio) is accepted" }
        return nil
    }

    /// Why a LayerNorm epsilon is unusable (zero, negative, NaN or infinite), or nil.
    public static func layerNormEpsProblem(_ eps: Double) -> String? {
        guard eps.isFinite, eps > 0 else { return "layer_norm_eps must be a positive finite number, got \(eps)" }
        return nil
    }
}

// MARK: - JSON-ish values

/// A loosely typed configuration value, the common ground of the reference's JSON files
/// (`configs/swin/config_swinL_384.json`) and an inline YAML `vision_config` map.
public indirect enum BackboneConfigValue: Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([BackboneConfigValue])
    case map([(String, BackboneConfigValue)])

    public static func == (a: BackboneConfigValue, b: BackboneConfigValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.list(x), .list(y)): return x == y
        case let (.map(x), .map(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// Parses JSON bytes (as the reference's architecture files are).
    /// - Throws: `BackboneConfigError` naming `source` when the bytes are not JSON.
    public static func parseJSON(_ data: Data, source: String) throws -> BackboneConfigValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data).value
        } catch {
            throw BackboneConfigError("\(source): not valid JSON (\(error))")
        }
    }

    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .list: return "a list"
        case .map: return "a map"
        }
    }
}

/// Decodes any JSON value into a `BackboneConfigValue` (map keys sorted).
private struct JSONValue: Decodable {
    let value: BackboneConfigValue
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { return nil }
    }
    init(from decoder: Decoder) throws {
        if var list = try? decoder.unkeyedContainer() {
            var items: [BackboneConfigValue] = []
            while !list.isAtEnd { items.append(try list.decode(JSONValue.self).value) }
            value = .list(items)
            return
        }
        if let map = try? decoder.container(keyedBy: Key.self) {
            value = .map(try map.allKeys.map(\.stringValue).sorted().map {
                ($0, try map.decode(JSONValue.self, forKey: Key(stringValue: $0)!).value)
            })
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { value = .null }
        else if let b = try? single.decode(Bool.self) { value = .bool(b) }
        else if let i = try? single.decode(Int.self) { value = .int(i) }
        else if let d = try? single.decode(Double.self) { value = .double(d) }
        else { value = .string(try single.decode(String.self)) }
    }
}

/// Reads typed fields from a `.map` value, remembering which keys were used so that unknown
/// keys can be reported.
struct ConfigReader {
    let entries: [(String, BackboneConfigValue)]
    let source: String

    init(_ value: BackboneConfigValue, source: String) throws {
        guard case let .map(entries) = value else {
            throw BackboneConfigError("\(source): expected a map of architecture settings, found \(value.typeName)")
        }
        self.entries = entries
        self.source = source
    }

    func value(_ key: String) -> BackboneConfigValue? {
        entries.first(where: { $0.0 == key })?.1
    }

    func int(_ key: String) throws -> Int? {
        guard let v = value(key) else { return nil }
        switch v {
        case .null: return nil
        case let .int(i): return i
        case let .double(d) where d == d.rounded() && abs(d) < 1e15: return Int(d)
        default: throw BackboneConfigError("\(source).\(key): expected an integer, found \(v.typeName) (\(v))")
        }
    }

    func double(_ key: String) throws -> Double? {
        guard let v = value(key) else { return nil }
        switch v {
        case .null: return nil
        case let .int(i): return Double(i)
        case let .double(d): return d
        default: throw BackboneConfigError("\(source).\(key): expected a number, found \(v.typeName) (\(v))")
        }
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        switch v {
        case .null: return nil
        case let .bool(b): return b
        default: throw BackboneConfigError("\(source).\(key): expected true or false, found \(v.typeName) (\(v))")
        }
    }

    func intList(_ key: String) throws -> [Int]? {
        guard let v = value(key) else { return nil }
        switch v {
        case .null: return nil
        case let .list(items):
            return try items.enumerated().map { i, item in
                switch item {
                case let .int(x): return x
                case let .double(d) where d == d.rounded() && abs(d) < 1e15: return Int(d)
                default:
                    throw BackboneConfigError("\(source).\(key)[\(i)]: expected an integer, found \(item.typeName)")
                }
            }
        default: throw BackboneConfigError("\(source).\(key): expected a list of integers, found \(v.typeName)")
        }
    }

    /// Throws when a key outside `known` is present (typos must not pass silently).
    func rejectUnknown(_ known: Set<String>) throws {
        for (key, _) in entries where !known.contains(key) {
            let suggestion = known.min(by: { editDistance($0, key) < editDistance($1, key) })
            var message = "\(source): unknown key '\(key)'"
            if let s = suggestion, editDistance(s, key) <= max(2, key.count / 3) {
                message += " (did you mean '\(s)'?)"
            }
            message += "; known keys: \(known.sorted().joined(separator: ", "))"
            throw BackboneConfigError(message)
        }
    }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

/// Loads a `vision_config` given as a path to a JSON file in the reference's format.
/// - Throws: `BackboneConfigError` naming the file when it cannot be read or parsed.
public func loadVisionConfigFile(_ url: URL) throws -> BackboneConfigValue {
    let data: Data
    do {
        data = try regularFileData(url)
    } catch {
        throw BackboneConfigError("vision_config: cannot read '\(url.path)': \(readFailureReason(url.path, error))")
    }
    return try BackboneConfigValue.parseJSON(data, source: url.path)
}

// MARK: - Swin

/// Hyper-parameters of a Swin Transformer (reference: `ram/models/swin_transformer.py`, built by
/// `ram/models/ram_plus.py` with patch 4, mlp ratio 4, qkv bias, no absolute position embedding,
/// patch norm; keys of `configs/swin/config_swin{B,L}_{224,384}.json`).
public struct SwinConfig: Equatable, Sendable {
    /// `image_res`: the square input size S in pixels.
    public var imageSize: Int
    /// `patch_size` (4 in every RAM model).
    public var patchSize: Int = 4
    /// `in_chans`.
    public var inChannels: Int = 3
    /// `embed_dim`: width of stage 0; stage i has `embed_dim · 2^i`.
    public var embedDim: Int
    /// `depths`: blocks per stage.
    public var depths: [Int]
    /// `num_heads`: attention heads per stage.
    public var numHeads: [Int]
    /// `window_size` W: attention windows are W×W tokens.
    public var windowSize: Int
    /// `mlp_ratio`.
    public var mlpRatio: Double = 4
    /// `qkv_bias`.
    public var qkvBias: Bool = true
    /// LayerNorm epsilon (`nn.LayerNorm` default).
    public var layerNormEps: Float = 1e-5
    /// `drop_path_rate`: stochastic depth, linearly increasing over all blocks (training only;
    /// the reference builds RAM's Swin with 0.1).
    public var dropPathRate: Double = 0.1

    public init(imageSize: Int, embedDim: Int, depths: [Int], numHeads: [Int], windowSize: Int) {
        self.imageSize = imageSize
        self.embedDim = embedDim
        self.depths = depths
        self.numHeads = numHeads
        self.windowSize = windowSize
    }

    /// C, the width of the output tokens: `embed_dim · 2^(stages-1)` (`vision_width`).
    public var numFeatures: Int { embedDim << max(0, depths.count - 1) }

    /// Token grid side of stage `i` (the reference's `input_resolution`).
    public func resolution(stage i: Int) -> Int { (imageSize / patchSize) >> i }

    /// L, the number of final-norm tokens (the output has `1 + L`).
    public var numTokens: Int { let r = resolution(stage: depths.count - 1); return r * r }

    /// The presets RAM configs name: `swin_b` (embed 128, depths [2,2,18,2], heads [4,8,16,32])
    /// and `swin_l` (192, [2,2,18,2], [6,12,24,48]); window 7 at 224 and 12 at 384 (the
    /// reference's `config_swin{B,L}_{224,384}.json`).
    /// - Throws: `BackboneConfigError` for an unknown name.
    public static func preset(_ name: String, imageSize: Int) throws -> SwinConfig {
        guard imageSize == 224 || imageSize == 384 else {
            throw BackboneConfigError("no Swin preset for image_size \(imageSize) (presets: 224 with window 7, "
                                      + "384 with window 12); give a vision_config")
        }
        let window = imageSize == 224 ? 7 : 12
        switch name {
        case "swin_b":
            return SwinConfig(imageSize: imageSize, embedDim: 128, depths: [2, 2, 18, 2],
                              numHeads: [4, 8, 16, 32], windowSize: window)
        case "swin_l":
            return SwinConfig(imageSize: imageSize, embedDim: 192, depths: [2, 2, 18, 2],
                              numHeads: [6, 12, 24, 48], windowSize: window)
        default:
            throw BackboneConfigError("unknown Swin preset '\(name)'; expected swin_b or swin_l")
        }
    }

    static let knownKeys: Set<String> = [
        "ckpt", "vision_width", "image_res", "window_size", "embed_dim", "depths", "num_heads",
        "patch_size", "in_chans", "mlp_ratio", "qkv_bias", "layer_norm_eps", "drop_path_rate",
    ]

    /// Applies the keys of a reference-format vision config (`image_res`, `window_size`,
    /// `embed_dim`, `depths`, `num_heads`, `vision_width`, and optionally `patch_size`,
    /// `in_chans`, `mlp_ratio`, `qkv_bias`, `layer_norm_eps`, `drop_path_rate`; `ckpt` is
    /// accepted and ignored) over this preset, then validates.
    /// - Throws: `BackboneConfigError` naming `source` and the key for unknown keys, wrong types
    ///   or inconsistent values (see `validate`).
    public func overridden(by value: BackboneConfigValue, source: String) throws -> SwinConfig {
        let r = try ConfigReader(value, source: source)
        try r.rejectUnknown(SwinConfig.knownKeys)
        var c = self
        if let v = try r.int("image_res") { c.imageSize = v }
        if let v = try r.int("window_size") { c.windowSize = v }
        if let v = try r.int("embed_dim") { c.embedDim = v }
        if let v = try r.intList("depths") { c.depths = v }
        if let v = try r.intList("num_heads") { c.numHeads = v }
        if let v = try r.int("patch_size") { c.patchSize = v }
        if let v = try r.int("in_chans") { c.inChannels = v }
        if let v = try r.double("mlp_ratio") { c.mlpRatio = v }
        if let v = try r.bool("qkv_bias") { c.qkvBias = v }
        if let v = try r.double("layer_norm_eps") { c.layerNormEps = Float(v) }
        if let v = try r.double("drop_path_rate") { c.dropPathRate = v }
        try c.validate(source: source)
        if let width = try r.int("vision_width"), width != c.numFeatures {
            throw BackboneConfigError(
                "\(source).vision_width: \(width) does not match embed_dim·2^(stages-1) = \(c.numFeatures)")
        }
        return c
    }

    /// Checks that the architecture can be built: each size positive and within
    /// `ArchitectureLimits`, one head count per stage, widths divisible by heads, a token grid
    /// that patch merging can halve and windows tile, a positive finite `layer_norm_eps`.
    /// - Throws: `BackboneConfigError` naming `source`, the key and the offending value.
    public func validate(source: String = "vision_config") throws {
        func fail(_ m: String) -> BackboneConfigError { BackboneConfigError("\(source): \(m)") }
        typealias L = ArchitectureLimits
        for (key, value, maximum) in [("image_res", imageSize, L.maxImageSize), ("patch_size", patchSize, L.maxImageSize),
                                      ("in_chans", inChannels, L.maxChannels), ("embed_dim", embedDim, L.maxWidth),
                                      ("window_size", windowSize, L.maxImageSize)] {
            if let m = L.rangeProblem(key, value, maximum: maximum) { throw fail(m) }
        }
        guard !depths.isEmpty else { throw fail("depths must be a non-empty list, got []") }
        if depths.count > L.maxStages {
            throw fail("depths has \(depths.count) stages; at most \(L.maxStages) are accepted")
        }
        for (i, d) in depths.enumerated() {
            if let m = L.rangeProblem("depths[\(i)]", d, minimum: 0, maximum: L.maxLayers) { throw fail(m) }
        }
        guard numHeads.count == depths.count else {
            throw fail("num_heads has \(numHeads.count) entries but depths has \(depths.count)")
        }
        for (i, h) in numHeads.enumerated() {
            if let m = L.rangeProblem("num_heads[\(i)]", h, maximum: L.maxHeads) { throw fail(m) }
        }
        if let m = L.mlpRatioProblem(mlpRatio) { throw fail(m) }
        if let m = L.layerNormEpsProblem(Double(layerNormEps)) { throw fail(m) }
        guard dropPathRate.isFinite, dropPathRate >= 0, dropPathRate < 1 else {
            throw fail("drop_path_rate must be in [0, 1), got \(dropPathRate)")
        }
        if numFeatures > L.maxWidth {
            throw fail("the last stage is embed_dim·2^(stages-1) = \(embedDim)·2^\(depths.count - 1) = \(numFeatures) wide; "
                       + "at most \(L.maxWidth) is accepted")
        }
        guard imageSize % patchSize == 0 else {
            throw fail("image_res \(imageSize) is not a multiple of patch_size \(patchSize)")
        }
        let grid = imageSize / patchSize
        if grid * grid > L.maxSwinTokens {
            throw fail("image_res \(imageSize) / patch_size \(patchSize) gives a \(grid)×\(grid) token grid; "
                       + "at most \(L.maxSwinTokens) tokens are accepted")
        }
        let window = min(windowSize, grid)
        if window * window > L.maxAttentionTokens {
            throw fail("window_size \(windowSize) gives \(window)×\(window)-token windows; at most "
                       + "\(L.maxAttentionTokens) tokens a window are accepted")
        }
        for i in 0..<depths.count {
            let dim = embedDim << i
            guard dim % numHeads[i] == 0 else {
                throw fail("stage \(i): width \(dim) is not divisible by num_heads \(numHeads[i])")
            }
            let res = grid >> i
            guard res > 0 else { throw fail("stage \(i): token grid vanishes at image_res \(imageSize)") }
            if i < depths.count - 1, res % 2 != 0 || grid % (1 << (i + 1)) != 0 {
                throw fail("stage \(i): token grid \(res)×\(res) is odd; patch merging needs it even "
                           + "(image_res \(imageSize))")
            }
            if res > windowSize, res % windowSize != 0 {
                throw fail("stage \(i): token grid \(res)×\(res) is not a multiple of window_size \(windowSize)")
            }
        }
    }
}

// MARK: - ViT

/// Hyper-parameters of the ViT image encoder (reference: `ram/models/vit.py`, built by
/// `create_vit` in `ram/models/utils.py`; the fixture's `configs/vit_tiny.json` keys).
public struct ViTConfig: Equatable, Sendable {
    /// The square input size S in pixels.
    public var imageSize: Int
    /// `patch_size` (16).
    public var patchSize: Int = 16
    public var inChannels: Int = 3
    /// `embed_dim` = `vision_width`, the width C of the output tokens.
    public var embedDim: Int
    /// `depth`: number of blocks.
    public var depth: Int
    /// `num_heads`.
    public var numHeads: Int
    public var mlpRatio: Double = 4
    public var qkvBias: Bool = true
    /// LayerNorm epsilon: 1e-6 in the reference's ViT.
    public var layerNormEps: Float = 1e-6
    /// `drop_path_rate` (training only).
    public var dropPathRate: Double = 0

    public init(imageSize: Int, embedDim: Int, depth: Int, numHeads: Int) {
        self.imageSize = imageSize
        self.embedDim = embedDim
        self.depth = depth
        self.numHeads = numHeads
    }

    /// Patches per side.
    public var gridSize: Int { imageSize / patchSize }
    /// L, the number of patch tokens (the output has `1 + L`).
    public var numPatches: Int { gridSize * gridSize }

    /// `base` (768 wide, 12 blocks, 12 heads) and `large` (1024, 24, 16), patch 16 (BLIP's /
    /// the reference's `create_vit`).
    /// - Throws: `BackboneConfigError` for an unknown name.
    public static func preset(_ name: String, imageSize: Int) throws -> ViTConfig {
        switch name {
        case "base": return ViTConfig(imageSize: imageSize, embedDim: 768, depth: 12, numHeads: 12)
        case "large":
            var c = ViTConfig(imageSize: imageSize, embedDim: 1024, depth: 24, numHeads: 16)
            c.dropPathRate = 0.1
            return c
        default:
            throw BackboneConfigError("unknown ViT preset '\(name)'; expected base or large")
        }
    }

    static let knownKeys: Set<String> = [
        "ckpt", "vision_width", "image_res", "image_size", "patch_size", "in_chans", "embed_dim",
        "depth", "num_heads", "mlp_ratio", "qkv_bias", "layer_norm_eps", "drop_path_rate",
    ]

    /// Applies a reference-format vision config over this preset (keys as in
    /// `configs/vit_tiny.json`: `patch_size`, `embed_dim`, `depth`, `num_heads`, `mlp_ratio`,
    /// `qkv_bias`, `layer_norm_eps`, `vision_width`; also `image_res`/`image_size`,
    /// `in_chans`, `drop_path_rate`, and `ckpt`, ignored), then validates.
    /// - Throws: `BackboneConfigError` naming `source` and the key.
    public func overridden(by value: BackboneConfigValue, source: String) throws -> ViTConfig {
        let r = try ConfigReader(value, source: source)
        try r.rejectUnknown(ViTConfig.knownKeys)
        var c = self
        if let v = try r.int("image_res") ?? r.int("image_size") { c.imageSize = v }
        if let v = try r.int("patch_size") { c.patchSize = v }
        if let v = try r.int("in_chans") { c.inChannels = v }
        if let v = try r.int("embed_dim") { c.embedDim = v }
        if let v = try r.int("depth") { c.depth = v }
        if let v = try r.int("num_heads") { c.numHeads = v }
        if let v = try r.double("mlp_ratio") { c.mlpRatio = v }
        if let v = try r.bool("qkv_bias") { c.qkvBias = v }
        if let v = try r.double("layer_norm_eps") { c.layerNormEps = Float(v) }
        if let v = try r.double("drop_path_rate") { c.dropPathRate = v }
        try c.validate(source: source)
        if let width = try r.int("vision_width"), width != c.embedDim {
            throw BackboneConfigError("\(source).vision_width: \(width) does not match embed_dim \(c.embedDim)")
        }
        return c
    }

    /// Checks that the architecture can be built: each size positive (`depth` may be 0) and
    /// within `ArchitectureLimits`, an image size that is a multiple of the patch, a width
    /// divisible by the heads, a positive finite `layer_norm_eps`.
    /// - Throws: `BackboneConfigError` naming `source`, the key and the offending value.
    public func validate(source: String = "vision_config") throws {
        func fail(_ m: String) -> BackboneConfigError { BackboneConfigError("\(source): \(m)") }
        typealias L = ArchitectureLimits
        for (key, value, minimum, maximum) in [("image size", imageSize, 1, L.maxImageSize),
                                               ("patch_size", patchSize, 1, L.maxImageSize),
                                               ("in_chans", inChannels, 1, L.maxChannels),
                                               ("embed_dim", embedDim, 1, L.maxWidth),
                                               ("depth", depth, 0, L.maxLayers),
                                               ("num_heads", numHeads, 1, L.maxHeads)] {
            if let m = L.rangeProblem(key, value, minimum: minimum, maximum: maximum) { throw fail(m) }
        }
        guard imageSize % patchSize == 0 else {
            throw fail("image size \(imageSize) is not a multiple of patch_size \(patchSize)")
        }
        if numPatches > L.maxAttentionTokens {
            throw fail("image size \(imageSize) / patch_size \(patchSize) gives \(numPatches) patch tokens; "
                       + "at most \(L.maxAttentionTokens) are accepted")
        }
        guard embedDim % numHeads == 0 else {
            throw fail("embed_dim \(embedDim) is not divisible by num_heads \(numHeads)")
        }
        if let m = L.mlpRatioProblem(mlpRatio) { throw fail(m) }
        if let m = L.layerNormEpsProblem(Double(layerNormEps)) { throw fail(m) }
        guard dropPathRate.isFinite, dropPathRate >= 0, dropPathRate < 1 else {
            throw fail("drop_path_rate must be in [0, 1), got \(dropPathRate)")
        }
    }
}
