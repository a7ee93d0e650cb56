import Foundation
import RAMCore
import RAMBackbones

/// Errors raised while building RAM / RAM++ from user configs and checkpoints.
public enum RAMModelError: Error, CustomStringConvertible {
    /// A config value is missing or invalid; `key` is the dotted path (e.g. `Arch.q2l_config`).
    case badConfig(key: String, message: String)
    /// A file could not be read or parsed.
    case badFile(path: String, message: String)
    /// The checkpoint does not match the architecture; the message lists every problem at once.
    case checkpointMismatch(path: String, message: String)
    /// A code path that exists in the reference but is not implemented yet (training forwards).
    case notImplemented(String)

    public var description: String {
        switch self {
        case let .badConfig(key, message): return "\(key): \(message)"
        case let .badFile(path, message): return "\(path): \(message)"
        case let .checkpointMismatch(path, message): return "checkpoint '\(path)' does not fit this model:\n\(message)"
        case let .notImplemented(what): return "not implemented yet: \(what)"
        }
    }
}

/// The subset of a Hugging Face `BertConfig` the reference's BERT (ram/models/bert.py) reads.
///
/// Read from the reference's JSON (`q2l_config.json`, `med_config.json`) or PaddleClas's YAML
/// (`RAM_q2l.yaml`, `RAM_bert.yaml`); both are flat maps with these keys. Unknown keys
/// (`architectures`, `model_type`, dropout rates, ...) are ignored, as `BertConfig` does.
public struct BertConfig: Equatable {
    public var hidden_size: Int = 768
    public var num_attention_heads: Int = 12
    public var num_hidden_layers: Int = 12
    public var intermediate_size: Int = 3072
    /// LayerNorm epsilon (1e-12 in every RAM config).
    public var layer_norm_eps: Float = 1e-12
    public var vocab_size: Int = 30522
    public var max_position_embeddings: Int = 512
    /// Width of the cross-attention keys/values (the image tokens). The reference forces 512
    /// for the tagging head and the tag encoder, whatever the file says.
    public var encoder_width: Int = 768
    public var add_cross_attention: Bool = false
    /// Only `gelu` (exact, erf) is supported, as every RAM config uses.
    public var hidden_act: String = "gelu"

    public init() {}

    /// Builds a config from a parsed flat map (JSON object or YAML mapping).
    /// - Throws: `RAMModelError.badConfig` naming `source.key` when a value has the wrong type
    ///   or is out of range (non-positive sizes, hidden size not divisible by the head count).
    public init(map: [String: Any], source: String) throws {
        func int(_ k: String) throws -> Int? {
            guard let v = map[k] else { return nil }
            if let i = exactWholeNumber(v) { return i }
            if let s = v as? String, let i = Int(s) { return i }
            throw RAMModelError.badConfig(key: "\(source).\(k)", message: "expected an integer, found \(v)")
        }
        func float(_ k: String) throws -> Float? {
            guard let v = map[k] else { return nil }
            if let d = v as? Double { return Float(d) }
            if let i = v as? Int { return Float(i) }
            if let n = v as? NSNumber { return n.floatValue }
            if let s = v as? String, let d = Double(s) { return Float(d) }
            throw RAMModelError.badConfig(key: "\(source).\(k)", message: "expected a number, found \(v)")
        }
        func bool(_ k: String) throws -> Bool? {
            guard let v = map[k] else { return nil }
            if let b = v as? Bool { return b }
            if let s = v as? String { if s.lowercased() == "true" { return true }; if s.lowercased() == "false" { return false } }
            throw RAMModelError.badConfig(key: "\(source).\(k)", message: "expected true or false, found \(v)")
        }
        if let v = try int("hidden_size") { hidden_size = v }
        if let v = try int("num_attention_heads") { num_attention_heads = v }
        if let v = try int("num_hidden_layers") { num_hidden_layers = v }
        if let v = try int("intermediate_size") { intermediate_size = v }
        if let v = try float("layer_norm_eps") { layer_norm_eps = v }
        if let v = try int("vocab_size") { vocab_size = v }
        if let v = try int("max_position_embeddings") { max_position_embeddings = v }
        if let v = try int("encoder_width") { encoder_width = v }
        if let v = try bool("add_cross_attention") { add_cross_attention = v }
        if let v = map["hidden_act"] {
            guard let s = v as? String else {
                throw RAMModelError.badConfig(key: "\(source).hidden_act", message: "expected a string, found \(v)")
            }
            hidden_act = s
        }
        try validate(source: source)
    }

    /// - Throws: `RAMModelError.badConfig` naming `source.key` for values the model cannot be
    ///   built with: a size that is not positive or is above its bound in `ArchitectureLimits`
    ///   (widths 65,536, 256 layers, 1,024 heads, ...), a hidden size not divisible by the head
    ///   count, an activation other than gelu, a `layer_norm_eps` that is not positive and finite.
    public func validate(source: String) throws {
        typealias L = ArchitectureLimits
        for (k, v, maximum) in [("hidden_size", hidden_size, L.maxWidth), ("num_attention_heads", num_attention_heads, L.maxHeads),
                                ("num_hidden_layers", num_hidden_layers, L.maxLayers), ("intermediate_size", intermediate_size, L.maxWidth),
                                ("vocab_size", vocab_size, L.maxVocabulary), ("max_position_embeddings", max_position_embeddings, L.maxPositions),
                                ("encoder_width", encoder_width, L.maxWidth)] {
            if v <= 0 {
                throw RAMModelError.badConfig(key: "\(source).\(k)", message: "must be positive, found \(v)")
            }
            if v > maximum {
                throw RAMModelError.badConfig(key: "\(source).\(k)", message: "\(v) is too large; at most \(maximum) is accepted")
            }
        }
        if hidden_size % num_attention_heads != 0 {
            throw RAMModelError.badConfig(key: "\(source).hidden_size",
                                          message: "\(hidden_size) is not a multiple of num_attention_heads (\(num_attention_heads))")
        }
        if hidden_act != "gelu" {
            throw RAMModelError.badConfig(key: "\(source).hidden_act",
                                          message: "only \"gelu\" (exact) is supported, found \"\(hidden_act)\"")
        }
        if !(layer_norm_eps > 0) || !layer_norm_eps.isFinite {
            throw RAMModelError.badConfig(key: "\(source).layer_norm_eps", message: "must be a positive finite number, found \(layer_norm_eps)")
        }
    }

    /// Reads a config file: JSON (`.json`) or the flat YAML PaddleClas uses (anything else).
    /// - Throws: `RAMModelError.badFile` naming the file when it cannot be read or parsed (also
    ///   when the YAML nests too deeply or its aliases expand too far), `RAMModelError.badConfig`
    ///   (see `validate`).
    public static func load(_ url: URL) throws -> BertConfig {
        let data: Data
        do { data = try regularFileData(url) } catch {
            throw RAMModelError.badFile(path: url.path, message: "cannot read: \(readFailureReason(url.path, error))")
        }
        let map: [String: Any]
        if url.pathExtension.lowercased() == "json" {
            guard let obj = try? JSONSerialization.jsonObject(with: data), let m = obj as? [String: Any] else {
                throw RAMModelError.badFile(path: url.path, message: "not a JSON object (expected a BERT config)")
            }
            map = m
        } else {
            guard let text = String(data: data, encoding: .utf8) else {
                throw RAMModelError.badFile(path: url.path, message: "not UTF-8 text")
            }
            // Read as every config is (nesting depth and alias expansion bounded, see YAMLLimits).
            let parsed: ConfigNode
            do { parsed = try ConfigNode.parse(yaml: text, source: url.path) }
            catch ConfigError.tooComplex(_, let message) {
                throw RAMModelError.badFile(path: url.path, message: message)
            } catch ConfigError.syntax(_, let message) {
                throw RAMModelError.badFile(path: url.path, message: "not valid YAML: \(message)")
            }
            guard case .map = parsed, let m = RAMArchPlan.plain(parsed) as? [String: Any] else {
                throw RAMModelError.badFile(path: url.path, message: "expected a mapping of BERT config keys, found \(parsed.kindDescription)")
            }
            map = m
        }
        return try BertConfig(map: map, source: url.path)
    }
}
