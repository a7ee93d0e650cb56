import Foundation
import RAMCheckpoint
import RAMCore
import RAMNN
import RAMTensor
import XCTest
@testable import RAMBackbones

/// The encoders against the PyTorch reference: the fixture checkpoints' `visual_encoder.*`
/// weights, run on the stored `input` of every image, must give the stored `visual_encoder`
/// output within 2e-4 (absolute).
final class BackboneParityTests: XCTestCase {
    static let images = ["alpha", "demo2_progressive", "demo3_large", "demo4", "gray", "openset_example", "whl_demo"]

    /// Builds the fixture's encoder, loads its weights strictly (after `BackboneCheckpoint.adapt`).
    func loadFixtureEncoder(model: String, name: String, imageSize: Int, visionConfig: String) throws
        -> (any Backbone, [String: TensorData])
    {
        let checkpoint = try sharedFixture("\(model).pth")
        let configURL = try sharedFixture(visionConfig)
        let expectedURL = try sharedFixture("\(model).expected.safetensors")
        let backbone = try BackboneFactory.make(name: name, imageSize: imageSize, visionConfigFile: configURL)
        let prefix = "visual_encoder."
        var tensors: [String: Tensor] = [:]
        for (key, data) in try Checkpoint.load(checkpoint) where key.hasPrefix(prefix) {
            tensors[key] = Tensor(shape: data.shape, scalars: try data.floats())
        }
        let adapted = try BackboneCheckpoint.adapt(tensors, prefix: prefix, for: backbone)
        var local: [String: Tensor] = [:]
        for (key, value) in adapted { local[String(key.dropFirst(prefix.count))] = value }
        let report = try backbone.load(local, strict: true)
        XCTAssertEqual(report.missing, [], "missing keys")
        XCTAssertEqual(report.unexpected, [], "unexpected keys")
        return (backbone, try SafeTensors.read(expectedURL))
    }

    func checkParity(model: String, name: String, imageSize: Int, visionConfig: String,
                     expectedTokens: Int, expectedWidth: Int) throws {
        let (backbone, expected) = try loadFixtureEncoder(model: model, name: name, imageSize: imageSize,
                                                          visionConfig: visionConfig)
        XCTAssertEqual(backbone.outputDim, expectedWidth)
        for image in Self.images {
            let input = try XCTUnwrap(expected["\(image).input"], "\(image).input")
            let want = try XCTUnwrap(expected["\(image).visual_encoder"], "\(image).visual_encoder")
            XCTAssertEqual(want.shape, [1, expectedTokens, expectedWidth])
            let x = Tensor(shape: input.shape, scalars: try input.floats())
            let got = withNoGrad { backbone.forward(x) }
            XCTAssertEqual(got.shape, want.shape, "\(model) \(image)")
            let diff = maxAbsDifference(got.scalars, try want.floats())
            XCTAssertLessThan(diff, 2e-4, "\(model) \(image): max |Δ| = \(diff)")
        }
    }

    func testSwinTiny224MatchesReference() throws {
        try checkParity(model: "ram_plus_swin_tiny_224", name: "swin_b", imageSize: 224,
                        visionConfig: "configs/swin/config_swinB_224.json", expectedTokens: 50, expectedWidth: 256)
    }

    func testSwinTiny384MatchesReference() throws {
        try checkParity(model: "ram_swin_tiny_384", name: "swin_b", imageSize: 384,
                        visionConfig: "configs/swin/config_swinB_384.json", expectedTokens: 145, expectedWidth: 256)
    }

    func testViTTiny224MatchesReference() throws {
        try checkParity(model: "ram_plus_vit_tiny_224", name: "base", imageSize: 224,
                        visionConfig: "configs/vit_tiny.json", expectedTokens: 197, expectedWidth: 64)
    }

    /// A batch gives, per image, what each image gives alone (windows and masks are per image).
    func testBatchEqualsOneAtATime() throws {
        let (backbone, expected) = try loadFixtureEncoder(
            model: "ram_plus_swin_tiny_224", name: "swin_b", imageSize: 224,
            visionConfig: "configs/swin/config_swinB_224.json")
        let names = ["whl_demo", "gray", "demo4"]
        let inputs = try names.map { name -> Tensor in
            let d = try XCTUnwrap(expected["\(name).input"])
            return Tensor(shape: d.shape, scalars: try d.floats())
        }
        let batch = withNoGrad { backbone.forward(concat(inputs, axis: 0)) }
        XCTAssertEqual(batch.shape, [3, 50, 256])
        for (i, name) in names.enumerated() {
            let single = withNoGrad { backbone.forward(inputs[i]) }
            let row = batch.slice(axis: 0, i..<(i + 1))
            XCTAssertLessThan(maxAbsDifference(row.scalars, single.scalars), 1e-5, name)
            let want = try XCTUnwrap(expected["\(name).visual_encoder"]).floats()
            XCTAssertLessThan(maxAbsDifference(row.scalars, want), 2e-4, name)
        }
    }

    /// The same for ViT (the class token is broadcast over the batch).
    func testViTBatchEqualsOneAtATime() throws {
        let (backbone, expected) = try loadFixtureEncoder(
            model: "ram_plus_vit_tiny_224", name: "base", imageSize: 224, visionConfig: "configs/vit_tiny.json")
        let names = ["alpha", "demo3_large"]
        let inputs = try names.map { name -> Tensor in
            let d = try XCTUnwrap(expected["\(name).input"])
            return Tensor(shape: d.shape, scalars: try d.floats())
        }
        let batch = withNoGrad { backbone.forward(concat(inputs, axis: 0)) }
        XCTAssertEqual(batch.shape, [2, 197, 64])
        for (i, name) in names.enumerated() {
            let want = try XCTUnwrap(expected["\(name).visual_encoder"]).floats()
            XCTAssertLessThan(maxAbsDifference(batch.slice(axis: 0, i..<(i + 1)).scalars, want), 2e-4, name)
        }
    }

    /// A ViT checkpoint trained at 224 loads into a 384 model through the bicubic resize of
    /// `pos_embed` (14×14 → 24×24); the class-token row is kept.
    func testViTPositionEmbeddingIsInterpolatedForAnotherSize() throws {
        let checkpoint = try sharedFixture("ram_plus_vit_tiny_224.pth")
        let configURL = try sharedFixture("configs/vit_tiny.json")
        let vit = try XCTUnwrap(try BackboneFactory.make(name: "base", imageSize: 384, visionConfigFile: configURL)
                                as? VisionTransformer)
        let data = try XCTUnwrap(try Checkpoint.load(checkpoint)["visual_encoder.pos_embed"])
        let pos = Tensor(shape: data.shape, scalars: try data.floats())
        let adapted = try BackboneCheckpoint.adapt(["visual_encoder.pos_embed": pos], prefix: "visual_encoder.", for: vit)
        let resized = try XCTUnwrap(adapted["visual_encoder.pos_embed"])
        XCTAssertEqual(resized.shape, [1, 1 + 24 * 24, 64])
        XCTAssertEqual(Array(resized.scalars[0..<64]), Array(pos.scalars[0..<64]))
        // A wrong-width embedding is a clear error.
        XCTAssertThrowsError(try vit.adaptedPosEmbed(Tensor(zeros: [1, 197, 32]), key: "visual_encoder.pos_embed")) {
            XCTAssertTrue("\($0)".contains("visual_encoder.pos_embed"))
        }
    }

    func testSwinBuffersAreDroppedBeforeLoading() throws {
        let backbone = try BackboneFactory.make(name: "swin_b", imageSize: 224,
                                                visionConfigFile: try sharedFixture("configs/swin/config_swinB_224.json"))
        let t = Tensor(zeros: [1])
        let adapted = try BackboneCheckpoint.adapt(
            ["visual_encoder.layers.0.blocks.1.attn_mask": t,
             "visual_encoder.layers.0.blocks.0.attn.relative_position_index": t,
             "visual_encoder.norm.weight": t, "tagging_head.attn_mask": t],
            prefix: "visual_encoder.", for: backbone)
        XCTAssertEqual(Set(adapted.keys), ["visual_encoder.norm.weight", "tagging_head.attn_mask"])
    }

    func testCheckInputRejectsWrongSizes() throws {
        let swin = try SwinTransformer(config: try SwinConfig.preset("swin_b", imageSize: 224)
            .overridden(by: .map([("embed_dim", .int(8)), ("num_heads", .list([.int(1), .int(1), .int(1), .int(1)])),
                                  ("depths", .list([.int(1), .int(1), .int(1), .int(1)]))]), source: "test"))
        let backbone: any Backbone = swin      // dispatched through the protocol requirement
        XCTAssertNoThrow(try backbone.checkInput([2, 3, 224, 224]))
        XCTAssertThrowsError(try backbone.checkInput([1, 3, 384, 384])) {
            XCTAssertTrue("\($0)".contains("[B, 3, 224, 224]"))
        }
        let vit: any Backbone = try BackboneFactory.make(name: "base", imageSize: 224,
                                                         visionConfig: .map([("embed_dim", .int(8)), ("depth", .int(0)),
                                                                             ("num_heads", .int(1))]))
        XCTAssertThrowsError(try vit.checkInput([1, 1, 224, 224])) {
            XCTAssertTrue("\($0)".contains("[B, 3, 224, 224]"))
        }
    }
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var m: Float = 0
    for i in 0..<a.count { m = max(m, abs(a[i] - b[i])) }
    return m
}
