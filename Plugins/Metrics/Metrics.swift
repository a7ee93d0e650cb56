// RAMMetrics: evaluation metrics by PaddleClas name (`MultiLabelMAP`, `HammingDistance`).
import Foundation
import RAMCore
import RAMTensor

/// Registers `MultiLabelMAP` and `HammingDistance`.
public enum MetricsPlugin: RAMPlugin {
    public static func register(into registries: Registries) throws {
        try registries.metric.register("MultiLabelMAP",
                                       summary: "mean over classes of average precision of sigmoid scores (classes with a positive)") { c in
            _ = try c.decode(NoOptions.self)
            return MultiLabelMAP()
        }
        try registries.metric.register("HammingDistance",
                                       summary: "fraction of (image, class) decisions that differ from the labels at a score threshold") { c in
            HammingDistance(threshold: Float(try c.decode(HammingOptions.self).threshold))
        }
    }
}

struct NoOptions: Codable, ConfigDefaults {}

/// `HammingDistance` options.
public struct HammingOptions: Codable, ConfigDefaults {
    /// A class is predicted when sigmoid(logit) > threshold.
    public var threshold: Double = 0.5
    public init() {}
}

func sigmoid(_ x: Float) -> Float { 1 / (1 + Float(exp(Double(-x)))) }

/// Splits `logits [B, C]` into rows and checks that every sample has labels in 0..<C.
func rowsAndLabels(_ output: TaggingOutput, _ samples: [Sample], metric: String) throws -> (rows: [[Float]], labels: [Set<Int>], classes: Int) {
    let shape = output.logits.shape
    guard shape.count == 2, shape[0] == samples.count else {
        throw ConfigError.invalidValue(path: metric, message: "expected logits [\(samples.count), C], got \(shape)")
    }
    let c = shape[1]
    let flat = rowMajorScalars(output.logits)
    var rows: [[Float]] = [], labels: [Set<Int>] = []
    for (i, s) in samples.enumerated() {
        rows.append(Array(flat[(i * c)..<((i + 1) * c)]))
        guard let l = s.labels else {
            throw ConfigError.invalidValue(path: metric, message: "sample \(s.path ?? String(i)) has no labels")
        }
        if let w = s.labelCount, w != c {
            throw ConfigError.invalidValue(path: metric, message: "sample \(s.path ?? String(i)) has \(w) label values; the model has \(c) tags (check the label file against Arch.tag_list)")
        }
        if let bad = l.first(where: { $0 < 0 || $0 >= c }) {
            throw ConfigError.invalidValue(path: metric, message: "sample \(s.path ?? String(i)) has label \(bad), outside 0..<\(c)")
        }
        labels.append(Set(l))
    }
    return (rows, labels, c)
}

/// Mean average precision over classes: for each class with at least one positive image, images
/// are ranked by sigmoid score (descending; ties by arrival order) and
/// AP = (1 / #positives) · Σ over positives of precision at its rank (the non-interpolated AP of
/// scikit-learn's `average_precision_score`); the result is the mean AP over those classes.
public final class MultiLabelMAP: Metric {
    var scores: [[Float]] = []
    var labels: [Set<Int>] = []
    var classes = 0

    public init() {}

    public func reset() {
        scores = []
        labels = []
        classes = 0
    }

    public func update(_ output: TaggingOutput, samples: [Sample]) throws {
        let (rows, l, c) = try rowsAndLabels(output, samples, metric: "MultiLabelMAP")
        if classes != 0 && c != classes {
            throw ConfigError.invalidValue(path: "MultiLabelMAP", message: "batches disagree on the class count (\(classes) vs \(c))")
        }
        classes = c
        scores += rows.map { $0.map(sigmoid) }
        labels += l
    }

    public func result() -> [(name: String, value: Double)] {
        var aps: [Double] = []
        for k in 0..<classes {
            let positives = labels.filter { $0.contains(k) }.count
            if positives == 0 { continue }
            let order = scores.indices.sorted { scores[$0][k] > scores[$1][k] || (scores[$0][k] == scores[$1][k] && $0 < $1) }
            var hits = 0
            var sum = 0.0
            for (rank, i) in order.enumerated() where labels[i].contains(k) {
                hits += 1
                sum += Double(hits) / Double(rank + 1)
            }
            aps.append(sum / Double(positives))
        }
        return [("mAP", aps.isEmpty ? 0 : aps.reduce(0, +) / Double(aps.count))]
    }
}

/// The fraction of (image, class) pairs where "sigmoid(logit) > threshold" disagrees with the labels.
public final class HammingDistance: Metric {
    let threshold: Float
    var wrong = 0
    var total = 0

    public init(threshold: Float) { self.threshold = threshold }

    public func reset() {
        wrong = 0
        total = 0
    }

    public func update(_ output: TaggingOutput, samples: [Sample]) throws {
        let (rows, labels, c) = try rowsAndLabels(output, samples, metric: "HammingDistance")
        for (r, l) in zip(rows, labels) {
            for k in 0..<c where (sigmoid(r[k]) > threshold) != l.contains(k) { wrong += 1 }
            total += c
        }
    }

    public func result() -> [(name: String, value: Double)] {
        [("HammingDistance", total == 0 ? 0 : Double(wrong) / Double(total))]
    }
}
