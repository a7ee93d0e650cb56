import Foundation
import RAMCore
import RAMDefaultPlugins
import RAMEngine
import RAMImage
@testable import RAMModels
import RAMTensor
import XCTest

/// From the image file through the config's Infer pipeline (DecodeImage, PIL bilinear resize,
/// NormalizeImage, ToCHWImage), the model and RamOutPut: exactly the manifest's tag strings.
final class PipelineTests: XCTestCase {
    private func run(_ name: String) throws {
        let m = try XCTUnwrap(try Fixtures.manifest().models.first { $0.name == name })
        let (model, _) = try buildFixtureModel(name)
        let config = try RunConfig.load(path: Fixtures.packageRoot.appendingPathComponent("configs/fixtures/\(name).yaml").path)
        let registries = try DefaultPlugins.registries()
        for t in ["DecodeImage", "ResizeImage", "NormalizeImage", "ToCHWImage"] where !registries.transform.contains(t) {
            throw XCTSkip("transform \(t) is not registered by DefaultPlugins yet (images branch)")
        }
        let transforms = try config.buildList(registries.transform, at: "Infer.transforms", registries: registries)
        let post = try config.buildNamed(registries.postProcess, at: "Infer.PostProcess", registries: registries)
        let files = try Fixtures.manifest().images
        for (image, tags) in m.tags.sorted(by: { $0.key < $1.key }) {
            let url = Fixtures.images.appendingPathComponent(try XCTUnwrap(files[image]))
            var sample = Sample(path: url.path, bytes: [UInt8](try Data(contentsOf: url)))
            for t in transforms { try t.apply(&sample) }
            let img = try XCTUnwrap(sample.image)
            XCTAssertEqual(img.layout, .chw)
            guard case let .float32(px) = img.pixels else { return XCTFail("\(image): expected float32 pixels") }
            let input = Tensor(shape: [1, img.channels, img.height, img.width], scalars: px)
            let out = withNoGrad { model.forward(input) }
            let p = try post.process(out, files: [url.path])[0]
            XCTAssertEqual(p.tags["en"], tags.en, "\(name) \(image) en")
            XCTAssertEqual(p.tags["cn"], tags.cn, "\(name) \(image) cn")
        }
    }

    func testRamPlusSwin224() throws { try run("ram_plus_swin_tiny_224") }
    func testRamSwin384() throws { try run("ram_swin_tiny_384") }
    func testRamPlusViT224() throws { try run("ram_plus_vit_tiny_224") }
}

/// `ram infer` through the engine: every fixture image, batches of 3, JSON output.
final class EngineInferTests: XCTestCase {
    func testEngineInferMatchesManifest() throws {
        for name in ["ram_plus_swin_tiny_224", "ram_swin_tiny_384", "ram_plus_vit_tiny_224"] {
            let m = try XCTUnwrap(try Fixtures.manifest().models.first { $0.name == name })
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
            let files = try Fixtures.manifest().images
            for (image, tags) in m.tags {
                let file = try XCTUnwrap(files[image])
                let p = try XCTUnwrap(preds.first { ($0.file ?? "").hasSuffix("/" + file) }, "\(name): no prediction for \(file)")
                XCTAssertEqual(p.tags["en"], tags.en, "\(name) \(image) en")
                XCTAssertEqual(p.tags["cn"], tags.cn, "\(name) \(image) cn")
            }
        }
    }
}
