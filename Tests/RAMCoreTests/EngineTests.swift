import ExampleTopK
import Foundation
import RAMCore
import RAMDatasets
import RAMDefaultPlugins
@testable import RAMEngine
import RAMImage
import RAMNN
import RAMTensor
import XCTest

// MARK: - test components, registered the way a plugin would

/// Reads a test "image": the file's text is three numbers `r g b`; makes a float32 CHW
/// `3 × size × size` image filled with them. Anything else throws (an "unreadable" file).
struct ReadRGB: Transform {
    struct Options: Codable, ConfigDefaults { var size = 2 }
    let size: Int
    func apply(_ sample: inout Sample) throws {
        let text = String(decoding: sample.bytes ?? [], as: UTF8.self)
        let v = text.split(separator: " ").compactMap { Float($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard v.count == 3 || v.count == 4 else { throw ConfigError.unreadable(file: sample.path ?? "?", reason: "not an r g b [size] file") }
        let size = v.count == 4 ? Int(v[3]) : self.size   // a 4th number: this file's own size
        var px: [Float] = []
        for c in 0..<3 { px += [Float](repeating: v[c], count: size * size) }
        sample.image = Image(width: size, height: size, channels: 3, layout: .chw, pixels: .float32(px))
    }
}

/// logits = [mean R, mean G, mean B, bias]; `bias` comes from the "checkpoint" (a text file).
final class TinyModel: Module, TaggingModel, PretrainedLoadable {
    let imageSize = 2
    let numTags = 4
    var bias: Float = 0
    var forwardBatchSizes: [Int] = []

    func forward(_ images: Tensor) -> TaggingOutput {
        let b = images.shape[0], plane = imageSize * imageSize
        let x = rowMajorScalars(images)
        forwardBatchSizes.append(b)
        var logits: [Float] = []
        for i in 0..<b {
            for c in 0..<3 {
                let start = (i * 3 + c) * plane
                logits.append(x[start..<(start + plane)].reduce(0, +) / Float(plane))
            }
            logits.append(bias)
        }
        return TaggingOutput(logits: Tensor(shape: [b, 4], scalars: logits))
    }

    func loadPretrained(from url: URL) throws -> String {
        guard let v = Float(try String(contentsOf: url, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ConfigError.unreadable(file: url.path, reason: "not a tiny checkpoint")
        }
        bias = v
        return "loaded bias \(v) from \(url.lastPathComponent)"
    }
}

enum TestComponentsPlugin: RAMPlugin {
    static var lastModel: TinyModel?
    static func register(into r: Registries) throws {
        try r.transform.register("ReadRGB", summary: "test: r g b text files") { c in
            ReadRGB(size: try c.decode(ReadRGB.Options.self).size)
        }
        try r.arch.register("tiny", summary: "test: channel means") { c in
            struct O: Codable, ConfigDefaults { var image_size = 2 }
            _ = try c.decode(O.self)
            let m = TinyModel()
            TestComponentsPlugin.lastModel = m
            return m
        }
    }
}

/// A dataset added by a plugin: `count` samples whose "image" is `i i i` and labels `[i % 4]`.
struct SyntheticDataset: Dataset {
    struct Options: Codable, ConfigDefaults { var count = 5; var transform_ops: ConfigNode? = nil }
    let count: Int
    func sample(at index: Int) throws -> Sample {
        Sample(path: "synthetic/\(index)", bytes: Array("\(index) \(index) \(index)".utf8), labels: [index % 4])
    }
}

enum SyntheticPlugin: RAMPlugin {
    static func register(into r: Registries) throws {
        try r.dataset.register("SyntheticDataset", summary: "test: generated samples") { c in
            SyntheticDataset(count: try c.decode(SyntheticDataset.Options.self).count)
        }
    }
}

func testRegistries() throws -> Registries {
    let r = try DefaultPlugins.registries()
    try ExampleTopKPlugin.register(into: r)
    try TestComponentsPlugin.register(into: r)
    try SyntheticPlugin.register(into: r)
    return r
}

// MARK: - infer

final class InferEngineTests: XCTestCase {
    var dir: URL!
    // Relative paths in a config are tried in the working directory first, then beside the
    // config: the files here have names that no working directory is likely to hold.

    override func setUpWithError() throws {
        dir = try temporaryFolder(self)
        let imgs = dir.appendingPathComponent("rk_test_photos/sub")
        try FileManager.default.createDirectory(at: imgs, withIntermediateDirectories: true)
        try "1 2 3".write(to: dir.appendingPathComponent("rk_test_photos/a.png"), atomically: true, encoding: .utf8)
        try "garbage".write(to: dir.appendingPathComponent("rk_test_photos/b.jpg"), atomically: true, encoding: .utf8)
        try "-1 5 0.5".write(to: imgs.appendingPathComponent("c.JPEG"), atomically: true, encoding: .utf8)
        try "9 9 9".write(to: dir.appendingPathComponent("rk_test_photos/notes.txt"), atomically: true, encoding: .utf8)
        try "0.25".write(to: dir.appendingPathComponent("rk_test_tiny.ckpt"), atomically: true, encoding: .utf8)
        try "r\ng\nb\nbias".write(to: dir.appendingPathComponent("rk_test_tags.txt"), atomically: true, encoding: .utf8)
        try "红\n绿\n蓝\n偏".write(to: dir.appendingPathComponent("rk_test_tags_cn.txt"), atomically: true, encoding: .utf8)
    }

    func config(_ extra: [String] = []) throws -> RunConfig {
        let yaml = """
            Global:
              pretrained_model: rk_test_tiny.ckpt
              device: gpu
            Arch:
              name: tiny
              image_size: 2
            Infer:
              infer_imgs: rk_test_photos
              batch_size: 2
              transforms:
                - ReadRGB:
                    size: 2
              PostProcess:
                name: TopK
                k: 2
                tag_list: rk_test_tags.txt
                tag_list_chinese: rk_test_tags_cn.txt
            """
        let file = dir.appendingPathComponent("run.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        return try RunConfig.load(path: file.path, overrides: extra)
    }

    func testInferWalksFoldersBatchesAndReportsBadFiles() throws {
        let engine = try Engine(config: config(), registries: testRegistries())
        var lines: [String] = [], reports: [String] = []
        let result = try engine.infer(format: .text, write: { lines.append($0) }, report: { reports.append($0) })
        // a.png, b.jpg (unreadable), sub/c.JPEG; notes.txt is not an image
        XCTAssertEqual(result.failures.map { ($0.file as NSString).lastPathComponent }, ["b.jpg"])
        XCTAssertEqual(reports.count, 1)
        let report = try XCTUnwrap(reports.first)
        XCTAssertTrue(report.contains("skipping") && report.contains("b.jpg"), report)
        XCTAssertEqual(TestComponentsPlugin.lastModel?.forwardBatchSizes, [1, 1])  // batch 1 lost b.jpg; batch 2 is c
        XCTAssertEqual(TestComponentsPlugin.lastModel?.bias, 0.25)                 // checkpoint found beside the config
        XCTAssertEqual(result.predictions.map(\.classIds), [[2, 1], [1, 2]])   // c: logits [-1, 5, 0.5, 0.25]
        let aFile = dir.appendingPathComponent("rk_test_photos/a.png").standardizedFileURL.path
        let sA = 1 / (1 + exp(Float(-3))), sB = 1 / (1 + exp(Float(-2)))
        XCTAssertEqual(lines.first, "{'file_name': '\(aFile)', 'class_ids': [2, 1], 'scores': [\((Double(sA) * 1e5).rounded() / 1e5), \((Double(sB) * 1e5).rounded() / 1e5)], 'label_names': 'b | g'}")
    }

    func testJsonAndCsv() throws {
        let engine = try Engine(config: config(["Infer.infer_imgs=rk_test_photos/sub/c.JPEG", "Infer.PostProcess.k=1"]), registries: testRegistries())
        var lines: [String] = []
        try engine.infer(format: .json, write: { lines.append($0) })
        let cFile = dir.appendingPathComponent("rk_test_photos/sub/c.JPEG").standardizedFileURL.path
        XCTAssertEqual(lines.count, 1)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(XCTUnwrap(lines.first).utf8)) as? [String: Any])
        XCTAssertEqual(obj["file"] as? String, cFile)
        XCTAssertEqual(obj["tags_en"] as? String, "g")
        XCTAssertEqual(obj["tags_cn"] as? String, "绿")
        XCTAssertEqual(obj["class_ids"] as? [Int], [1])
        XCTAssertEqual((obj["scores"] as? [Double])?.first ?? 0, Double(1 / (1 + exp(Float(-5)))), accuracy: 1e-5)
        lines = []
        try engine.infer(format: .csv, write: { lines.append($0) })
        XCTAssertEqual(lines, ["file,class_ids,scores,tags_en,tags_cn", "\(cFile),1,0.99331,g,绿"])
    }

    func testNoCheckpointNamesTheOfficialFiles() throws {
        for o in ["Global.pretrained_model=null", "Global.pretrained_model=missing.pth"] {
            let engine = try Engine(config: config([o]), registries: testRegistries())
            let e = errorText { try engine.infer(write: { _ in }) }
            XCTAssertTrue(e.contains("ram_plus_swin_large_14m.pth") && e.contains("ram_swin_large_14m.pth"), e)
            XCTAssertTrue(e.contains("xinyu1205/recognize-anything-plus-model") && e.contains("xinyu1205/recognize_anything_model"), e)
            if o.hasSuffix("missing.pth") {
                XCTAssertTrue(e.contains(self.dir.appendingPathComponent("missing.pth").path), e)   // every place looked at
            }
        }
    }

    func testWrongImageSizeIsAConfigError() throws {
        let engine = try Engine(config: config(["Infer.transforms.0.ReadRGB.size=3"]), registries: testRegistries())
        let e = errorText { try engine.infer(write: { _ in }) }
        XCTAssertTrue(e.contains("produced a 3×3×3 image; the model needs 3×2×2"), e)
    }

    func testAnImageOfTheWrongSizeIsSkipped() throws {
        let imgs = dir.appendingPathComponent("rk_test_sizes")
        try FileManager.default.createDirectory(at: imgs, withIntermediateDirectories: true)
        try "1 2 3".write(to: imgs.appendingPathComponent("a.png"), atomically: true, encoding: .utf8)
        try "1 1 1 3".write(to: imgs.appendingPathComponent("b.png"), atomically: true, encoding: .utf8)   // 3×3
        try "4 5 6".write(to: imgs.appendingPathComponent("c.png"), atomically: true, encoding: .utf8)
        let engine = try Engine(config: config(["Infer.infer_imgs=rk_test_sizes", "Infer.batch_size=1"]), registries: testRegistries())
        var reports: [String] = []
        let result = try engine.infer(write: { _ in }, report: { reports.append($0) })
        XCTAssertEqual(result.predictions.map { ($0.file.map { ($0 as NSString).lastPathComponent }) ?? "" }, ["a.png", "c.png"])
        XCTAssertEqual(result.failures.map { ($0.file as NSString).lastPathComponent }, ["b.png"])
        XCTAssertEqual(reports.count, 1)
        XCTAssertTrue(reports.first?.contains("b.png: Infer.transforms produced a 3×3×3 image; the model needs 3×2×2") ?? false, "\(reports)")

        // the odd one first: the same (the order of the files does not matter)
        try "1 1 1 3".write(to: imgs.appendingPathComponent("a.png"), atomically: true, encoding: .utf8)
        try "1 2 3".write(to: imgs.appendingPathComponent("b.png"), atomically: true, encoding: .utf8)
        let second = try engine.infer(write: { _ in })
        XCTAssertEqual(second.failures.map { ($0.file as NSString).lastPathComponent }, ["a.png"])
        XCTAssertEqual(second.predictions.count, 2)

        // none fits: a config error naming the first, after every image was tried and reported
        try "1 1 1 3".write(to: imgs.appendingPathComponent("b.png"), atomically: true, encoding: .utf8)
        try "1 1 1 3".write(to: imgs.appendingPathComponent("c.png"), atomically: true, encoding: .utf8)
        reports = []
        let e = errorText { try engine.infer(write: { _ in }, report: { reports.append($0) }) }
        XCTAssertTrue(e.contains("a.png: Infer.transforms produced a 3×3×3 image; the model needs 3×2×2"), e)
        XCTAssertEqual(reports.count, 3)
    }

    /// Many images of another size before one that fits: every one is tried, the one that fits
    /// is tagged (a run that stopped early lost it).
    func testManyImagesOfTheWrongSizeDoNotStopTheRun() throws {
        let imgs = dir.appendingPathComponent("rk_test_misfits")
        try FileManager.default.createDirectory(at: imgs, withIntermediateDirectories: true)
        for i in 0..<20 {
            try "1 1 1 3".write(to: imgs.appendingPathComponent(String(format: "%03d.png", i)), atomically: true, encoding: .utf8)
        }
        try "1 2 3".write(to: imgs.appendingPathComponent("999.png"), atomically: true, encoding: .utf8)
        let engine = try Engine(config: config(["Infer.infer_imgs=rk_test_misfits", "Infer.batch_size=1"]), registries: testRegistries())
        var reports: [String] = []
        let result = try engine.infer(write: { _ in }, report: { reports.append($0) })
        XCTAssertEqual(result.predictions.map { ($0.file.map { ($0 as NSString).lastPathComponent }) ?? "" }, ["999.png"])
        XCTAssertEqual(result.failures.count, 20)
        XCTAssertEqual(reports.count, 20)
    }

    /// A FIFO among the images would block the read forever: it is skipped, named as a FIFO.
    func testAFifoAmongTheImagesIsSkipped() throws {
        let imgs = dir.appendingPathComponent("rk_test_fifo")
        try FileManager.default.createDirectory(at: imgs, withIntermediateDirectories: true)
        try "1 2 3".write(to: imgs.appendingPathComponent("a.png"), atomically: true, encoding: .utf8)
        XCTAssertEqual(mkfifo(imgs.appendingPathComponent("b.png").path, 0o644), 0)
        let engine = try Engine(config: config(["Infer.infer_imgs=rk_test_fifo"]), registries: testRegistries())
        var reports: [String] = []
        let result = try engine.infer(write: { _ in }, report: { reports.append($0) })
        XCTAssertEqual(result.predictions.count, 1)
        XCTAssertEqual(result.failures.map { ($0.file as NSString).lastPathComponent }, ["b.png"])
        XCTAssertTrue(reports.first?.hasSuffix("b.png': it is a FIFO (named pipe), not a regular file") ?? false, "\(reports)")
    }

    /// A file whose name is not UTF-8 cannot be opened through a Swift String: it is skipped,
    /// saying why, and the other images are tagged.
    func testANonUTF8FileNameIsSkippedSayingWhy() throws {
        let imgs = dir.appendingPathComponent("rk_test_names")
        try FileManager.default.createDirectory(at: imgs, withIntermediateDirectories: true)
        try "1 2 3".write(to: imgs.appendingPathComponent("a.png"), atomically: true, encoding: .utf8)
        var raw = Array((imgs.path + "/bad").utf8CString.dropLast()) + [CChar(bitPattern: 0xFF)] + Array("name.png".utf8CString)
        let fd = raw.withUnsafeMutableBufferPointer { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) }
        XCTAssertGreaterThanOrEqual(fd, 0)
        close(fd)
        let engine = try Engine(config: config(["Infer.infer_imgs=rk_test_names"]), registries: testRegistries())
        var reports: [String] = []
        let result = try engine.infer(write: { _ in }, report: { reports.append($0) })
        XCTAssertEqual(result.predictions.count, 1)
        XCTAssertEqual(result.failures.count, 1)
        XCTAssertTrue(reports.first?.contains("the file name is not valid UTF-8") ?? false, "\(reports)")
    }

    func testMissingImagesNameEveryPlaceLookedAt() throws {
        let engine = try Engine(config: config(["Infer.infer_imgs=nope.jpg"]), registries: testRegistries())
        let e = errorText { try engine.infer(write: { _ in }) }
        XCTAssertTrue(e.contains("'nope.jpg' not found; looked at: "), e)
        XCTAssertTrue(e.contains(FileManager.default.currentDirectoryPath + "/nope.jpg"), e)
        XCTAssertTrue(e.contains(self.dir.appendingPathComponent("nope.jpg").path), e)
    }

    func testUnknownTransformName() throws {
        let engine = try Engine(config: config(["Infer.transforms.0=ReadRBG"]), registries: testRegistries())
        let e = errorText { try engine.infer(write: { _ in }) }
        XCTAssertTrue(e.contains("unknown transform 'ReadRBG' at 'Infer.transforms.0'; did you mean 'ReadRGB'?"), e)
    }

    func testEmptyTransformListIsNamed() throws {
        let engine = try Engine(config: config(["Infer.transforms=[]"]), registries: testRegistries())
        let e = errorText { try engine.infer(write: { _ in }) }
        XCTAssertTrue(e.contains("Infer.transforms") && e.contains("the list is empty"), e)
    }

    func testTagCountMismatchIsCaughtBeforeAnyImage() throws {
        try "r\ng\nb".write(to: dir.appendingPathComponent("rk_test_tags3.txt"), atomically: true, encoding: .utf8)
        let engine = try Engine(config: config(["Infer.PostProcess={name: RamOutPut, tag_list: rk_test_tags3.txt, language: en}"]),
                                registries: testRegistries())
        var lines: [String] = []
        let e = errorText { try engine.infer(write: { lines.append($0) }) }
        XCTAssertTrue(e.contains("PostProcess") && e.contains("3 tags") && e.contains("4 logits"), e)
        XCTAssertEqual(TestComponentsPlugin.lastModel?.forwardBatchSizes, [])   // no image was run
        XCTAssertEqual(lines, [])
    }

    func testTrainSaysNotImplemented() throws {
        let engine = try Engine(config: config(), registries: testRegistries())
        XCTAssertEqual(errorText { try engine.train() }, "ram train (the training loop): not implemented yet")
    }

    func testResolvedConfigIsSavedAtomicallyAndReadsBack() throws {
        let cfg = try config(["Global.epochs=7"])
        let out = dir.appendingPathComponent("output/config.yaml")
        try Engine.saveResolvedConfig(cfg, to: out)
        let back = try RunConfig.load(path: out.path)
        XCTAssertEqual(back.root, cfg.root)
        XCTAssertEqual(back.node(at: "Global.epochs"), .int(7))
        let text = try String(contentsOf: out, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("# resolved RAMKit config (from \(dir.appendingPathComponent("run.yaml").path))\n"), text)
        // a folder on the way that is a file: named as such
        try "x".write(to: dir.appendingPathComponent("afile"), atomically: true, encoding: .utf8)
        let e = errorText { try Engine.saveResolvedConfig(cfg, to: self.dir.appendingPathComponent("afile/sub/config.yaml")) }
        XCTAssertEqual(e, "cannot write '\(dir.appendingPathComponent("afile/sub/config.yaml").path)': cannot create its folder: '\(dir.appendingPathComponent("afile").path)' is a file, not a folder")
    }

    /// A temporary file that an interrupted export left (its process gone) is removed; one of a
    /// running process and other files are kept.
    func testStaleTemporaryFilesAreRemoved() throws {
        let out = dir.appendingPathComponent("export")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        var child = Process()   // a process id that is certainly gone: a child that has exited
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run(); child.waitUntilExit()
        let gone = child.processIdentifier
        child = Process()
        let names = [".inference.safetensors.tmp-\(gone)-123", ".inference.safetensors.tmp-\(getpid())-7", "inference.safetensors", "notes.txt"]
        for n in names { try "x".write(to: out.appendingPathComponent(n), atomically: false, encoding: .utf8) }
        Engine.removeStaleTemporaryFiles(in: out, for: ["inference.safetensors"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted(), Array(names.dropFirst()).sorted())
    }

    func testMissingPostProcessNamesBothPlaces() throws {
        let yaml = "Global: {pretrained_model: rk_test_tiny.ckpt}\nArch: {name: tiny}\nInfer: {infer_imgs: rk_test_photos, transforms: [ReadRGB]}\n"
        let file = dir.appendingPathComponent("nopp.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        let engine = try Engine(config: RunConfig.load(path: file.path), registries: testRegistries())
        XCTAssertEqual(errorText { try engine.infer(write: { _ in }) },
                       "'Infer.PostProcess': is required but missing (a top-level PostProcess section works too), e.g. {name: RamOutPut, language: en}")
    }

    func testEmptySaveInferenceDirIsRefused() throws {
        let engine = try Engine(config: config(["Global.save_inference_dir=''"]), registries: testRegistries())
        XCTAssertEqual(errorText { _ = try engine.export() }, "'Global.save_inference_dir': the path is empty; give the folder to export to")
    }
}

// MARK: - eval

final class EvalEngineTests: XCTestCase {
    func testEvalComputesTheMetricsOverTheEvalPipeline() throws {
        let yaml = """
            DataLoader:
              Eval:
                dataset:
                  name: SyntheticDataset
                  count: 4
                  transform_ops: [ReadRGB]
                sampler: {name: BatchSampler, batch_size: 3}
            Metric:
              Eval:
                - MultiLabelMAP:
                - HammingDistance:
                    threshold: 0.5
            """
        let engine = try Engine(config: RunConfig(root: ConfigNode.parse(yaml: yaml, source: "t")), registries: testRegistries())
        let model = TinyModel()
        let results = try engine.eval(model: model)
        XCTAssertEqual(model.forwardBatchSizes, [3, 1])
        // sample i: image filled with i, labels [i]; logits [i, i, i, 0]
        // AP per class: class 0 ranks img0 4th (1/4); class 1: img1 3rd (1/3); class 2: img2 2nd (1/2);
        // class 3: all scores 0.5, ties in order, img3 4th (1/4)
        XCTAssertEqual(results.map(\.name), ["mAP", "HammingDistance"])
        XCTAssertEqual(results[0].value, (1.0 / 4 + 1.0 / 3 + 1.0 / 2 + 1.0 / 4) / 4, accuracy: 1e-12)
        // predicted (> 0.5): img0 {}, img1..3 {0, 1, 2}; wrong: 1 + 2 + 2 + 4 = 9 of 16
        XCTAssertEqual(results[1].value, 9.0 / 16.0, accuracy: 1e-12)
    }

    func testEvalNeedsMetrics() throws {
        let yaml = "DataLoader:\n  Eval:\n    dataset: {name: SyntheticDataset}\n"
        let engine = try Engine(config: RunConfig(root: ConfigNode.parse(yaml: yaml, source: "t")), registries: testRegistries())
        XCTAssertEqual(errorText { _ = try engine.eval(model: TinyModel()) }, "'Metric.Eval' is required but missing")
    }
}

// MARK: - data pipeline

final class DataPipelineTests: XCTestCase {
    func testDatasetAddedByAPluginFeedsAPipeline() throws {
        let yaml = """
            DataLoader:
              Train:
                dataset:
                  name: SyntheticDataset
                  count: 5
                  transform_ops:
                    - ReadRGB:
                        size: 2
                sampler:
                  name: DistributedBatchSampler
                  batch_size: 2
                  drop_last: False
                  shuffle: False
                loader:
                  num_workers: 4
                  use_shared_memory: True
            """
        let cfg = try RunConfig(root: try ConfigNode.parse(yaml: yaml, source: "t"))
        let pipe = try DataPipeline(config: cfg, mode: "Train", registries: testRegistries())
        XCTAssertEqual(pipe.batches(epoch: 0), [[0, 1], [2, 3], [4]])
        let samples = try pipe.load([2, 3])
        XCTAssertEqual(samples.map { $0.labels ?? [] }, [[2], [3]])
        let x = try stackImages(samples, size: 2, where: "DataLoader.Train.dataset.transform_ops")
        XCTAssertEqual(x.shape, [2, 3, 2, 2])
        XCTAssertEqual(rowMajorScalars(x), [Float](repeating: 2, count: 12) + [Float](repeating: 3, count: 12))
    }

    func testMultiLabelDatasetAndShuffledSampler() throws {
        let dir = try temporaryFolder(self)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("rk_test_imgs"), withIntermediateDirectories: true)
        for (i, v) in ["1 1 1", "2 2 2", "3 3 3"].enumerated() {
            try v.write(to: dir.appendingPathComponent("rk_test_imgs/\(i).jpg"), atomically: true, encoding: .utf8)
        }
        try "0.jpg\t1,0,1\n1.jpg\t0,0,0\n\n2.jpg\t0,1,1\n".write(to: dir.appendingPathComponent("rk_test_labels.txt"), atomically: true, encoding: .utf8)
        let yaml = """
            DataLoader:
              Eval:
                dataset:
                  name: MultiLabelDataset
                  image_root: rk_test_imgs
                  cls_label_path: rk_test_labels.txt
                  transform_ops: [ReadRGB]
                sampler: {name: BatchSampler, batch_size: 2, shuffle: true, seed: 3}
            """
        let file = dir.appendingPathComponent("c.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        let pipe = try DataPipeline(config: RunConfig.load(path: file.path), mode: "Eval", registries: testRegistries())
        XCTAssertEqual(pipe.dataset.count, 3)
        let e0 = pipe.batches(epoch: 0), e1 = pipe.batches(epoch: 1)
        XCTAssertEqual(e0.flatMap { $0 }.sorted(), [0, 1, 2])
        XCTAssertEqual(e0.map(\.count), [2, 1])
        XCTAssertEqual(pipe.batches(epoch: 0), e0)               // seeded: the same order again
        XCTAssertEqual(e1.flatMap { $0 }.sorted(), [0, 1, 2])
        let all = try pipe.load([0, 1, 2])
        XCTAssertEqual(all.map { $0.labels ?? [-1] }, [[0, 2], [], [1, 2]])
        XCTAssertEqual(rowMajorScalars(try stackImages(all, size: 2, where: "t")).first, 1)
    }

    func testMultiLabelDatasetErrorsNameFileAndLine() throws {
        let dir = try temporaryFolder(self)
        let labels = dir.appendingPathComponent("labels.txt")
        try "0.jpg\t1,0\n1.jpg\t1,x\n".write(to: labels, atomically: true, encoding: .utf8)
        let r = try testRegistries()
        let cfg = ComponentConfig(path: "DataLoader.Eval.dataset", node: .map([("cls_label_path", .string(labels.path)), ("image_root", .string(dir.path))]), registries: r)
        let e = errorText { _ = try r.dataset.build("MultiLabelDataset", cfg) }
        XCTAssertTrue(e.contains("\(labels.path):2") && e.contains("label 1 is 'x'"), e)
    }

    func testUnknownLoaderKey() throws {
        let cfg = try RunConfig(root: try ConfigNode.parse(yaml: "DataLoader:\n  Train:\n    dataset: {name: SyntheticDataset}\n    loader: {num_worker: 2}\n", source: "t"))
        let e = errorText { _ = try DataPipeline(config: cfg, mode: "Train", registries: testRegistries()) }
        XCTAssertTrue(e.contains("unknown key 'DataLoader.Train.loader.num_worker'; did you mean 'num_workers'?"), e)
    }
}
