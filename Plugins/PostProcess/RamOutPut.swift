import Foundation
import RAMCore
import RAMTensor

/// PaddleClas's `RamOutPut` post-processor: turns RAM / RAM++ logits into tags.
///
/// For image `b` and class `c`: `score[b, c] = sigmoid(logits[b, c])`; class `c` is output when
/// `score[b, c] > threshold[c]` (strictly greater) and `c` is not in `delete_tag_index`.
/// Output tags are in class-index order, joined by `" | "` (`""` when none pass), as the
/// reference's `generate_tag` (ram/models/ram_plus.py) and PaddleClas's
/// `ppcls/data/postprocess/ram_outputs.py` do.
///
/// Threshold precedence, per class `c` (documented in docs/tagging.md):
/// 1. `threshold` given explicitly (the PostProcess option, `0` included): every class uses it.
///    (PaddleClas lets the per-class file silently win over it; we treat an explicit value as the
///    user's override.)
/// 2. otherwise the per-class file (`ram_class_threshold_path`), line `c`, when the file has one;
/// 3. otherwise `defaultThreshold` (0.68, the reference's `threshold` default; the arch's
///    `threshold` when the engine passes it).
public struct RamOutPut: PostProcess {
    /// What `Prediction.labelNames` holds.
    public enum Language: String, CaseIterable {
        case cn, en, all
    }

    /// Tags in class-index order.
    public let tagList: [String]
    /// Chinese tags in the same order, when given.
    public let tagListChinese: [String]?
    /// One logit per tag of `tagList`.
    public var classCount: Int? { tagList.count }
    /// The effective threshold of every class (`[numTags]`, on sigmoid scores in 0...1).
    public let thresholds: [Float]
    /// Classes never output.
    public let deleteTagIndex: Set<Int>
    public let language: Language

    /// - Parameters:
    ///   - tagList: the English tags, one per class (the model's logits are in this order).
    ///   - tagListChinese: the Chinese tags, same order and count, or nil.
    ///   - classThresholds: per-class thresholds from a file (may be shorter than the tag list:
    ///     the rest use `defaultThreshold`), or nil.
    ///   - threshold: an explicit global threshold overriding everything else, or nil.
    ///   - defaultThreshold: the base threshold (reference default 0.68).
    ///   - deleteTagIndex: class indices never output.
    /// - Throws: `TagFileError` when the lists disagree in length, the file has more thresholds
    ///   than tags, an index is out of range, `threshold` is outside [0, 1], or `language` needs
    ///   the missing Chinese list.
    public init(tagList: [String], tagListChinese: [String]? = nil, classThresholds: [Float]? = nil,
                threshold: Float? = nil, defaultThreshold: Float = 0.68,
                deleteTagIndex: [Int] = [], language: Language = .cn,
                sourceNames: (tags: String, chinese: String, thresholds: String) = ("tag_list", "tag_list_chinese", "ram_class_threshold_path")) throws {
        if let cn = tagListChinese, cn.count != tagList.count {
            throw TagFileError.lengthMismatch(what: "tag_list_chinese", path: sourceNames.chinese,
                                              expected: tagList.count, found: cn.count, against: sourceNames.tags)
        }
        if tagListChinese == nil, language != .en {
            throw TagFileError.badOption(key: "language", value: language.rawValue,
                                         expected: "\"en\" (no tag_list_chinese is given), or give tag_list_chinese")
        }
        var th = [Float](repeating: defaultThreshold, count: tagList.count)
        if let file = classThresholds {
            if file.count > tagList.count {
                throw TagFileError.lengthMismatch(what: "ram_class_threshold_path", path: sourceNames.thresholds,
                                                  expected: tagList.count, found: file.count, against: sourceNames.tags)
            }
            for (i, v) in file.enumerated() { th[i] = v }
        }
        if let t = threshold {
            // Scores are sigmoid outputs in (0, 1): a threshold outside [0, 1] silently gives
            // every tag or none, which is never what a user meant.
            guard t.isFinite, t >= 0, t <= 1 else {
                throw TagFileError.badOption(key: "threshold", value: String(t),
                                             expected: "a score threshold in [0, 1] (tags pass when sigmoid(logit) > threshold)")
            }
            th = [Float](repeating: t, count: tagList.count)
        }
        for i in deleteTagIndex where i < 0 || i >= tagList.count {
            throw TagFileError.badOption(key: "delete_tag_index", value: String(i),
                                         expected: "class indices in 0..<\(tagList.count)")
        }
        self.tagList = tagList
        self.tagListChinese = tagListChinese
        self.thresholds = th
        self.deleteTagIndex = Set(deleteTagIndex)
        self.language = language
    }

    /// `1 / (1 + exp(-x))` in float32, as `torch.sigmoid` on a float32 tensor.
    @inlinable public static func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

    /// Post-processes `B` images' logits.
    /// - Parameters:
    ///   - logits: `[B, numTags]` row-major raw scores.
    ///   - files: `B` file names (or nil), in batch order.
    /// - Throws: `ConfigError.invalidValue` when the logits per image differ from the tag count.
    public func predictions(logits: [Float], files: [String?]) throws -> [Prediction] {
        let n = tagList.count
        let b = files.count
        guard n > 0, logits.count == b * n else {
            let perImage = b == 0 ? logits.count : logits.count / max(b, 1)
            throw ConfigError.invalidValue(path: "RamOutPut.tag_list", message: "the tag list has \(n) tags but the model outputs \(perImage) logits per image; give RamOutPut the tag list the model was built with (Arch.tag_list)")
        }
        var out: [Prediction] = []
        out.reserveCapacity(b)
        for i in 0..<b {
            var ids: [Int] = []
            var scores: [Float] = []
            for c in 0..<n where !deleteTagIndex.contains(c) {
                let s = RamOutPut.sigmoid(logits[i * n + c])
                if s > thresholds[c] { ids.append(c); scores.append(s) }
            }
            let en = ids.map { tagList[$0] }.joined(separator: " | ")
            var tags = ["en": en]
            var cn: String? = nil
            if let zh = tagListChinese {
                cn = ids.map { zh[$0] }.joined(separator: " | ")
                tags["cn"] = cn
            }
            let label: String
            switch language {
            case .en: label = en
            case .cn: label = cn ?? ""
            // PaddleClas prints f"en : {list}, cn: {list}": the lists' strings repr'd.
            case .all: label = "en : [\(pythonRepr(en))], cn: [\(pythonRepr(cn ?? ""))]"
            }
            out.append(Prediction(file: files[i], classIds: ids, scores: scores, labelNames: label, tags: tags))
        }
        return out
    }

    public func process(_ output: TaggingOutput, files: [String?]) throws -> [Prediction] {
        let logits = output.logits
        guard logits.rank == 2, logits.shape[0] == files.count else {
            throw TagFileError.lengthMismatch(what: "RamOutPut: logits batch", path: "(the model's logits, shape \(logits.shape))",
                                              expected: files.count, found: logits.rank == 2 ? logits.shape[0] : -1)
        }
        return try predictions(logits: logits.scalars, files: files)
    }
}
