import Foundation
import RAMCore
import RAMImage
import RAMTensor

/// Errors of the run loops (the config errors are `ConfigError`).
public enum EngineError: Error, CustomStringConvertible, LocalizedError {
    /// A command or feature that is not written yet.
    case notImplemented(String)
    /// No weights were given or found.
    case noCheckpoint(String)
    /// The data does not fit the model (image size, channels, ...).
    case badData(String)
    /// Some files could not be processed (each was reported as it happened).
    case someFilesFailed(failed: Int, total: Int)
    /// An output (file or folder) could not be written.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .notImplemented(what): return "\(what): not implemented yet"
        case let .noCheckpoint(m): return m
        case let .badData(m): return m
        case let .someFilesFailed(failed, total): return "\(failed) of \(total) file(s) could not be processed (see the messages above)"
        case let .cannotWrite(path, reason): return "cannot write '\(path)': \(reason)"
        }
    }

    public var errorDescription: String? { description }
}

/// Stacks each sample's image (float32, CHW, `3 × S × S`) into one `[B, 3, S, S]` batch tensor.
/// - Parameters:
///   - size: S, the square size the model expects.
///   - where_: names the transform list in error messages ("Infer.transforms").
/// - Throws: `EngineError.badData` naming the file and what the transforms produced, when an image
///   is missing, not float32 CHW (the list lacks `NormalizeImage` / `ToCHWImage`), or not `3 × S × S`.
public func stackImages(_ samples: [Sample], size: Int, where where_: String) throws -> Tensor {
    var scalars: [Float] = []
    scalars.reserveCapacity(samples.count * 3 * size * size)
    for s in samples {
        try checkImageKind(s, where: where_)
        try checkImageSize(s, size: size, where: where_)
        if case let .float32(px)? = s.image?.pixels { scalars.append(contentsOf: px) }
    }
    return Tensor(shape: [samples.count, 3, size, size], scalars: scalars)
}

/// Checks that the transforms left a float32 CHW image in `sample` (what the model takes).
/// - Throws: `EngineError.badData` naming the file, when there is no image or it is uint8 / HWC:
///   the transform list is incomplete, so every image would fail alike.
public func checkImageKind(_ sample: Sample, where where_: String) throws {
    let name = sample.path ?? "sample"
    guard let img = sample.image else {
        throw EngineError.badData("\(name): \(where_) produced no image (the list should start with DecodeImage)")
    }
    guard img.layout == .chw, case .float32 = img.pixels else {
        let kind: String
        switch img.pixels { case .uint8: kind = "uint8"; case .float32: kind = "float32" }
        throw EngineError.badData("\(name): \(where_) produced a \(kind) \(img.layout == .hwc ? "HWC" : "CHW") image; the model needs float32 CHW (end the list with NormalizeImage and ToCHWImage)")
    }
}

/// Checks that the image in `sample` is `3 × size × size`.
/// - Throws: `EngineError.badData` naming the file and the size the transforms produced.
public func checkImageSize(_ sample: Sample, size: Int, where where_: String) throws {
    let name = sample.path ?? "sample"
    guard let img = sample.image, case let .float32(px) = img.pixels,
          img.channels == 3, img.width == size, img.height == size, px.count == 3 * size * size else {
        let got = sample.image.map { "\($0.channels)×\($0.height)×\($0.width)" } ?? "no"
        throw EngineError.badData("\(name): \(where_) produced a \(got) image; the model needs 3×\(size)×\(size) (check ResizeImage / CropImage sizes against Arch.image_size)")
    }
}

/// `DataLoader.<mode>.loader` options (PaddleClas keys; one process here, so they are accepted and unused).
public struct LoaderOptions: Codable, ConfigDefaults {
    public var num_workers: Int = 0
    public var use_shared_memory: Bool = false
    public init() {}
}

/// A PaddleClas `DataLoader.<mode>` section: `dataset` (by `name`, with `transform_ops`),
/// `sampler` (by `name`), `loader`. Yields batches of transformed samples.
public struct DataPipeline {
    public let dataset: any Dataset
    public let sampler: any Sampler
    public let transforms: [any Transform]

    /// Builds `DataLoader.<mode>` from `config`.
    /// - Parameter mode: `Train`, `Eval`, ...
    /// - Throws: `ConfigError` for a missing section, unknown names (did you mean) or keys.
    public init(config: RunConfig, mode: String, registries: Registries) throws {
        let path = "DataLoader.\(mode)"
        guard let section = config.node(at: path) else {
            throw ConfigError.missingKey(path: "DataLoader", key: mode)
        }
        let allowed = ["dataset", "sampler", "loader"]
        for k in section.keys where !allowed.contains(k) {
            throw ConfigError.unknownKey(path: path, key: k, valid: allowed)
        }
        guard let ds = section["dataset"] else { throw ConfigError.missingKey(path: path, key: "dataset") }
        dataset = try RunConfig.buildNamed(registries.dataset, node: ds, path: "\(path).dataset",
                                           registries: registries, baseDirectory: config.baseDirectory)
        transforms = try RunConfig.buildList(registries.transform, node: ds["transform_ops"] ?? .null,
                                             path: "\(path).dataset.transform_ops", registries: registries,
                                             baseDirectory: config.baseDirectory)
        if let s = section["sampler"] {
            sampler = try RunConfig.buildNamed(registries.sampler, node: s, path: "\(path).sampler",
                                               registries: registries, baseDirectory: config.baseDirectory)
        } else {
            sampler = SequentialSampler()
        }
        if let l = section["loader"] {
            _ = try ConfigDecoding.decode(LoaderOptions.self, from: l, path: "\(path).loader")
        }
    }

    public init(dataset: any Dataset, sampler: any Sampler, transforms: [any Transform]) {
        self.dataset = dataset
        self.sampler = sampler
        self.transforms = transforms
    }

    /// The batches (sample indices) of one epoch.
    public func batches(epoch: Int) -> [[Int]] { sampler.batches(count: dataset.count, epoch: epoch) }

    /// Reads and transforms the samples of one batch.
    /// - Throws: `EngineError.badData` naming the sample (index and file) and the dataset's or
    ///   transform's error.
    public func load(_ batch: [Int]) throws -> [Sample] {
        try batch.map { i in
            var s = Sample()
            do {
                s = try dataset.sample(at: i)
                for t in transforms { try t.apply(&s) }
            } catch {
                throw EngineError.badData("sample \(i)\(s.path.map { " (\($0))" } ?? ""): \(error)")
            }
            return s
        }
    }
}

/// One sample per batch, in order (used when a `DataLoader` section names no sampler).
public struct SequentialSampler: Sampler {
    public init() {}
    public func batches(count: Int, epoch: Int) -> [[Int]] { (0..<count).map { [$0] } }
}
