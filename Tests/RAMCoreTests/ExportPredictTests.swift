import Foundation
import RAMCheckpoint
import RAMCore
import RAMDefaultPlugins
import RAMEngine
import XCTest

/// `ram export` then `ram predict` with a PaddleClas-style deploy config, on the reference fixture
/// model: the exported model tags as the original does, and as the reference did (manifest.json).
final class ExportPredictTests: XCTestCase {
    func testExportThenPredictGivesTheReferenceTags() throws {
        let shared = try sharedDir()
        let fixtures = shared.appendingPathComponent("fixtures")
        let image = shared.appendingPathComponent("images/whl_demo.jpg").path
        let dir = try temporaryFolder(self)
        let registries = try DefaultPlugins.registries()

        // 1. the fixture config, run as is
        let cfg = try RunConfig.load(path: packageRoot.appendingPathComponent("configs/fixtures/ram_plus_swin_tiny_224.yaml").path,
                                     overrides: ["Infer.infer_imgs=\(image)", "Global.save_inference_dir=\(dir.path)/rk_test_inference"])
        let engine = try Engine(config: cfg, registries: registries)
        var original: [String] = []
        let reference = try engine.infer(format: .json, write: { original.append($0) })
        XCTAssertEqual(reference.predictions.count, 1)

        // 2. export
        let (weights, exportedConfig) = try engine.export()
        XCTAssertEqual(weights.path, dir.appendingPathComponent("rk_test_inference/inference.safetensors").path)
        let stored = try SafeTensors.read(weights)
        XCTAssertGreaterThanOrEqual(stored.count, 159)   // every parameter and buffer of the fixture model
        let back = try RunConfig.load(path: exportedConfig.path)
        XCTAssertEqual(back.node(at: "Global.pretrained_model"), .string("inference.safetensors"))
        XCTAssertEqual(back.node(at: "Arch.vit"), .string("swin_b"))
        // made absolute (as text: ../shared may be a symbolic link, which the path keeps)
        let tagList = try XCTUnwrap(back.node(at: "Arch.tag_list")?.stringValue)
        XCTAssertTrue(tagList.hasPrefix("/") && !tagList.contains("/../"), tagList)
        XCTAssertEqual(URL(fileURLWithPath: tagList).resolvingSymlinksInPath().path,
                       fixtures.appendingPathComponent("tags.txt").resolvingSymlinksInPath().path)

        // 3. predict with a deploy config (PaddleClas inference_ram.yaml shape; the folder's name is
        // one that the working directory, where relative paths are tried first, is unlikely to hold)
        let tags = fixtures.appendingPathComponent("tags.txt").path
        let deploy = """
            Global:
              infer_imgs: "\(image)"
              inference_model_dir: "./rk_test_inference"
              batch_size: 1
              use_gpu: False
              enable_mkldnn: False
              cpu_num_threads: 10
            PreProcess:
              transform_ops:
                - ResizeImage:
                    size: [224, 224]
                    backend: pil
                    interpolation: bilinear
                - NormalizeImage:
                    scale: 1.0/255.0
                    mean: [0.485, 0.456, 0.406]
                    std: [0.229, 0.224, 0.225]
                    order: ""
                    channel_num: 3
                - ToCHWImage:
            PostProcess:
              main_indicator: RamOutPut
              RamOutPut:
                language: "cn"
                tag_list: "\(tags)"
                tag_list_chinese: "\(fixtures.appendingPathComponent("tags_chinese.txt").path)"
                ram_class_threshold_path: "\(fixtures.appendingPathComponent("tags_threshold.txt").path)"
            """
        let deployFile = dir.appendingPathComponent("inference_ram.yaml")
        try deploy.write(to: deployFile, atomically: true, encoding: .utf8)
        let predictor = try Engine(config: RunConfig.load(path: deployFile.path), registries: registries)
        var lines: [String] = []
        let predicted = try predictor.predict(format: .json, write: { lines.append($0) })
        XCTAssertEqual(lines, original)
        XCTAssertEqual(predicted.predictions.map(\.classIds), reference.predictions.map(\.classIds))

        // the reference implementation's tags for this image
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("manifest.json"))) as? [String: Any]
        let models = manifest?["models"] as? [String: Any]
        let m = models?["ram_plus_swin_tiny_224"] as? [String: Any]
        let expected = (m?["tags"] as? [String: Any])?["whl_demo"] as? [String: String]
        XCTAssertEqual(predicted.predictions.first?.tags["en"], expected?["en"])
        XCTAssertEqual(predicted.predictions.first?.labelNames, expected?["cn"])
    }

    func testPredictWithoutAnExportSaysSo() throws {
        let dir = try temporaryFolder(self)
        // (names that the working directory, tried first, is unlikely to hold)
        try "Global:\n  infer_imgs: rk_test_x.jpg\n  inference_model_dir: ./rk_test_inference\nPostProcess:\n  main_indicator: RamOutPut\n"
            .write(to: dir.appendingPathComponent("d.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("rk_test_inference"), withIntermediateDirectories: true)
        let engine = try Engine(config: RunConfig.load(path: dir.appendingPathComponent("d.yaml").path), registries: DefaultPlugins.registries())
        let e = errorText { try engine.predict(write: { _ in }) }
        XCTAssertTrue(e.hasPrefix("exported config (run `ram export` first) 'inference.yaml' not found"), e)
    }
}
