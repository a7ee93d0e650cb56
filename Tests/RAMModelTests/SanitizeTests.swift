import Foundation
@testable import RAMCheckpoint
@testable import RAMModels
import XCTest

final class SanitizeTests: XCTestCase {
    private func open(_ name: String) throws -> CheckpointContents {
        try Checkpoint.open(Fixtures.requireFixtures().appendingPathComponent(name))
    }

    func testIdentityOfTheThreeFixtures() throws {
        let a = RAMCheckpointIdentity(shapes: try open("ram_plus_swin_tiny_224.pth").shapes)
        XCTAssertEqual(a.arch, "ram_plus"); XCTAssertEqual(a.backbone, "swin")
        XCTAssertEqual(a.width, 32); XCTAssertEqual(a.window, 7); XCTAssertEqual(a.numTags, 64)
        let b = RAMCheckpointIdentity(shapes: try open("ram_swin_tiny_384.pth").shapes)
        XCTAssertEqual(b.arch, "ram"); XCTAssertEqual(b.window, 12); XCTAssertEqual(b.numTags, 64)
        let c = RAMCheckpointIdentity(shapes: try open("ram_plus_vit_tiny_224.pth").shapes)
        XCTAssertEqual(c.arch, "ram_plus"); XCTAssertEqual(c.backbone, "vit")
        XCTAssertEqual(c.width, 64); XCTAssertEqual(c.vitImageSize, 224)
        XCTAssertEqual(c.description, "RAM++ (ram_plus), ViT (width 64, image 224), 64 tags")
    }

    /// The ViT image size is the position grid times the real patch size (QA: a vision_config
    /// with patch_size 7 at 224 was described as "ViT (width 64, image 512)", assuming patch 16).
    func testViTImageSizeUsesThePatchSize() throws {
        let plan = VisionSpec.vit(width: 64, depth: 1, heads: 2, patch: 7, mlpRatio: 4, imageSize: 224)
        var shapes: [String: [Int]] = [:]
        for (k, s) in plan.parameterShapes() { shapes[k] = s }
        XCTAssertEqual(shapes["visual_encoder.pos_embed"], [1, 1 + 32 * 32, 64])
        let id = RAMCheckpointIdentity(shapes: shapes)
        XCTAssertEqual(id.vitImageSize, 224)
        XCTAssertEqual(id.description, "not a RAM / RAM++ model, ViT (width 64, image 224)")
        // Without a patch embedding the reference's patch 16 is assumed.
        let bare = RAMCheckpointIdentity(shapes: ["visual_encoder.blocks.0.norm1.weight": [64],
                                                  "visual_encoder.pos_embed": [1, 1 + 24 * 24, 64]])
        XCTAssertEqual(bare.vitImageSize, 384)
    }

    func testDropsDerivedBuffersAndFillsTiedTwins() throws {
        let ckpt = try open("ram_swin_tiny_384.pth")
        var t = ckpt.tensors
        // Keep only the tag encoder's copy of the tied layers.
        for k in t.keys where k.hasPrefix("tagging_head.") { t.removeValue(forKey: k) }
        let tied = (0..<2).flatMap { i in
            ckpt.keys.filter { $0.hasPrefix("tagging_head.encoder.layer.\(i).") }.map {
                [$0, "tag_encoder." + $0.dropFirst("tagging_head.".count)]
            }
        }
        XCTAssertEqual(tied.count, 32)
        let s = try RAMSanitizer.sanitize(t, isPaddle: false, expected: [:], linearWeights: [], tiedGroups: tied)
        XCTAssertEqual(s.filledFromTwin.count, 32)
        XCTAssertEqual(s.dropped.filter { $0.hasSuffix("position_ids") }.count, 2)
        XCTAssertTrue(s.dropped.contains("visual_encoder.layers.0.blocks.1.attn_mask"))
        XCTAssertEqual(s.tensors.count, ckpt.tensors.count - s.dropped.count)
        let k = "tagging_head.encoder.layer.1.output.dense.weight"
        XCTAssertEqual(try s.tensors[k]?.floats(), try ckpt.tensors[k]?.floats())
    }

    func testRenamesVisionMulti() throws {
        let ckpt = try open("ram_plus_swin_tiny_224.pth")
        var t: [String: TensorData] = [:]
        for (k, v) in ckpt.tensors {
            t[k.hasPrefix("tagging_head.") ? "vision_multi." + k.dropFirst("tagging_head.".count) : k] = v
        }
        let s = try RAMSanitizer.sanitize(t, isPaddle: false, expected: [:], linearWeights: [], tiedGroups: [])
        XCTAssertEqual(s.renamed.count, 32)
        XCTAssertNotNil(s.tensors["tagging_head.encoder.layer.0.crossattention.self.key.weight"])
        XCTAssertFalse(s.tensors.keys.contains { $0.hasPrefix("vision_multi.") })
    }

    /// The .pdparams copy, sanitized (Linear weights transposed back, square ones too), equals the .pth.
    func testPaddleParamsMatchThePth() throws {
        let pth = try open("ram_plus_vit_tiny_224.pth")
        let pd = try open("ram_plus_vit_tiny_224.pdparams")
        XCTAssertEqual(pd.format, .pickle)
        let expected = pth.shapes
        let linear = Set(expected.keys.filter { k in
            k.hasSuffix(".weight") && expected[k]?.count == 2 && !k.contains("patch_embed")
        })
        let s = try RAMSanitizer.sanitize(pd.tensors, isPaddle: true, expected: expected, linearWeights: linear, tiedGroups: [])
        XCTAssertEqual(Set(s.transposed), linear)
        XCTAssertNil(RAMSanitizer.mismatchReport(file: s.tensors.mapValues(\.shape), model: expected))
        for (k, v) in pth.tensors {
            XCTAssertEqual(try s.tensors[k]?.floats(), try v.floats(), k)
        }
    }

    /// A .pdparams file holding torch-layout [out, in] weights (here: the .pth's tensors, marked as
    /// Paddle) is recognised once for the whole file: nothing is transposed, square weights
    /// included, so every value equals the .pth's.
    func testPaddleFileInTorchLayoutIsNotTransposed() throws {
        let pth = try open("ram_plus_vit_tiny_224.pth")
        let expected = pth.shapes
        let linear = Set(expected.keys.filter { k in
            k.hasSuffix(".weight") && expected[k]?.count == 2 && !k.contains("patch_embed")
        })
        let square = linear.filter { expected[$0]![0] == expected[$0]![1] }
        XCTAssertFalse(square.isEmpty)
        XCTAssertFalse(linear.subtracting(square).isEmpty)
        XCTAssertEqual(try RAMSanitizer.paddleLinearLayout(pth.tensors, expected: expected, linearWeights: linear), .torch)
        let s = try RAMSanitizer.sanitize(pth.tensors, isPaddle: true, expected: expected, linearWeights: linear, tiedGroups: [])
        XCTAssertEqual(s.paddleLayout, .torch)
        XCTAssertEqual(s.transposed, [])
        for k in square.sorted() {
            XCTAssertEqual(s.tensors[k]?.strides, pth.tensors[k]?.strides, k)
            XCTAssertEqual(try s.tensors[k]?.floats(), try pth.tensors[k]?.floats(), k)
        }
        // The real Paddle file is decided as Paddle layout.
        let pd = try open("ram_plus_vit_tiny_224.pdparams")
        XCTAssertEqual(try RAMSanitizer.sanitize(pd.tensors, isPaddle: true, expected: expected, linearWeights: linear,
                                                 tiedGroups: []).paddleLayout, .paddle)
    }

    /// Some Linear weights [in, out] and others [out, in] in one .pdparams: an error naming one of each.
    func testPaddleFileMixingLayoutsIsRefused() throws {
        let pth = try open("ram_plus_vit_tiny_224.pth")
        let pd = try open("ram_plus_vit_tiny_224.pdparams")
        let expected = pth.shapes
        let linear = Set(expected.keys.filter { k in
            k.hasSuffix(".weight") && expected[k]?.count == 2 && !k.contains("patch_embed")
        })
        let nonSquare = linear.filter { expected[$0]![0] != expected[$0]![1] }.sorted()
        let torchOne = try XCTUnwrap(nonSquare.last)
        var mixed = pd.tensors
        mixed[torchOne] = pth.tensors[torchOne]
        XCTAssertThrowsError(try RAMSanitizer.sanitize(mixed, isPaddle: true, expected: expected, linearWeights: linear, tiedGroups: [])) { e in
            guard let ce = e as? CheckpointError else { return XCTFail("\(e)") }
            XCTAssertEqual(ce.kind, .shapeMismatch)
            XCTAssertTrue(ce.file.hasSuffix("ram_plus_vit_tiny_224.pdparams"), ce.description)
            XCTAssertTrue(ce.message.contains("mixes Linear weight layouts"), ce.message)
            XCTAssertTrue(ce.message.contains("'\(nonSquare[0])'"), ce.message)
            XCTAssertTrue(ce.message.contains("'\(torchOne)' \(expected[torchOne]!)"), ce.message)
            XCTAssertTrue(ce.message.contains("\(nonSquare.count - 1) are stored [in, out]"), ce.message)
        }
    }

    /// Only square Linear weights: the layout cannot be told, the file is taken as Paddle's.
    func testPaddleFileWithOnlySquareWeightsIsTransposed() throws {
        let store = [Float](repeating: 0, count: 4).withUnsafeBytes { ByteStore.copying($0, origin: "sq.pdparams") }
        let w = TensorData(dtype: .float32, shape: [2, 2], strides: [2, 1], storageKey: "w", offset: 0,
                           storage: ByteSlice(store: store, start: 0, count: 16))
        let s = try RAMSanitizer.sanitize(["l.weight": w], isPaddle: true, expected: ["l.weight": [2, 2]],
                                          linearWeights: ["l.weight"], tiedGroups: [])
        XCTAssertEqual(s.paddleLayout, .undetermined)
        XCTAssertEqual(s.transposed, ["l.weight"])
        XCTAssertEqual(s.tensors["l.weight"]?.strides, [1, 2])
    }

    /// A model key the file holds as a non-tensor is reported as such, not as missing.
    func testMismatchReportNamesNonTensorValues() throws {
        let model = ["a.weight": [2], "a.bias": [2], "b.bias": [2]]
        let file = ["a.weight": [2]]
        let report = try XCTUnwrap(RAMSanitizer.mismatchReport(file: file, model: model,
                                                               nonTensors: ["a.bias": "float 0.5", "other": "None"]))
        XCTAssertTrue(report.contains("1 present in the file but not a tensor:\n  a.bias: present but not a tensor (found float 0.5)"), report)
        XCTAssertTrue(report.contains("1 missing (in the model, not in the file):\n  b.bias"), report)
        XCTAssertFalse(report.contains("  a.bias\n"), report)
        XCTAssertFalse(report.contains("other"), report)
        // the non-tensor value as the only problem is still a mismatch
        let only = try XCTUnwrap(RAMSanitizer.mismatchReport(file: ["a.weight": [2]], model: ["a.weight": [2], "a.bias": [2]],
                                                             nonTensors: ["a.bias": "None"]))
        XCTAssertTrue(only.hasSuffix("1 present in the file but not a tensor:\n  a.bias: present but not a tensor (found None)"), only)
    }

    func testMismatchReportSaysWhatTheFileIs() throws {
        let plus = try open("ram_plus_swin_tiny_224.pth")
        let ram = try open("ram_swin_tiny_384.pth")
        let f = try RAMSanitizer.sanitize(plus.tensors, isPaddle: false, expected: [:], linearWeights: [], tiedGroups: []).tensors.mapValues(\.shape)
        let m = try RAMSanitizer.sanitize(ram.tensors, isPaddle: false, expected: [:], linearWeights: [], tiedGroups: []).tensors.mapValues(\.shape)
        let report = try XCTUnwrap(RAMSanitizer.mismatchReport(file: f, model: m))
        XCTAssertTrue(report.hasPrefix("the file is RAM++ (ram_plus), Swin (embed_dim 32, window 7), 64 tags; the config builds RAM (ram), Swin (embed_dim 32, window 12), 64 tags"), report)
        XCTAssertTrue(report.contains("unexpected (in the file, not in the model):\n  reweight_scale"), report)
        XCTAssertTrue(report.contains("label_embed: model [64, 512], file [3264, 512]"), report)
        XCTAssertNil(RAMSanitizer.mismatchReport(file: m, model: m))
    }
}
