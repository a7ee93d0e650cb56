import Foundation
import RAMCheckpoint

/// What a RAM-family checkpoint is, read from its key names and shapes alone (for messages
/// such as "the file is RAM++ with Swin-L (window 12), 4,585 tags").
public struct RAMCheckpointIdentity: Equatable, CustomStringConvertible {
    /// `ram_plus`, `ram`, or nil when neither is recognisable.
    public var arch: String?
    /// `swin`, `vit`, or nil.
    public var backbone: String?
    /// Swin `embed_dim` / ViT width (128 Swin-B, 192 Swin-L, 768 ViT-B, 1024 ViT-L).
    public var width: Int?
    /// Swin window size, from the relative-position table of the first block.
    public var window: Int?
    /// ViT image size, from the position embedding's patch grid times the patch size (read from
    /// `patch_embed.proj.weight`, `[width, channels, patch, patch]`; 16 when it is absent).
    public var vitImageSize: Int?
    /// Number of tags (`label_embed` rows, divided by 51 for RAM++).
    public var numTags: Int?

    public var description: String {
        var parts: [String] = []
        switch arch {
        case "ram_plus": parts.append("RAM++ (ram_plus)")
        case "ram": parts.append("RAM (ram)")
        default: parts.append("not a RAM / RAM++ model")
        }
        if backbone == "swin" {
            let name = width == 128 ? "Swin-B" : width == 192 ? "Swin-L" : "Swin"
            parts.append("\(name) (embed_dim \(width.map(String.init) ?? "?"), window \(window.map(String.init) ?? "?"))")
        } else if backbone == "vit" {
            let name = width == 768 ? "ViT-B/16" : width == 1024 ? "ViT-L/16" : "ViT"
            parts.append("\(name) (width \(width.map(String.init) ?? "?"), image \(vitImageSize.map(String.init) ?? "?"))")
        }
        if let n = numTags { parts.append("\(n) tags") }
        return parts.joined(separator: ", ")
    }

    /// Reads the identity from a (sanitized or raw) state dict's shapes.
    public init(shapes: [String: [Int]]) {
        func shape(_ suffix: String) -> [Int]? {
            shapes[suffix] ?? shapes.first(where: { $0.key.hasSuffix(suffix) })?.value
        }
        if shapes["reweight_scale"] != nil { arch = "ram_plus" }
        else if shapes.keys.contains(where: { $0.hasPrefix("tag_encoder.") || $0.hasPrefix("text_decoder.") }) { arch = "ram" }
        if let le = shapes["label_embed"], le.count == 2 {
            numTags = arch == "ram_plus" ? le[0] / 51 : le[0]
        }
        if shapes.keys.contains(where: { $0.hasPrefix("visual_encoder.layers.") }) {
            backbone = "swin"
            width = shapes["visual_encoder.patch_embed.proj.weight"]?.first
            if let t = shapes["visual_encoder.layers.0.blocks.0.attn.relative_position_bias_table"], let rows = t.first {
                let side = Int(Double(rows).squareRoot().rounded())
                if side * side == rows { window = (side + 1) / 2 }
            }
        } else if shapes.keys.contains(where: { $0.hasPrefix("visual_encoder.blocks.") }) {
            backbone = "vit"
            let proj = shapes["visual_encoder.patch_embed.proj.weight"]
            width = proj?.first
            let patch = proj.flatMap { $0.count == 4 && $0[2] > 0 ? $0[2] : nil } ?? 16
            if let p = shape("visual_encoder.pos_embed"), p.count == 3, p[1] >= 1 {
                let side = Int(Double(p[1] - 1).squareRoot().rounded())
                if side * side == p[1] - 1 { vitImageSize = side * patch }
            }
        }
    }
}

/// The result of `RAMSanitizer.sanitize`: tensors named and shaped as the model expects, and
/// what was changed.
public struct SanitizedCheckpoint {
    public var tensors: [String: TensorData]
    /// Keys dropped as derived buffers (`relative_position_index`, `attn_mask`, `position_ids`).
    public var dropped: [String]
    /// `(from, to)` renames (`vision_multi.` → `tagging_head.`).
    public var renamed: [(String, String)]
    /// Keys filled from their tied twin (the checkpoint held only one copy).
    public var filledFromTwin: [String]
    /// Paddle Linear weights transposed back to `[out, in]`.
    public var transposed: [String]
    /// Keys whose relative-position tables need resizing: key → (from rows, to rows).
    public var needsResize: [String: (Int, Int)]
    /// For a `.pdparams` file: the Linear weight layout found in it (nil for other formats).
    public var paddleLayout: PaddleLinearLayout? = nil
}

/// How a `.pdparams` file stores its `nn.Linear` weights, decided once per file from the
/// non-square ones (a square weight fits either way, so its shape cannot tell).
public enum PaddleLinearLayout: Equatable {
    /// `[in, out]`, as Paddle's `nn.Linear` stores them: every Linear weight is transposed.
    case paddle
    /// `[out, in]`: the file was converted from torch without transposing; nothing is transposed.
    case torch
    /// No non-square Linear weight to tell from: assumed Paddle (every Linear weight transposed).
    case undetermined
}

/// Pure, per-model renames and fixes between a checkpoint and RAM / RAM++'s parameter names.
public enum RAMSanitizer {
    /// Derived buffers the reference recomputes (never loaded).
    public static func isDerivedBuffer(_ key: String) -> Bool {
        key.hasSuffix("relative_position_index") || key.hasSuffix("attn_mask") || key.hasSuffix("embeddings.position_ids")
    }

    /// The model's name for checkpoint key `key` (`vision_multi.` → `tagging_head.`).
    public static func modelName(_ key: String) -> String {
        key.hasPrefix("vision_multi.") ? "tagging_head." + key.dropFirst("vision_multi.".count) : key
    }

    /// - Parameters:
    ///   - tensors: the checkpoint's state dict.
    ///   - isPaddle: the file is a `.pdparams` pickle (Linear weights stored `[in, out]`).
    ///   - expected: the model's parameter names → shapes.
    ///   - linearWeights: names of the model's `nn.Linear` weights (for Paddle transposition).
    ///   - tiedGroups: groups of names that are one parameter in the model; a group member
    ///     missing from the file is filled from another member that is present.
    /// - Returns: the sanitized dict; shape / name problems are left for the strict comparison.
    ///   For Paddle, the Linear layout is decided once for the whole file (`paddleLinearLayout`):
    ///   `[in, out]` transposes every Linear weight (square ones too), `[out, in]` transposes none.
    /// - Throws: `CheckpointError.shapeMismatch` when a `.pdparams` file mixes the two layouts
    ///   (naming a weight of each); `CheckpointError.invalidArgument` from the transposition (never
    ///   for well-formed input).
    public static func sanitize(_ tensors: [String: TensorData], isPaddle: Bool, expected: [String: [Int]],
                                linearWeights: Set<String>, tiedGroups: [[String]]) throws -> SanitizedCheckpoint {
        var out: [String: TensorData] = [:]
        var dropped: [String] = [], renamed: [(String, String)] = []
        for (k, v) in tensors {
            if isDerivedBuffer(k) { dropped.append(k); continue }
            let name = modelName(k)
            if name != k { renamed.append((k, name)) }
            out[name] = v
        }
        var filled: [String] = []
        for group in tiedGroups {
            guard let present = group.first(where: { out[$0] != nil }) else { continue }
            for k in group where out[k] == nil {
                out[k] = out[present]
                filled.append(k)
            }
        }
        var transposed: [String] = []
        var layout: PaddleLinearLayout? = nil
        if isPaddle {
            let decided = try paddleLinearLayout(out, expected: expected, linearWeights: linearWeights)
            layout = decided
            if decided != .torch {
                // Paddle layout [in, out] (or no non-square weight to tell): transpose every Linear
                // weight, square ones included, whose transpose is the model's shape.
                var keys: Set<String> = []
                for k in linearWeights {
                    guard let t = out[k], t.shape.count == 2, let want = expected[k], want.count == 2 else { continue }
                    if t.shape == [want[1], want[0]] { keys.insert(k) }
                }
                out = try PaddleParams.transposingLinearWeights(out, keys: keys)
                transposed = keys.sorted()
            }
        }
        var resize: [String: (Int, Int)] = [:]
        for (k, t) in out where k.hasSuffix("relative_position_bias_table") {
            if let want = expected[k], want.count == 2, t.shape.count == 2, t.shape[1] == want[1], t.shape[0] != want[0] {
                resize[k] = (t.shape[0], want[0])
            }
        }
        return SanitizedCheckpoint(tensors: out, dropped: dropped.sorted(), renamed: renamed.sorted { $0.0 < $1.0 },
                                   filledFromTwin: filled.sorted(), transposed: transposed, needsResize: resize,
                                   paddleLayout: layout)
    }

    /// Decides a `.pdparams` file's Linear weight layout from its non-square Linear weights: all
    /// `[in, out]` → `.paddle`, all `[out, in]` → `.torch`, none → `.undetermined`. Weights whose
    /// shape is neither (wrong size) are left for the strict comparison.
    /// - Throws: `CheckpointError.shapeMismatch` naming the file and one weight of each layout when
    ///   some are `[in, out]` and others `[out, in]`: transposing either set would load wrong weights.
    public static func paddleLinearLayout(_ tensors: [String: TensorData], expected: [String: [Int]],
                                          linearWeights: Set<String>) throws -> PaddleLinearLayout {
        var inOut: [String] = [], outIn: [String] = []
        for k in linearWeights.sorted() {
            guard let t = tensors[k], t.shape.count == 2, let want = expected[k], want.count == 2, want[0] != want[1] else { continue }
            if t.shape == [want[1], want[0]] { inOut.append(k) } else if t.shape == want { outIn.append(k) }
        }
        switch (inOut.first, outIn.first) {
        case (let p?, let q?):
            let file = tensors[p]?.storage.store.origin ?? ""
            throw CheckpointError(.shapeMismatch, file: file,
                "the .pdparams file mixes Linear weight layouts: \(inOut.count) are stored [in, out] as Paddle does (e.g. '\(p)' \(tensors[p]!.shape)) and \(outIn.count) [out, in] as torch does (e.g. '\(q)' \(tensors[q]!.shape)); expected one layout for the whole file. Re-export it so every Linear weight has the same layout")
        case (_?, nil): return .paddle
        case (nil, _?): return .torch
        case (nil, nil): return .undetermined
        }
    }

    /// Compares names and shapes; returns nil when they match exactly, else a message listing
    /// every missing key, unexpected key and shape mismatch (up to `limit` of each, with counts),
    /// and what the file is compared with what the model is (`fileAsStored`: the shapes before
    /// any resizing, to describe the file as it is). `nonTensors` (the file's non-tensor entries,
    /// name → what was found, see `CheckpointContents.nonTensors`) turns a missing key that the
    /// file holds as something else into "present but not a tensor (found float 0.5)".
    public static func mismatchReport(file: [String: [Int]], model: [String: [Int]], limit: Int = 12,
                                      fileAsStored: [String: [Int]]? = nil, nonTensors: [String: String] = [:]) -> String? {
        let absent = model.keys.filter { file[$0] == nil }.sorted()
        let missing = absent.filter { nonTensors[$0] == nil }
        let notTensors = absent.filter { nonTensors[$0] != nil }
        let unexpected = file.keys.filter { model[$0] == nil }.sorted()
        let wrong = model.keys.compactMap { k -> (String, [Int], [Int])? in
            guard let f = file[k], let m = model[k], f != m else { return nil }
            return (k, m, f)
        }.sorted { $0.0 < $1.0 }
        if absent.isEmpty, unexpected.isEmpty, wrong.isEmpty { return nil }
        var lines: [String] = []
        let fileID = RAMCheckpointIdentity(shapes: fileAsStored ?? file), modelID = RAMCheckpointIdentity(shapes: model)
        lines.append("the file is \(fileID); the config builds \(modelID)")
        func list(_ title: String, _ items: [String]) {
            guard !items.isEmpty else { return }
            lines.append("\(items.count) \(title):")
            for s in items.prefix(limit) { lines.append("  \(s)") }
            if items.count > limit { lines.append("  ... and \(items.count - limit) more") }
        }
        list("present in the file but not a tensor", notTensors.map { "\($0): present but not a tensor (found \(nonTensors[$0]!))" })
        list("missing (in the model, not in the file)", missing)
        list("unexpected (in the file, not in the model)", unexpected)
        list("shape mismatches", wrong.map { "\($0.0): model \($0.1), file \($0.2)" })
        return lines.joined(separator: "\n")
    }
}
