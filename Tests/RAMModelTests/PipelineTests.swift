import Foundation
import RAMCore
import RAMDefaultPlugins
import RAMEngine
import RAMImage
@testable import RAMModels
import RAMTensor
import XCTest

/// `ram infer` through the engine: from every fixture image file through the config's Infer
/// pipeline (DecodeImage, PIL bilinear resize, NormalizeImage, ToCHWImage), the model in batches
/// of 3 and RamOutPut: exactly the manifest's en and cn tag strings, with the model's weights
/// as loaded and packed for inference.
final class EngineInferTests: XCTestCase {
    func testEngineInferMatchesManifest() throws {
        try checkEngineInfer()
    }

    func testEngineInferWithPackedWeightsMatchesManifest() throws {
        let saved = Engine.packWeightsFromImageCount
        defer { Engine.packWeightsFromImageCount = saved }
        Engine.packWeightsFromImageCount = 1   // the fixture set has 7 images
        try checkEngineInfer()
    }

    private func checkEngineInfer() throws {
        let manifest = try Fixtures.manifest()   // skips when ../shared is absent
        for name in ["ram_plus_swin_tiny_224", "ram_swin_tiny_384", "ram_plus_vit_tiny_224"] {
            let m = try XCTUnwrap(manifest.models.first { $0.name == name })
            let registries = try DefaultPlugins.registries()
            for t in ["DecodeImage", "ResizeImage", "NormalizeImage", "ToCHWImage"] where !registries.transform.contains(t) {
                throw XCTSkip("transform \(t) is not registered by DefaultPlugins yet (images branch)")
            }
            _ = try buildFixtureModel(name)   // skips when the backbone is not registered
            let config = try RunConfig.load(path: Fixtures.packageRoot.appendingPathComponent("configs/fixtures/\(name).yaml").path,
                                            overrides: ["Infer.batch_size=3"])
            let engine = try Engine(config: config, registries: registries)
            var lines: [String] = []
            let (preds, failures) = try engine.infer(format: .json, write: { lines.append($0) })
            XCTAssertTrue(failures.isEmpty, "\(failures)")
            XCTAssertEqual(preds.count, 7)
            XCTAssertEqual(lines.count, 7)
            let files = manifest.images
            for (image, tags) in m.tags {
                let file = try XCTUnwrap(files[image])
                let p = try XCTUnwrap(preds.first { ($0.file ?? "").hasSuffix("/" + file) }, "\(name): no prediction for \(file)")
                XCTAssertEqual(p.tags["en"], tags.en, "\(name) \(image) en")
                XCTAssertEqual(p.tags["cn"], tags.cn, "\(name) \(image) cn")
            }
        }
    }
}
