import Foundation
import XCTest
@testable import RAMCheckpoint

final class LoadReportTests: XCTestCase {
    func testCompareReportsEverythingAtOnce() {
        let r = CheckpointLoadReport.compare(
            expected: ["a": [2, 3], "b": [4], "c": [5], "d": [1]],
            found: ["a": [2, 3], "b": [8], "x": [1], "y": [2]])
        XCTAssertEqual(r.missing, ["c", "d"])
        XCTAssertEqual(r.unexpected, ["x", "y"])
        XCTAssertEqual(r.shapeMismatches, [.init(key: "b", expected: [4], found: [8])])
        XCTAssertEqual(r.matched, 1)
        XCTAssertFalse(r.isClean)
        XCTAssertEqual(r.description, """
            1 keys match; 2 missing, 2 unexpected, 1 shape mismatches
            missing from the checkpoint (2):
              c
              d
            unexpected in the checkpoint (2):
              x
              y
            shape mismatches (model expects vs checkpoint has) (1):
              b: [4] vs [8]
            """)
        XCTAssertTrue(CheckpointLoadReport.compare(expected: ["a": [1]], found: ["a": [1]]).isClean)
        XCTAssertTrue(r.describe(limit: 1).contains("... and 1 more"))
    }

    /// A RAM++ file given to a RAM config: the error says what the file is.
    func testMismatchErrorSaysWhatTheFileIs() {
        let found: [String: [Int]] = ["label_embed": [4585 * 51, 512], "reweight_scale": [],
                                      "visual_encoder.patch_embed.proj.weight": [192, 3, 4, 4]]
        let expected: [String: [Int]] = ["label_embed": [4585, 512], "tag_encoder.x": [1],
                                         "visual_encoder.patch_embed.proj.weight": [192, 3, 4, 4]]
        let e = CheckpointLoadReport.compare(expected: expected, found: found)
            .error(file: "/m/ram_plus.pth", model: "RAM with Swin-L (embed_dim 192), 4585 tags", found: found)
        XCTAssertEqual(e.kind, .shapeMismatch)
        XCTAssertEqual(e.description, """
            /m/ram_plus.pth: does not match the model: the config builds RAM with Swin-L (embed_dim 192), 4585 tags, \
            this checkpoint is RAM++ (has label_embed [4585*51, 512] and reweight_scale), Swin-L (embed_dim 192), 4585 tags
            1 keys match; 1 missing, 1 unexpected, 1 shape mismatches
            missing from the checkpoint (1):
              tag_encoder.x
            unexpected in the checkpoint (1):
              reweight_scale
            shape mismatches (model expects vs checkpoint has) (1):
              label_embed: [4585, 512] vs [233835, 512]
            """)
    }

    func testIdentifyFullSizeShapes() {
        // the official files' key shapes (ram_plus_swin_large_14m / ram_swin_large_14m / Swin-B)
        let plusL: [String: [Int]] = ["label_embed": [4585 * 51, 512], "reweight_scale": [],
                                      "visual_encoder.patch_embed.proj.weight": [192, 3, 4, 4],
                                      "visual_encoder.layers.0.blocks.0.attn.relative_position_bias_table": [529, 6]]
        XCTAssertEqual(CheckpointIdentity.identify(plusL).description,
                       "RAM++ (has label_embed [4585*51, 512] and reweight_scale), Swin-L (embed_dim 192, window 12), 4585 tags")
        let ramL: [String: [Int]] = ["label_embed": [4585, 512], "tag_encoder.embeddings.word_embeddings.weight": [30524, 768],
                                     "visual_encoder.patch_embed.proj.weight": [192, 3, 4, 4]]
        XCTAssertEqual(CheckpointIdentity.identify(ramL).description,
                       "RAM (has label_embed [4585, 512] and tag_encoder / text_decoder), Swin-L (embed_dim 192), 4585 tags")
        let swinB: [String: [Int]] = ["visual_encoder.patch_embed.proj.weight": [128, 3, 4, 4]]
        XCTAssertEqual(CheckpointIdentity.identify(swinB).backboneDescription, "Swin-B (embed_dim 128)")
        let vitB: [String: [Int]] = ["visual_encoder.patch_embed.proj.weight": [768, 3, 16, 16], "visual_encoder.cls_token": [1, 1, 768]]
        XCTAssertEqual(CheckpointIdentity.identify(vitB).backboneDescription, "ViT-B (embed_dim 768)")
        XCTAssertEqual(CheckpointIdentity.identify(["vision_multi.x": [1]]).arch, .unknown)
    }

    func testSanitizerRenamesDropsAndDetectsCollisions() throws {
        let store = [UInt8](repeating: 0, count: 4).withUnsafeBytes { ByteStore.copying($0, origin: "mem") }
        let t = TensorData(dtype: .float32, shape: [1], strides: [1], storageKey: "0", offset: 0,
                           storage: ByteSlice(store: store, start: 0, count: 4))
        let r = try StateDictSanitizer.ramReference.apply([
            "vision_multi.encoder.layer.0.w": t, "a.relative_position_index": t, "b.attn_mask": t, "keep": t])
        XCTAssertEqual(r.tensors.keys.sorted(), ["keep", "tagging_head.encoder.layer.0.w"])
        XCTAssertEqual(r.dropped, ["a.relative_position_index", "b.attn_mask"])
        XCTAssertEqual(r.renamed.map(\.to), ["tagging_head.encoder.layer.0.w"])
        XCTAssertThrowsError(try StateDictSanitizer.ramReference.apply(["vision_multi.x": t, "tagging_head.x": t]))
    }
}

final class PositionInterpolationTests: XCTestCase {
    /// The same input relative_bias_reference.py builds.
    private func table(side: Int, heads: Int) -> [Float] {
        var t: [Float] = []
        for r in 0..<(side * side) { for h in 0..<heads { t.append(Float(sin(0.37 * Double(r) + 1.3 * Double(h)) + 0.1 * Double(r))) } }
        return t
    }

    /// Expected values from scipy (scripts/relative_bias_reference.py): the reference's geometric
    /// grid + FITPACK bicubic interpolating spline.
    func testReferenceMethodMatchesScipy() throws {
        let out = try PositionInterpolation.relativePositionBiasTable(table(side: 5, heads: 2), heads: 2, toWindow: 4)
        XCTAssertEqual(out.count, 49 * 2)
        let idx = [0, 1, 9, 24, 48]
        let expected: [[Double]] = [[2.4236542494675196e-17, 0.9635581970214844], [0.10453956574201584, 1.0143157243728638],
                                    [1.7552505731582642, 1.0374314785003662], [0.23686906695365906, 0.6831345558166504],
                                    [2.9182281494140625, 1.7145496606826782]]
        for (i, row) in zip(idx, expected) {
            for h in 0..<2 { XCTAssertEqual(Double(out[i * 2 + h]), row[h], accuracy: 2e-6, "row \(i) head \(h)") }
        }
        // Swin-B 224 (window 7) to 384 (window 12)
        let big = try PositionInterpolation.relativePositionBiasTable(table(side: 13, heads: 1), heads: 1, toWindow: 12)
        XCTAssertEqual(big.count, 23 * 23)
        let e2: [Double] = [-2.7329940621712012e-06, 0.14668644964694977, 0.1709040403366089, 8.070356369018555, 16.17755889892578]
        for (i, e) in zip([0, 1, 25, 264, 528], e2) { XCTAssertEqual(Double(big[i]), e, accuracy: 2e-5, "row \(i)") }
    }

    func testSameWindowIsIdentityAndBadShapesThrow() throws {
        let t = table(side: 13, heads: 3)
        XCTAssertEqual(try PositionInterpolation.relativePositionBiasTable(t, heads: 3, toWindow: 7), t)
        XCTAssertThrowsError(try PositionInterpolation.relativePositionBiasTable([1, 2, 3], heads: 1, toWindow: 2))
        XCTAssertThrowsError(try PositionInterpolation.relativePositionBiasTable([1, 2, 3, 4], heads: 1, toWindow: 2)) // 4 rows: even side
    }

    /// Hand-computed torch bicubic (A = -0.75, align_corners=False): [0, 1] -> 4 samples.
    /// out[0]: src -0.25, t = 0.75, taps (0,0,0,1) with weights (-0.03515625, 0.26171875,
    /// 0.87890625, -0.10546875) -> -0.10546875; out[1]: src 0.25 -> 0.26171875 - 0.03515625.
    func testTorchBicubicHandComputed() throws {
        let r = try PositionInterpolation.bicubic([0, 1], channels: 1, inH: 1, inW: 2, outH: 1, outW: 4)
        XCTAssertEqual(r, [-0.10546875, 0.2265625, 0.7734375, 1.10546875])
        let c = try PositionInterpolation.bicubic([Float](repeating: 3.25, count: 2 * 9), channels: 2, inH: 3, inW: 3, outH: 5, outW: 4)
        for v in c { XCTAssertEqual(v, 3.25, accuracy: 4e-6) }  // weights are computed in Float, as torch does
        let same: [Float] = (0..<12).map { Float($0) }
        XCTAssertEqual(try PositionInterpolation.bicubic(same, channels: 1, inH: 3, inW: 4, outH: 3, outW: 4), same)
        // torch method for the bias table is also offered
        let tb = try PositionInterpolation.relativePositionBiasTable(table(side: 5, heads: 1), heads: 1, toWindow: 4, method: .torchBicubic)
        XCTAssertEqual(tb.count, 49)
    }
}
