// RAMDatasets: datasets and samplers by PaddleClas name (`MultiLabelDataset`, `ImageFolderDataset`,
// `BatchSampler`, `DistributedBatchSampler`).
import Foundation
import RAMCore

/// Registers `MultiLabelDataset`, `ImageFolderDataset`, `BatchSampler`, `DistributedBatchSampler`.
public enum DatasetsPlugin: RAMPlugin {
    public static func register(into registries: Registries) throws {
        try registries.dataset.register("MultiLabelDataset",
                                        summary: "PaddleClas label file: `path<TAB>0,1,0,...` multi-hot lines under image_root") { c in
            try MultiLabelDataset(config: c)
        }
        try registries.dataset.register("ImageFolderDataset",
                                        summary: "image_root/<class>/<image>: one class per sub-folder (sorted names)") { c in
            try ImageFolderDataset(config: c)
        }
        try registries.sampler.register("BatchSampler", summary: "batches in order, or shuffled per epoch (seeded)") { c in
            try BatchSampler(config: c)
        }
        try registries.sampler.register("DistributedBatchSampler",
                                        summary: "PaddleClas's sampler; one process here, so the same as BatchSampler") { c in
            try BatchSampler(config: c)
        }
    }
}

/// File extensions read as images (lower-case).
public let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "bmp", "webp", "tif", "tiff"]

/// Reads a file's bytes (RAMCore's `readInputFileBytes`).
/// - Throws: `ConfigError.unreadable` naming the file.
public func readFileBytes(_ path: String) throws -> [UInt8] { try readInputFileBytes(path) }

/// `MultiLabelDataset` options (PaddleClas keys).
public struct MultiLabelDatasetOptions: Codable, ConfigDefaults {
    /// The folder image paths in the label file are relative to.
    public var image_root: String = "."
    /// The label file: one `relative/path.jpg<delimiter>0,1,0,1` line per image (multi-hot).
    public var cls_label_path: String = ""
    /// Separates the path from the labels.
    public var delimiter: String = "\t"
    /// The transforms (`- DecodeImage: ...`); the pipeline applies them, not the dataset.
    public var transform_ops: ConfigNode? = nil
    /// PaddleClas's key, accepted (unused).
    public var label_ratio: Bool? = nil

    public init() {}
}

/// PaddleClas's `MultiLabelDataset`: a label file of `path<TAB>v0,v1,...` lines where `vi` is 1
/// when class i is present (ppcls/data/dataloader/multilabel_dataset.py). `Sample.labels` holds the
/// indices i with `vi != 0`.
public struct MultiLabelDataset: Dataset {
    public let paths: [String]
    public let labels: [[Int]]
    /// Classes per line (every line has the same count).
    public let numClasses: Int

    /// - Throws: `ConfigError` naming the label file and line for a malformed line, a missing file,
    ///   or lines with different class counts.
    public init(config: ComponentConfig) throws {
        let o = try config.decode(MultiLabelDatasetOptions.self)
        guard !o.cls_label_path.isEmpty else { throw ConfigError.missingKey(path: config.path, key: "cls_label_path") }
        let labelURL = try PathResolver.resolve(o.cls_label_path, what: "label file (\(config.path).cls_label_path)",
                                                baseDirectory: config.baseDirectory, allowResourceFallback: false)
        let root = try PathResolver.resolve(o.image_root, what: "image folder (\(config.path).image_root)",
                                            baseDirectory: config.baseDirectory, allowResourceFallback: false)
        var paths: [String] = [], labels: [[Int]] = []
        var width: Int? = nil
        for (i, line) in try RAMResources.readLines(of: labelURL).enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            let parts = t.components(separatedBy: o.delimiter)
            let here = "\(labelURL.path):\(i + 1)"
            guard parts.count == 2 else {
                throw ConfigError.invalidValue(path: here, message: "expected `path\(o.delimiter == "\t" ? "<TAB>" : o.delimiter)0,1,...`, got '\(line)'")
            }
            var positives: [Int] = []
            let values = parts[1].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            for (c, v) in values.enumerated() {
                guard let x = Double(v) else {
                    throw ConfigError.invalidValue(path: here, message: "label \(c) is '\(v)', expected 0 or 1")
                }
                if x != 0 { positives.append(c) }
            }
            if let w = width, w != values.count {
                throw ConfigError.invalidValue(path: here, message: "has \(values.count) labels; earlier lines have \(w)")
            }
            width = values.count
            paths.append(root.appendingPathComponent(parts[0]).path)
            labels.append(positives)
        }
        self.paths = paths
        self.labels = labels
        self.numClasses = width ?? 0
    }

    public var count: Int { paths.count }

    public func sample(at index: Int) throws -> Sample {
        var s = Sample(path: paths[index], bytes: try readFileBytes(paths[index]), labels: labels[index])
        s.labelCount = numClasses
        return s
    }
}

/// `ImageFolderDataset` options.
public struct ImageFolderDatasetOptions: Codable, ConfigDefaults {
    /// A folder with one sub-folder per class.
    public var image_root: String = "."
    /// The transforms; the pipeline applies them.
    public var transform_ops: ConfigNode? = nil

    public init() {}
}

/// One class per sub-folder of `image_root` (classes are the sorted sub-folder names; images are
/// the files with an image extension inside, recursively, sorted).
public struct ImageFolderDataset: Dataset {
    public let classNames: [String]
    public let paths: [String]
    public let labels: [Int]

    public init(config: ComponentConfig) throws {
        let o = try config.decode(ImageFolderDatasetOptions.self)
        let root = try PathResolver.resolve(o.image_root, what: "image folder (\(config.path).image_root)",
                                            baseDirectory: config.baseDirectory, allowResourceFallback: false)
        let fm = FileManager.default
        let subs = ((try? fm.contentsOfDirectory(atPath: root.path)) ?? []).filter {
            var d: ObjCBool = false
            return fm.fileExists(atPath: root.appendingPathComponent($0).path, isDirectory: &d) && d.boolValue && !$0.hasPrefix(".")
        }.sorted()
        guard !subs.isEmpty else {
            throw ConfigError.invalidValue(path: "\(config.path).image_root", message: "'\(root.path)' has no class sub-folders")
        }
        var paths: [String] = [], labels: [Int] = []
        for (c, name) in subs.enumerated() {
            let dir = root.appendingPathComponent(name)
            var files: [String] = []
            if let e = fm.enumerator(atPath: dir.path) {
                for case let rel as String in e where imageExtensions.contains((rel as NSString).pathExtension.lowercased()) {
                    // A folder named like an image (`x.jpg/`) is walked into, not taken as a sample.
                    let full = dir.appendingPathComponent(rel).path
                    var isDir: ObjCBool = false
                    if fm.fileExists(atPath: full, isDirectory: &isDir), isDir.boolValue { continue }
                    files.append(full)
                }
            }
            for f in files.sorted() {
                paths.append(f)
                labels.append(c)
            }
        }
        self.classNames = subs
        self.paths = paths
        self.labels = labels
    }

    public var count: Int { paths.count }

    public func sample(at index: Int) throws -> Sample {
        Sample(path: paths[index], bytes: try readFileBytes(paths[index]), labels: [labels[index]])
    }
}

/// `BatchSampler` / `DistributedBatchSampler` options (PaddleClas keys).
public struct BatchSamplerOptions: Codable, ConfigDefaults {
    public var batch_size: Int = 1
    public var drop_last: Bool = false
    public var shuffle: Bool = false
    /// Seeds the shuffle (epoch e uses seed + e).
    public var seed: Int = 0

    public init() {}
}

/// Consecutive batches of `batch_size` indices; shuffled per epoch with a fixed-seed generator
/// (SplitMix64 + Fisher–Yates) when `shuffle`; the last short batch dropped when `drop_last`.
public struct BatchSampler: Sampler {
    public let options: BatchSamplerOptions

    public init(config: ComponentConfig) throws {
        let o = try config.decode(BatchSamplerOptions.self)
        guard o.batch_size >= 1 else {
            throw ConfigError.invalidValue(path: "\(config.path).batch_size", message: "must be at least 1, got \(o.batch_size)")
        }
        options = o
    }

    public init(options: BatchSamplerOptions) { self.options = options }

    public func batches(count: Int, epoch: Int) -> [[Int]] {
        var order = Array(0..<count)
        if options.shuffle {
            var state = UInt64(bitPattern: Int64(options.seed &+ epoch)) &+ 0x9E37_79B9_7F4A_7C15
            func next() -> UInt64 {
                state = state &+ 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return z ^ (z >> 31)
            }
            if count > 1 {
                for i in stride(from: count - 1, to: 0, by: -1) {
                    let j = Int(next() % UInt64(i + 1))
                    order.swapAt(i, j)
                }
            }
        }
        var out: [[Int]] = []
        var i = 0
        while i < count {
            let b = Array(order[i..<min(i + options.batch_size, count)])
            if b.count < options.batch_size && options.drop_last { break }
            out.append(b)
            i += options.batch_size
        }
        return out
    }
}
