import Foundation
import RAMCore
import RAMDefaultPlugins
@testable import RAMModels
import RAMTensor
import XCTest

/// Opt-in: with the official RAM++ weights (`RAMKIT_RAM_PLUS_CHECKPOINT=/path/ram_plus_swin_large_14m.pth`)
/// and PaddleClas's Infer pipeline (short side 384, center crop 384), `whl_demo.jpg` gives
/// class ids 593, 871, 998, 2071, 3336, 3862 (brown | chicken | cock | hen | red | stand), the
/// known answer recorded in ../shared/README.md.
final class OfficialCheckpointTests: XCTestCase {
    func testRamPlusOfficialWhlDemo() throws {
        guard let path = ProcessInfo.processInfo.environment["RAMKIT_RAM_PLUS_CHECKPOINT"] else {
            throw XCTSkip("set RAMKIT_RAM_PLUS_CHECKPOINT to ram_plus_swin_large_14m.pth to run this test")
        }
        let image = Fixtures.images.appendingPathComponent("whl_demo.jpg")
        guard FileManager.default.fileExists(atPath: image.path) else { throw XCTSkip("\(image.path) absent") }
        let yaml = """
        Arch: {name: ram_plus, vit: swin_l, image_size: 384}
        Infer:
          transforms:
            - DecodeImage: {to_rgb: True, channel_first: False}
            - ResizeImage: {resize_short: 384}
            - CropImage: {size: 384}
            - NormalizeImage: {scale: 1.0/255.0, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], order: ''}
            - ToCHWImage:
          PostProcess: {name: RamOutPut, language: en}
        """
        let config = try RunConfig(root: ConfigNode.parse(yaml: yaml, source: "test"))
        let registries = try DefaultPlugins.registries()
        let model = try config.buildNamed(registries.arch, at: "Arch", registries: registries)
        _ = try (model as! PretrainedLoadable).loadPretrained(from: URL(fileURLWithPath: path))
        let transforms = try config.buildList(registries.transform, at: "Infer.transforms", registries: registries)
        let post = try config.buildNamed(registries.postProcess, at: "Infer.PostProcess", registries: registries)
        var sample = Sample(path: image.path, bytes: [UInt8](try Data(contentsOf: image)))
        for t in transforms { try t.apply(&sample) }
        let img = try XCTUnwrap(sample.image)
        guard case let .float32(px) = img.pixels else { return XCTFail("expected float32 pixels") }
        let out = withNoGrad { model.forward(Tensor(shape: [1, 3, img.height, img.width], scalars: px)) }
        let p = try post.process(out, files: [image.path])[0]
        XCTAssertEqual(p.classIds, [593, 871, 998, 2071, 3336, 3862])
        XCTAssertEqual(p.labelNames, "brown | chicken | cock | hen | red | stand")
    }
}
