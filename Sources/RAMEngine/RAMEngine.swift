// RAMEngine: the train / eval / infer / export / predict loops, generic over the component
// protocols of RAMCore. It knows nothing of RAM: every part is built by name from the registries.
import Foundation
import Logging
import RAMCheckpoint
import RAMCore
import RAMImage
import RAMTensor

/// How `infer` prints predictions.
public enum OutputFormat: String, CaseIterable {
    /// PaddleClas's print: `{'file_name': ..., 'class_ids': [...], 'scores': [...], 'label_names': '...'}` per image.
    case text
    /// One JSON object per line: `file`, `tags_en`, `tags_cn`, `class_ids`, `scores`.
    case json
    /// A header line, then `file,class_ids,scores,tags_en,tags_cn` rows (ids and scores space-separated).
    case csv
}

/// `Infer` section (PaddleClas keys).
public struct InferSection: Codable, ConfigDefaults {
    /// An image file, a folder (searched recursively), or a list of them.
    public var infer_imgs: ConfigNode? = nil
    public var batch_size: Int = 1
    /// The transform list (`- DecodeImage: ...`), built by `Engine`.
    public var transforms: ConfigNode? = nil
    /// The post-processor (`name: RamOutPut`, ...), built by `Engine`.
    public var PostProcess: ConfigNode? = nil
    public init() {}
}

/// The official checkpoints, named in the "no checkpoint" error.
public let officialCheckpointHelp = """
    RAMKit does not download weights. Get an official checkpoint from the recognize-anything release: \
    ram_plus_swin_large_14m.pth (RAM++, Hugging Face xinyu1205/recognize-anything-plus-model) or \
    ram_swin_large_14m.pth (RAM, Hugging Face xinyu1205/recognize_anything_model), \
    and pass it with -o Global.pretrained_model=PATH
    """

/// Runs the commands of a config.
public final class Engine {
    public let config: RunConfig
    public let registries: Registries
    let logger = Logger(label: "ramkit.engine")

    /// Checks `Global` and `AMP` strictly (unknown keys are errors) and logs what runs differently here.
    public init(config: RunConfig, registries: Registries) throws {
        self.config = config
        self.registries = registries
        let g = try config.global()
        let amp = try config.amp()
        if g.device.lowercased() != "cpu" {
            logger.notice("Global.device is '\(g.device)'; this build runs on the CPU")
        }
        if amp.use_amp { logger.notice("AMP.use_amp is set; RAMKit computes in float32 on the CPU") }
    }

    // MARK: model

    /// Builds `Arch` by name and loads `Global.pretrained_model`.
    /// - Throws: `ConfigError` for the arch config; `EngineError.noCheckpoint` naming the official
    ///   files when no checkpoint is given or found; the model's loading errors.
    public func buildModel(loadWeights: Bool = true) throws -> any TaggingModel {
        let model = try config.buildNamed(registries.arch, at: "Arch", registries: registries)
        if loadWeights {
            let url = try checkpointURL()
            guard let loadable = model as? PretrainedLoadable else {
                throw EngineError.notImplemented("loading weights into Arch '\(config.node(at: "Arch.name")?.stringValue ?? "?")' (it does not implement PretrainedLoadable)")
            }
            let summary = try loadable.loadPretrained(from: url)
            logger.info("\(summary)")
        }
        return model
    }

    /// `Global.pretrained_model` resolved (working directory, then the config's folder; PaddleClas
    /// also writes it without the `.pdparams` extension, which is tried too).
    public func checkpointURL() throws -> URL {
        let g = try config.global()
        guard let given = g.pretrained_model, !given.isEmpty else {
            throw EngineError.noCheckpoint("no checkpoint: Global.pretrained_model is not set. " + officialCheckpointHelp)
        }
        do {
            return try PathResolver.resolve(given, what: "checkpoint (Global.pretrained_model)",
                                            baseDirectory: config.baseDirectory, allowResourceFallback: false)
        } catch let ConfigError.fileNotFound(_, _, looked) {
            if !given.hasSuffix(".pdparams"),
               let u = try? PathResolver.resolve(given + ".pdparams", what: "checkpoint", baseDirectory: config.baseDirectory,
                                                 allowResourceFallback: false) {
                return u
            }
            throw EngineError.noCheckpoint("checkpoint '\(given)' (Global.pretrained_model) not found; looked at: \(looked.joined(separator: ", ")). " + officialCheckpointHelp)
        }
    }

    // MARK: infer

    /// `infer` packs the linear weights of the model it builds (`packLinearLayersForInference`)
    /// when it has at least this many images to tag. Packing RAM++ Swin-L/384 costs 0.36–0.43 s
    /// once and saves an estimated 0–4 % per image (docs/tagging.md); from 16 images on, it
    /// costs at most about 1 % of the job.
    nonisolated(unsafe) public static var packWeightsFromImageCount = 16

    /// The post-processor: `Infer.PostProcess` (`name:` style), else the top-level `PostProcess`
    /// (`name:` style, or PaddleClas deploy style `main_indicator: RamOutPut` + `RamOutPut: {...}`).
    public func buildPostProcess() throws -> any PostProcess {
        if config.node(at: "Infer.PostProcess") != nil {
            return try config.buildNamed(registries.postProcess, at: "Infer.PostProcess", registries: registries)
        }
        if let pp = config.node(at: "PostProcess") {
            if pp["name"] != nil { return try config.buildNamed(registries.postProcess, at: "PostProcess", registries: registries) }
            if case let .string(main)? = pp["main_indicator"] {
                let cfg = ComponentConfig(path: "PostProcess.\(main)", node: pp[main] ?? .null, registries: registries,
                                          baseDirectory: config.baseDirectory)
                return try registries.postProcess.build(main, cfg)
            }
            throw ConfigError.missingKey(path: "PostProcess", key: "name")
        }
        throw ConfigError.invalidValue(path: "Infer.PostProcess", message: "is required but missing (a top-level PostProcess section works too), e.g. {name: RamOutPut, language: en}")
    }

    /// The image files `Infer.infer_imgs` names (files as given; folders searched recursively for
    /// image extensions), sorted within each folder.
    /// - Throws: `ConfigError.fileNotFound` naming every place looked at; `.invalidValue` when no image is found.
    public func inferImages() throws -> [String] {
        let section = try inferSection()
        let globalImgs = try config.global().infer_imgs
        guard let node = section.infer_imgs ?? globalImgs else {
            throw ConfigError.missingKey(path: "Infer", key: "infer_imgs")
        }
        let items: [ConfigNode]
        switch node {
        case let .list(l): items = l
        default: items = [node]
        }
        if items.isEmpty {
            throw ConfigError.invalidValue(path: "Infer.infer_imgs", message: "the list is empty; give an image file, a folder, or a list of them")
        }
        var files: [String] = []
        for (i, item) in items.enumerated() {
            let key = items.count > 1 ? "Infer.infer_imgs.\(i)" : "Infer.infer_imgs"
            guard case let .string(p) = item else {
                throw ConfigError.typeMismatch(path: key, expected: "a file or folder path", found: item.shortDescription)
            }
            // An empty path (`-o Infer.infer_imgs=`) would resolve to the working directory and
            // tag every image under it (build folders included).
            if p.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ConfigError.invalidValue(path: key, message: "the path is empty; give an image file or a folder")
            }
            let url = try PathResolver.resolve(p, what: "image or folder (\(key))", baseDirectory: config.baseDirectory,
                                               allowResourceFallback: false)
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir)   // resolve() checked that it exists
            if isDir.boolValue {
                var found: [String] = []
                if let e = FileManager.default.enumerator(atPath: url.path) {
                    for case let rel as String in e {
                        let ext = (rel as NSString).pathExtension.lowercased()
                        guard Engine.imageExtensions.contains(ext) else { continue }
                        // A folder named like an image (`x.jpg/`) is walked into, not read as an image.
                        let full = url.appendingPathComponent(rel).path
                        var entryIsDir: ObjCBool = false
                        if FileManager.default.fileExists(atPath: full, isDirectory: &entryIsDir), entryIsDir.boolValue { continue }
                        found.append(full)
                    }
                }
                if found.isEmpty {
                    throw ConfigError.invalidValue(path: key, message: "no images (\(Engine.imageExtensions.sorted().joined(separator: ", "))) under '\(url.path)'")
                }
                files += found.sorted()
            } else {
                files.append(url.path)
            }
        }
        return files
    }

    /// File extensions `infer` picks up in folders.
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "bmp", "webp", "tif", "tiff"]

    func inferSection() throws -> InferSection {
        try ConfigDecoding.decode(InferSection.self, from: config.node(at: "Infer") ?? .map([]), path: "Infer")
    }

    /// Tags every image of `Infer.infer_imgs`.
    ///
    /// Builds the post-processor, the transforms (`Infer.transforms`) and the model (`Arch`, with
    /// `Global.pretrained_model`), then per batch of `Infer.batch_size`: reads and transforms each
    /// file, stacks the images into `[B, 3, S, S]`, runs `forward`, post-processes, and passes each
    /// line of output to `write`. A file that cannot be read or transformed is reported on `report`
    /// and skipped.
    /// - Parameters:
    ///   - model: a model to use instead of building `Arch` (tests); nil builds it, with its
    ///     linear layers packed for inference (`Module.packLinearLayersForInference`) when there
    ///     are at least `packWeightsFromImageCount` images.
    ///   - write: receives each output line (without newline).
    ///   - report: receives per-file error messages and progress (stderr in the CLI).
    /// - Returns: the predictions and the failed files.
    /// - Throws: config errors before anything runs; `EngineError.badData` when the transforms
    ///   produce images the model cannot take: not float32 CHW, or no image at all at
    ///   `3 × S × S` (thrown at the end). An image of another size is otherwise skipped and
    ///   reported, as unreadable files are.
    @discardableResult
    public func infer(format: OutputFormat = .text, model: (any TaggingModel)? = nil,
                      write: (String) -> Void, report: @escaping (String) -> Void = { _ in },
                      progress: Bool = false) throws -> (predictions: [Prediction], failures: [(file: String, error: String)]) {
        let section = try inferSection()
        guard section.batch_size >= 1 else {
            throw ConfigError.invalidValue(path: "Infer.batch_size", message: "must be at least 1, got \(section.batch_size)")
        }
        let files = try inferImages()
        let transforms = try config.buildList(registries.transform, at: "Infer.transforms", registries: registries)
        guard !transforms.isEmpty else {
            throw ConfigError.invalidValue(path: "Infer.transforms", message: "the list is empty; it needs at least DecodeImage, ResizeImage, NormalizeImage and ToCHWImage (see configs/ram_plus_swin_large_384.yaml)")
        }
        let post = try buildPostProcess()
        let given = model
        let model = try given ?? buildModel()
        if let n = post.classCount, n != model.numTags {
            throw ConfigError.invalidValue(path: "PostProcess", message: "its tag list has \(n) tags but the model (Arch) gives \(model.numTags) logits per image; use the tag list the checkpoint was trained with (Arch.tag_list / PostProcess.tag_list)")
        }
        // A model built here serves only this run. With enough images its linear weights are
        // packed for the GEMM once (the same results for 6 rows or more, no more memory; see
        // packWeightsFromImageCount). A model passed in is left as it is (the caller may still
        // train or export it).
        if given == nil && files.count >= Engine.packWeightsFromImageCount { model.packLinearLayersForInference() }
        let size = model.imageSize

        var predictions: [Prediction] = []
        var failures: [(file: String, error: String)] = []
        var fitted = 0   // images that came out of the transforms at the model's size
        var firstMisfit: Error? = nil
        var warnedNaN = false
        if format == .csv { write("file,class_ids,scores,tags_en,tags_cn") }
        let bar = ProgressBar(total: files.count, enabled: progress && files.count > 3, report: report)
        var start = 0
        while start < files.count {
            let chunk = Array(files[start..<min(start + section.batch_size, files.count)])
            start += chunk.count
            var samples: [Sample] = []
            func skip(_ f: String, _ error: Error) {
                let message = "\(error)"
                failures.append((f, message))
                // Most errors already start with the file's path: do not say it twice.
                report("ram: skipping \(message.hasPrefix(f) ? message : "\(f): \(message)")")
            }
            for f in chunk {
                var s: Sample
                do {
                    s = Sample(path: f, bytes: try readBytes(f))
                    for t in transforms { try t.apply(&s) }
                } catch { skip(f, error); continue }
                // Not float32 CHW: the transform list is incomplete, a config error (stops the run).
                try checkImageKind(s, where: "Infer.transforms")
                do { try checkImageSize(s, size: size, where: "Infer.transforms") } catch {
                    // An image of another size is skipped (e.g. resize_short without a crop, on a
                    // photo that is not square); if none fits, the run ends with the config error.
                    firstMisfit = firstMisfit ?? error
                    skip(f, error); continue
                }
                fitted += 1
                samples.append(s)
            }
            bar.advance(by: chunk.count)
            if samples.isEmpty { continue }
            let batch = try stackImages(samples, size: size, where: "Infer.transforms")
            let output = withNoGrad { model.forward(batch) }   // inference: no tape, no saved activations
            // NaN logits pass no threshold: every image would silently get no tags.
            if !warnedNaN && output.logits.scalars.contains(where: { $0.isNaN }) {
                warnedNaN = true
                logger.warning("the model gives NaN logits (a checkpoint with NaN or infinite weights?): no tag can pass a threshold")
            }
            let preds = try post.process(output, files: samples.map { $0.path })
            for p in preds {
                write(Engine.format(p, as: format))
            }
            predictions += preds
        }
        bar.finish()
        // Every image came out at another size: the transforms cannot feed this model.
        if fitted == 0, let e = firstMisfit { throw e }
        return (predictions, failures)
    }

    func readBytes(_ path: String) throws -> [UInt8] { try readInputFileBytes(path) }

    // MARK: output

    /// One prediction as one line of `format` (the CSV header is written by `infer`).
    public static func format(_ p: Prediction, as format: OutputFormat) -> String {
        let file = p.file ?? ""
        let scores = p.scores.map { roundedText($0) }
        switch format {
        case .text:
            return "{'file_name': \(pythonRepr(file)), 'class_ids': [\(p.classIds.map(String.init).joined(separator: ", "))], 'scores': [\(scores.joined(separator: ", "))], 'label_names': \(pythonRepr(p.labelNames))}"
        case .json:
            let en = p.tags["en"].map(jsonString) ?? "null"
            let cn = p.tags["cn"].map(jsonString) ?? "null"
            return "{\"file\": \(jsonString(file)), \"tags_en\": \(en), \"tags_cn\": \(cn), \"class_ids\": [\(p.classIds.map(String.init).joined(separator: ", "))], \"scores\": [\(scores.joined(separator: ", "))]}"
        case .csv:
            return [file, p.classIds.map(String.init).joined(separator: " "), scores.joined(separator: " "),
                    p.tags["en"] ?? "", p.tags["cn"] ?? ""].map(csvField).joined(separator: ",")
        }
    }

    /// A score rounded to 5 decimals, as PaddleClas prints them.
    static func roundedText(_ x: Float) -> String {
        let r = (Double(x) * 100000).rounded() / 100000
        return "\(r)"
    }

    /// A JSON string literal (the same escaping as the safetensors header writer).
    public static func jsonString(_ s: String) -> String { SafeTensors.jsonString(s) }

    static func csvField(_ s: String) -> String {
        if s.contains(",") || s.contains("\"") || s.contains("\n") || s.hasPrefix(" ") || s.hasSuffix(" ") {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    // MARK: training components

    /// The learning-rate schedule `Optimizer.lr` (by `name`), given `epochs: Global.epochs` when
    /// the section leaves it out (as PaddleClas passes the run's length to its schedules).
    public func buildLRScheduler() throws -> any LRScheduler {
        guard var node = config.node(at: "Optimizer.lr") else { throw ConfigError.missingKey(path: "Optimizer", key: "lr") }
        if case .map = node, node["epochs"] == nil { node["epochs"] = .int(try config.global().epochs) }
        return try RunConfig.buildNamed(registries.lrScheduler, node: node, path: "Optimizer.lr",
                                        registries: registries, baseDirectory: config.baseDirectory)
    }

    // MARK: the other commands

    /// Training (`ram train`).
    /// - Throws: `EngineError.notImplemented` (the training loop is not written yet).
    public func train() throws {
        throw EngineError.notImplemented("ram train (the training loop)")
    }

    /// Evaluation (`ram eval`): the `Metric.Eval` metrics of the model over `DataLoader.Eval`.
    ///
    /// Builds the pipeline (dataset, its `transform_ops`, sampler), the metrics (operator list) and
    /// the model (`Arch` + `Global.pretrained_model`), then per batch: loads and transforms the
    /// samples, stacks `[B, 3, S, S]`, runs `forward` without a tape and updates every metric.
    /// `Loss.Eval` is not computed (no losses are written yet).
    /// - Parameters:
    ///   - model: a model to use instead of building `Arch` (tests); nil builds it.
    ///   - report: progress lines (stderr in the CLI).
    /// - Returns: every metric's values, in `Metric.Eval` order.
    /// - Throws: config errors before anything runs; a sample that cannot be read or transformed
    ///   (skipping it would change the metric), naming it.
    public func eval(model: (any TaggingModel)? = nil, report: @escaping (String) -> Void = { _ in },
                     progress: Bool = false) throws -> [(name: String, value: Double)] {
        let pipe = try DataPipeline(config: config, mode: "Eval", registries: registries)
        let metrics = try config.buildList(registries.metric, at: "Metric.Eval", registries: registries)
        guard !metrics.isEmpty else { throw ConfigError.missingKey(path: "Metric", key: "Eval") }
        let model = try model ?? buildModel()
        for m in metrics { m.reset() }
        let batches = pipe.batches(epoch: 0)
        let bar = ProgressBar(total: pipe.dataset.count, enabled: progress && pipe.dataset.count > 3, report: report)
        for batch in batches {
            let samples = try pipe.load(batch)
            let x = try stackImages(samples, size: model.imageSize, where: "DataLoader.Eval.dataset.transform_ops")
            let output = withNoGrad { model.forward(x) }
            for m in metrics { try m.update(output, samples: samples) }
            bar.advance(by: batch.count)
        }
        bar.finish()
        return metrics.flatMap { $0.result() }
    }

    /// Export (`ram export`): builds `Arch`, loads `Global.pretrained_model`, and writes into
    /// `Global.save_inference_dir` the model's state dict as float32 safetensors
    /// (`inference.safetensors`, PyTorch names) and the resolved config (`inference.yaml`, its
    /// `Global.pretrained_model` pointing at the safetensors file, which resolves from that folder;
    /// relative paths to existing files made absolute).
    /// Both files are written atomically.
    /// - Returns: the two files.
    /// - Throws: config / checkpoint errors; `EngineError.cannotWrite` naming a file or folder that cannot be written (a folder on the way that is a file is named); `ConfigError.invalidValue` for an empty `Global.save_inference_dir`. The weights' temporary file that an interrupted export left (its process gone) is removed first (the config's writer, Foundation's, names its temporary files otherwise).
    @discardableResult
    public func export(model: (any TaggingModel)? = nil) throws -> (weights: URL, config: URL) {
        let g = try config.global()
        // An empty value would export into the working directory.
        guard !g.save_inference_dir.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ConfigError.invalidValue(path: "Global.save_inference_dir", message: "the path is empty; give the folder to export to")
        }
        let model = try model ?? buildModel()
        let given = (g.save_inference_dir as NSString).expandingTildeInPath
        let joined = given.hasPrefix("/") ? given : FileManager.default.currentDirectoryPath + "/" + given
        do {
            try FileManager.default.createDirectory(atPath: joined, withIntermediateDirectories: true)
        } catch {
            let shown = URL(fileURLWithPath: lexicallyNormalizedPath(joined))
            throw EngineError.cannotWrite(path: shown.path, reason: "cannot create the folder (Global.save_inference_dir): \(createFailureReason(shown, error))")
        }
        let dir = existingPathURL(joined)
        Engine.removeStaleTemporaryFiles(in: dir, for: ["inference.safetensors"])
        var tensors: [String: (shape: [Int], floats: [Float])] = [:]
        for (name, t) in model.stateDict() { tensors[name] = (t.shape, t.scalars) }
        let weights = dir.appendingPathComponent("inference.safetensors")
        let arch = config.node(at: "Arch.name")?.stringValue ?? ""
        try SafeTensors.write(tensors, metadata: ["format": "pt", "ramkit_arch": arch], to: weights)
        var root = absolutizingPaths(config.root)
        var global = root["Global"] ?? .map([])
        global["pretrained_model"] = .string("inference.safetensors")
        root["Global"] = global
        let exported = try RunConfig(root: root, file: dir.appendingPathComponent("inference.yaml"))
        let cfgURL = dir.appendingPathComponent("inference.yaml")
        try Engine.saveResolvedConfig(exported, to: cfgURL, source: config.file)
        logger.info("exported \(tensors.count) tensors to \(weights.path) and the config to \(cfgURL.path)")
        return (weights, cfgURL)
    }

    /// `node` with every relative path that names an existing file or folder (from the working
    /// directory or the config's folder) made absolute, so a copy of the config works from anywhere.
    /// Only strings that look like paths (contain `/`, or end in a file extension) are tried.
    func absolutizingPaths(_ node: ConfigNode) -> ConfigNode {
        switch node {
        case let .string(s):
            guard !s.isEmpty, !s.hasPrefix("/"), s.contains("/") || !(s as NSString).pathExtension.isEmpty,
                  let url = try? PathResolver.resolve(s, baseDirectory: config.baseDirectory, allowResourceFallback: false)
            else { return node }
            return .string(url.path)
        case let .list(l): return .list(l.map(absolutizingPaths))
        case let .map(m): return .map(m.map { ($0.key, absolutizingPaths($0.value)) })
        default: return node
        }
    }

    /// Deploy-style prediction (`ram predict`, PaddleClas `deploy/python/predict_cls.py` with
    /// `deploy/configs/inference_*.yaml`): runs the model `ram export` wrote to
    /// `Global.inference_model_dir` (its `inference.yaml` gives `Arch` and the weights) on
    /// `Global.infer_imgs` in batches of `Global.batch_size`, with `DecodeImage` (RGB) followed by
    /// `PreProcess.transform_ops`, and this config's `PostProcess` (`main_indicator` style or `name:`).
    /// - Returns: as `infer`.
    /// - Throws: `ConfigError` naming the missing key or file (`inference.yaml` not found: run `ram export`).
    @discardableResult
    public func predict(format: OutputFormat = .text, write: (String) -> Void, report: @escaping (String) -> Void = { _ in },
                        progress: Bool = false) throws -> (predictions: [Prediction], failures: [(file: String, error: String)]) {
        let g = try config.global()
        guard let modelDir = g.inference_model_dir, !modelDir.isEmpty else {
            throw ConfigError.missingKey(path: "Global", key: "inference_model_dir")
        }
        guard let imgs = g.infer_imgs else { throw ConfigError.missingKey(path: "Global", key: "infer_imgs") }
        let dir = try PathResolver.resolve(modelDir, what: "exported model folder (Global.inference_model_dir)",
                                           baseDirectory: config.baseDirectory, allowResourceFallback: false)
        let exportedURL = dir.appendingPathComponent("inference.yaml")
        guard FileManager.default.fileExists(atPath: exportedURL.path) else {
            throw ConfigError.fileNotFound(what: "exported config (run `ram export` first)", given: "inference.yaml",
                                           lookedAt: [exportedURL.path])
        }
        let exported = try RunConfig.load(path: exportedURL.path)
        guard let arch = exported.node(at: "Arch") else { throw ConfigError.missingKey(path: exportedURL.path, key: "Arch") }
        let weights = try exported.global().pretrained_model ?? "inference.safetensors"
        let weightsURL = try PathResolver.resolve(weights, what: "exported weights", baseDirectory: dir, allowResourceFallback: false)

        var transforms: [ConfigNode] = [.map([("DecodeImage", .map([("to_rgb", .bool(true)), ("channel_first", .bool(false))]))])]
        if case let .list(ops)? = config.node(at: "PreProcess.transform_ops") { transforms += ops }
        var post: ConfigNode
        if let pp = config.node(at: "PostProcess"), case let .string(main)? = pp["main_indicator"] {
            post = (pp[main] ?? .map([])).isNull ? .map([]) : (pp[main] ?? .map([]))
            post = .map([("name", .string(main))] + (post.mapPairs ?? []))
        } else if let pp = config.node(at: "PostProcess") {
            post = pp
        } else {
            throw ConfigError.missingKey(path: "", key: "PostProcess")
        }
        // absolute paths, so the run config below resolves them as this config would
        let absImgs: ConfigNode
        switch imgs {
        case let .string(p): absImgs = .string(try PathResolver.resolve(p, what: "image or folder (Global.infer_imgs)", baseDirectory: config.baseDirectory, allowResourceFallback: false).path)
        default: absImgs = imgs
        }
        let root = ConfigNode.map([
            ("Global", .map([("pretrained_model", .string(weightsURL.path))])),
            ("Arch", arch),
            ("Infer", .map([("infer_imgs", absImgs), ("batch_size", .int(g.batch_size ?? 1)),
                            ("transforms", .list(transforms)), ("PostProcess", post)])),
        ])
        let run = try Engine(config: RunConfig(root: root, file: config.file), registries: registries)
        return try run.infer(format: format, write: write, report: report, progress: progress)
    }

    /// Writes the resolved config atomically (temp file + rename), as training saves it next to its outputs.
    /// - Parameter source: the config file it came from, named in the header line (default: `config.file`).
    /// - Throws: `EngineError.cannotWrite` naming the file when it cannot be written.
    public static func saveResolvedConfig(_ config: RunConfig, to url: URL, source: URL? = nil) throws {
        let text = "# resolved RAMKit config" + ((source ?? config.file).map { " (from \($0.path))" } ?? "") + "\n" + config.yamlText()
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw EngineError.cannotWrite(path: url.path, reason: "cannot create its folder: \(createFailureReason(folder, error))")
        }
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw EngineError.cannotWrite(path: url.path, reason: createFailureReason(folder, error))
        }
    }
}

extension Engine {
    /// Removes `.<name>.tmp-<pid>-<n>` files (the temporary files of RAMCheckpoint's atomic
    /// safetensors writer) that a run killed mid-write left in `dir`, when the process `<pid>` is
    /// gone. A live writer's file is left alone.
    static func removeStaleTemporaryFiles(in dir: URL, for names: [String]) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return }
        for entry in entries {
            guard let name = names.first(where: { entry.hasPrefix(".\($0).tmp-") }) else { continue }
            let rest = entry.dropFirst(".\(name).tmp-".count)
            guard let pid = rest.split(separator: "-").first.flatMap({ Int32($0) }), pid > 0 else { continue }
            if kill(pid, 0) == 0 || errno != ESRCH { continue }   // still running (or not ours to judge)
            try? FileManager.default.removeItem(at: dir.appendingPathComponent(entry))
            Logger(label: "ramkit.engine").info("removed \(entry), left in \(dir.path) by an interrupted run (process \(pid))")
        }
    }
}

/// Why a folder could not be created: the first part of its path that exists and is not a
/// folder, or the system's reason.
func createFailureReason(_ dir: URL, _ error: Error) -> String {
    var p = dir.standardizedFileURL
    var parts: [URL] = []
    while p.path != "/" { parts.append(p); p = p.deletingLastPathComponent() }
    for q in parts.reversed() {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: q.path, isDirectory: &isDir) {
            if !isDir.boolValue { return "'\(q.path)' is a file, not a folder" }
        } else {
            break
        }
    }
    let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
    if let u = underlying, u.domain == NSPOSIXErrorDomain, let code = POSIXErrorCode(rawValue: Int32(u.code)) {
        return String(cString: strerror(code.rawValue))
    }
    return error.localizedDescription
}

/// A one-line progress bar on stderr (`[#####     ] 12/40`).
final class ProgressBar {
    let total: Int
    let enabled: Bool
    let report: (String) -> Void
    var done = 0
    var lastShown = -1
    let tty = isatty(2) != 0

    init(total: Int, enabled: Bool, report: @escaping (String) -> Void) {
        self.total = total
        self.enabled = enabled
        self.report = report
    }

    func advance(by n: Int) {
        done += n
        guard enabled else { return }
        let width = 30
        let filled = total == 0 ? width : done * width / total
        let line = "[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "] \(done)/\(total) images"
        if tty {
            writeToStandardError("\r" + line)
        } else if done * 10 / max(total, 1) != lastShown {
            lastShown = done * 10 / max(total, 1)
            writeToStandardError(line + "\n")
        }
    }

    func finish() {
        if enabled && tty { writeToStandardError("\n") }
    }
}
