import Foundation

/// The result of matching a checkpoint's keys and shapes against a model's: everything that is
/// wrong, all at once. (Named `CheckpointLoadReport`, not `LoadReport`, so that it does not clash
/// with RAMNN's `LoadReport` in modules that import both.)
public struct CheckpointLoadReport: CustomStringConvertible, Equatable {
    public struct ShapeMismatch: Equatable {
        public var key: String
        public var expected: [Int]
        public var found: [Int]
    }
    /// Keys the model has and the checkpoint lacks, sorted.
    public var missing: [String]
    /// Keys the checkpoint has and the model lacks, sorted.
    public var unexpected: [String]
    /// Keys in both with different shapes, sorted by key.
    public var shapeMismatches: [ShapeMismatch]
    /// Number of keys in both with equal shapes.
    public var matched: Int

    public var isClean: Bool { missing.isEmpty && unexpected.isEmpty && shapeMismatches.isEmpty }

    /// Compares the model's `expected` name → shape with the checkpoint's `found` name → shape.
    public static func compare(expected: [String: [Int]], found: [String: [Int]]) -> CheckpointLoadReport {
        var missing: [String] = [], mism: [ShapeMismatch] = [], matched = 0
        for (k, s) in expected {
            guard let f = found[k] else { missing.append(k); continue }
            if f == s { matched += 1 } else { mism.append(ShapeMismatch(key: k, expected: s, found: f)) }
        }
        let unexpected = found.keys.filter { expected[$0] == nil }
        return CheckpointLoadReport(missing: missing.sorted(), unexpected: unexpected.sorted(),
                                    shapeMismatches: mism.sorted { $0.key < $1.key }, matched: matched)
    }

    /// One line per problem, at most `limit` per section, with counts.
    public func describe(limit: Int = 20) -> String {
        var lines = ["\(matched) keys match; \(missing.count) missing, \(unexpected.count) unexpected, \(shapeMismatches.count) shape mismatches"]
        func section(_ title: String, _ items: [String]) {
            guard !items.isEmpty else { return }
            lines.append("\(title) (\(items.count)):")
            for i in items.prefix(limit) { lines.append("  \(i)") }
            if items.count > limit { lines.append("  ... and \(items.count - limit) more") }
        }
        section("missing from the checkpoint", missing)
        section("unexpected in the checkpoint", unexpected)
        section("shape mismatches (model expects vs checkpoint has)",
                shapeMismatches.map { "\($0.key): \($0.expected) vs \($0.found)" })
        return lines.joined(separator: "\n")
    }

    public var description: String { describe() }

    /// The error to throw when a strict load fails: names the file, says what the model expects
    /// (`model`, e.g. "RAM with Swin-L (embed_dim 192), 4585 tags") and what the file actually is
    /// (from its shapes), then lists every problem.
    /// - Parameter found: the checkpoint's name → shape (after sanitizing).
    public func error(file: String, model: String, found: [String: [Int]], limit: Int = 20) -> CheckpointError {
        let id = CheckpointIdentity.identify(found)
        return CheckpointError(.shapeMismatch, file: file,
            "does not match the model: the config builds \(model), this checkpoint is \(id)\n\(describe(limit: limit))")
    }
}

/// What a checkpoint actually is, judged from its keys and shapes only — for error messages when
/// a file does not match the configured architecture ("this is a RAM++ checkpoint, the config
/// builds RAM").
public struct CheckpointIdentity: CustomStringConvertible, Equatable {
    public enum Arch: String { case ramPlus = "RAM++", ram = "RAM", unknown = "unknown model" }
    public enum Backbone: Equatable { case swin(embedDim: Int), vit(embedDim: Int), unknown }

    public var arch: Arch
    /// Why `arch` was chosen ("has label_embed [4585*51, 512]").
    public var archEvidence: String
    public var backbone: Backbone
    /// Number of tags (classes), when some tensor tells it.
    public var numTags: Int?
    /// Swin window size judged from the first `relative_position_bias_table` [(2W-1)², heads].
    public var windowSize: Int?

    /// Identifies a state dict from name → shape (use `CheckpointContents.shapes`). Key prefixes
    /// `vision_multi.` are treated like `tagging_head.` (the official RAM file's spelling).
    /// Facts used (reference ram.py / ram_plus.py / swin_transformer.py / vit.py):
    /// RAM++ has `label_embed` [num_tags * 51, 512] (51 descriptions per tag) and `reweight_scale`;
    /// RAM has `label_embed` [num_tags, 512] with `tag_encoder.*` / `text_decoder.*`;
    /// `fc.weight` is [1, 768] (per-tag logits from the Q2L head); Swin has
    /// `visual_encoder.patch_embed.proj.weight` [embed_dim, 3, 4, 4] (Swin-B 128, Swin-L 192);
    /// ViT has `visual_encoder.cls_token` and a patch 16 conv [embed_dim, 3, 16, 16]
    /// (ViT-B 768, ViT-L 1024).
    public static func identify(_ shapes: [String: [Int]]) -> CheckpointIdentity {
        var s = shapes
        for (k, v) in shapes where k.hasPrefix("vision_multi.") {
            s["tagging_head." + k.dropFirst("vision_multi.".count)] = v
        }
        let hasTextModels = s.keys.contains { $0.hasPrefix("tag_encoder.") || $0.hasPrefix("text_decoder.") }
        var arch = Arch.unknown, evidence = "no label_embed", numTags: Int? = nil
        if let le = s["label_embed"], le.count == 2 {
            if s["reweight_scale"] != nil || (le[0] % 51 == 0 && !hasTextModels) {
                arch = .ramPlus
                numTags = le[0] / 51
                evidence = "has label_embed [\(le[0] / 51)*51, \(le[1])]" + (s["reweight_scale"] != nil ? " and reweight_scale" : "")
            } else {
                arch = .ram
                numTags = le[0]
                evidence = "has label_embed [\(le[0]), \(le[1])]" + (hasTextModels ? " and tag_encoder / text_decoder" : "")
            }
        } else if hasTextModels {
            arch = .ram; evidence = "has tag_encoder / text_decoder"
        }
        var backbone = Backbone.unknown
        if let pe = s["visual_encoder.patch_embed.proj.weight"], pe.count == 4 {
            if s["visual_encoder.cls_token"] != nil || s["visual_encoder.pos_embed"] != nil || pe[2] == 16 {
                backbone = .vit(embedDim: pe[0])
            } else {
                backbone = .swin(embedDim: pe[0])
            }
        }
        var window: Int? = nil
        if let k = s.keys.filter({ $0.hasPrefix("visual_encoder.") && $0.hasSuffix("relative_position_bias_table") }).sorted().first,
           let t = s[k], t.count == 2 {
            let side = Int(Double(t[0]).squareRoot().rounded())
            if side * side == t[0] { window = (side + 1) / 2 }
        }
        return CheckpointIdentity(arch: arch, archEvidence: evidence, backbone: backbone, numTags: numTags, windowSize: window)
    }

    public var backboneDescription: String {
        switch backbone {
        case .swin(let d):
            let name = d == 192 ? "Swin-L" : d == 128 ? "Swin-B" : "Swin"
            return "\(name) (embed_dim \(d)\(windowSize.map { ", window \($0)" } ?? ""))"
        case .vit(let d):
            let name = d == 1024 ? "ViT-L" : d == 768 ? "ViT-B" : "ViT"
            return "\(name) (embed_dim \(d))"
        case .unknown:
            return "unknown backbone"
        }
    }

    /// e.g. "RAM++ (has label_embed [4585*51, 512] and reweight_scale), Swin-L (embed_dim 192, window 12), 4585 tags"
    public var description: String {
        "\(arch.rawValue) (\(archEvidence)), \(backboneDescription)\(numTags.map { ", \($0) tags" } ?? "")"
    }
}

/// A pure rename/drop step applied to a state dict before the strict load (the reference's
/// `load_checkpoint_swinbase/swinlarge` in ram/models/utils.py): substring renames applied in
/// order (the reference replaces `vision_multi` with `tagging_head` anywhere in the key) and keys
/// dropped when they contain any of `dropContaining` (`relative_position_index`, `attn_mask`:
/// buffers the model recomputes).
public struct StateDictSanitizer {
    public var renames: [(from: String, to: String)]
    public var dropContaining: [String]

    public init(renames: [(from: String, to: String)] = [], dropContaining: [String] = []) {
        self.renames = renames; self.dropContaining = dropContaining
    }

    /// The reference's table for RAM / RAM++ checkpoints.
    public static let ramReference = StateDictSanitizer(
        renames: [("vision_multi", "tagging_head")],
        dropContaining: ["relative_position_index", "attn_mask"])

    public struct Result {
        public var tensors: [String: TensorData]
        public var renamed: [(from: String, to: String)]
        public var dropped: [String]
    }

    /// - Throws: `.invalidArgument` when a rename makes two keys collide.
    public func apply(_ tensors: [String: TensorData]) throws -> Result {
        var out: [String: TensorData] = [:]
        var renamed: [(String, String)] = [], dropped: [String] = []
        for k in tensors.keys.sorted() {
            if dropContaining.contains(where: { k.contains($0) }) { dropped.append(k); continue }
            var n = k
            for r in renames where n.contains(r.from) { n = n.replacingOccurrences(of: r.from, with: r.to) }
            if n != k { renamed.append((k, n)) }
            if out[n] != nil {
                throw CheckpointError(.invalidArgument, file: tensors[k]?.storage.store.origin ?? "",
                                      "after renaming, '\(k)' collides with another key '\(n)'")
            }
            out[n] = tensors[k]
        }
        return Result(tensors: out, renamed: renamed, dropped: dropped)
    }
}
