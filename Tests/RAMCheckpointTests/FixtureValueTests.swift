import Foundation
import XCTest
@testable import RAMCheckpoint

final class FixtureValueTests: XCTestCase {
    /// Values read independently from the .pdparams with numpy (pickle.load) — a different writer
    /// (paddle) and a different reader (numpy) from our .pth path.
    func testSpotValuesAgainstNumpyReadings() throws {
        let t = try Checkpoint.load(try Fixtures.url("ram_plus_vit_tiny_224.pth"))
        let cls = try XCTUnwrap(t["visual_encoder.cls_token"]).floats()
        XCTAssertEqual(Array(cls.prefix(3)), [0.07869119197130203, 0.021657703444361687, -0.09284522384405136].map { Float($0) })
        let le = try XCTUnwrap(t["label_embed"]).floats()
        XCTAssertEqual(Array(le.prefix(3)), [-0.005585928447544575, -0.024829505011439323, 0.008153685368597507].map { Float($0) })
        XCTAssertEqual(Array(le.suffix(2)), [-0.047251228243112564, 0.08053644746541977].map { Float($0) })
        // qkv.weight is [192, 64] in torch; numpy's Paddle copy is [64, 192]: [0][0..2] and [1][0..2]
        // there are torch's [0..2][0] and [0..2][1].
        let q = try XCTUnwrap(t["visual_encoder.blocks.0.attn.qkv.weight"])
        XCTAssertEqual(q.shape, [192, 64])
        let qf = try q.floats()
        XCTAssertEqual([qf[0 * 64 + 0], qf[1 * 64 + 0], qf[2 * 64 + 0]], [-0.03641974925994873, 0.020708149299025536, 0.0335380956530571].map { Float($0) })
        XCTAssertEqual([qf[0 * 64 + 1], qf[1 * 64 + 1], qf[2 * 64 + 1]], [-0.01958015002310276, 0.010562384501099586, 0.07457897067070007].map { Float($0) })
    }

    /// Swin's relative_position_index is a known function of the window (Swin paper §3.2):
    /// index[i][j] = (hi - hj + W - 1)·(2W - 1) + (wi - wj + W - 1), i = hi·W + wi. Checks the
    /// int64 storage path end to end.
    func testRelativePositionIndexIsTheSwinFormula() throws {
        let c = try Checkpoint.open(try Fixtures.url("ram_swin_tiny_384.pth"))
        let w = 12  // configs/swin/config_swinB_384.json window_size
        let keys = c.keys.filter { $0.hasSuffix("relative_position_index") }
        XCTAssertEqual(keys.count, 8)  // depths [2, 2, 2, 2]
        var expected = [Int64](repeating: 0, count: w * w * w * w)
        for i in 0..<(w * w) {
            for j in 0..<(w * w) {
                expected[i * w * w + j] = Int64((i / w - j / w + w - 1) * (2 * w - 1) + (i % w - j % w + w - 1))
            }
        }
        for k in keys {
            let t = try XCTUnwrap(c.tensors[k])
            XCTAssertEqual(t.dtype, .int64, k)
            XCTAssertEqual(t.shape, [w * w, w * w], k)
            XCTAssertEqual(try t.int64s(), expected, k)
            XCTAssertEqual(try t.floats().map { Int64($0) }, expected, k)
        }
    }

    /// RAM ties the two lowest tag_encoder layers to tagging_head: one storage behind both keys.
    /// (The text decoder's LM head is also tied to its word embeddings, as in BERT.)
    func testSharedStoragesDetected() throws {
        let c = try Checkpoint.open(try Fixtures.url("ram_swin_tiny_384.pth"))
        let shared = c.sharedStorages
        XCTAssertEqual(shared.count, 34)
        var tagPairs = 0
        var others: [[String]] = []
        for (_, names) in shared {
            XCTAssertEqual(names.count, 2)
            if names[0].hasPrefix("tag_encoder.encoder.layer.") {
                XCTAssertEqual(names[1], names[0].replacingOccurrences(of: "tag_encoder.", with: "tagging_head."))
                tagPairs += 1
            } else {
                others.append(names)
            }
        }
        XCTAssertEqual(tagPairs, 32)
        XCTAssertEqual(others.sorted { $0[0] < $1[0] }, [
            ["text_decoder.bert.embeddings.word_embeddings.weight", "text_decoder.cls.predictions.decoder.weight"],
            ["text_decoder.cls.predictions.bias", "text_decoder.cls.predictions.decoder.bias"],
        ])
        XCTAssertEqual(c.tiedGroups.count, 34)
        let a = try XCTUnwrap(c.tensors["tag_encoder.encoder.layer.0.crossattention.self.query.weight"])
        let b = try XCTUnwrap(c.tensors["tagging_head.encoder.layer.0.crossattention.self.query.weight"])
        XCTAssertEqual(a.storageKey, b.storageKey)
        XCTAssertEqual(try a.floats(), try b.floats())
        // RAM++ fixtures have no tied weights
        XCTAssertTrue(try Checkpoint.open(try Fixtures.url("ram_plus_vit_tiny_224.pth")).sharedStorages.isEmpty)
    }

    /// The .pdparams equals the .pth once its Linear weights are transposed back.
    /// Rule for "Linear weight": a .pth key ending in `.weight` whose tensor is 2-D and is not an
    /// nn.Embedding table (names containing `embeddings.`): in these models every other 2-D
    /// `.weight` is an nn.Linear (LayerNorm weights are 1-D, convolutions 4-D; `label_embed`,
    /// `pos_embed`, `cls_token` do not end in `.weight`). Paddle's Linear stores [in, out].
    func testPdparamsEqualsPthAfterTransposingLinearWeights() throws {
        let pth = try Checkpoint.load(try Fixtures.url("ram_plus_vit_tiny_224.pth"))
        let pd = try Checkpoint.load(try Fixtures.url("ram_plus_vit_tiny_224.pdparams"))
        XCTAssertEqual(Set(pth.keys), Set(pd.keys))
        let linear = Set(pth.filter { $0.key.hasSuffix(".weight") && $0.value.shape.count == 2 && !$0.key.contains("embeddings.") }.keys)
        XCTAssertEqual(linear.count, 23)
        // square Linear weights exist (attn.proj is [64, 64]): shape alone could not tell
        XCTAssertTrue(linear.contains { pth[$0]!.shape[0] == pth[$0]!.shape[1] })
        let fixed = try PaddleParams.transposingLinearWeights(pd, keys: linear)
        for (k, t) in pth {
            let p = try XCTUnwrap(fixed[k], k)
            XCTAssertEqual(p.shape, t.shape, k)
            let a = try t.floats(), b = try p.floats()
            XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), k)
        }
        // without the transpose, a square Linear weight differs
        let sq = try XCTUnwrap(linear.first { pth[$0]!.shape[0] == pth[$0]!.shape[1] })
        XCTAssertNotEqual(try pth[sq]!.floats(), try pd[sq]!.floats())
        XCTAssertThrowsError(try PaddleParams.transposingLinearWeights(pd, keys: ["nope.weight"]))
        XCTAssertThrowsError(try PaddleParams.transposingLinearWeights(pd, keys: ["visual_encoder.cls_token"]))
    }

    /// After the reference's sanitize (drop relative_position_index / attn_mask), every fixture's
    /// state dict is identified correctly.
    func testSanitizeAndIdentify() throws {
        let ram = try Checkpoint.open(try Fixtures.url("ram_swin_tiny_384.pth"))
        let s = try StateDictSanitizer.ramReference.apply(ram.tensors)
        XCTAssertEqual(s.dropped.count, 8 + ram.keys.filter { $0.contains("attn_mask") }.count)
        XCTAssertFalse(s.tensors.keys.contains { $0.contains("relative_position_index") || $0.contains("attn_mask") })
        let id = CheckpointIdentity.identify(ram.shapes)
        XCTAssertEqual(id.arch, .ram)
        XCTAssertEqual(id.numTags, 64)
        XCTAssertEqual(id.backbone, .swin(embedDim: 32))
        XCTAssertEqual(id.windowSize, 12)
        XCTAssertEqual(id.description, "RAM (has label_embed [64, 512] and tag_encoder / text_decoder), Swin (embed_dim 32, window 12), 64 tags")

        let plus = CheckpointIdentity.identify(try Checkpoint.open(try Fixtures.url("ram_plus_swin_tiny_224.pth")).shapes)
        XCTAssertEqual(plus.arch, .ramPlus)
        XCTAssertEqual(plus.numTags, 64)
        XCTAssertEqual(plus.windowSize, 7)
        XCTAssertEqual(plus.description, "RAM++ (has label_embed [64*51, 512] and reweight_scale), Swin (embed_dim 32, window 7), 64 tags")

        let vit = CheckpointIdentity.identify(try Checkpoint.open(try Fixtures.url("ram_plus_vit_tiny_224.pth")).shapes)
        XCTAssertEqual(vit.arch, .ramPlus)
        XCTAssertEqual(vit.backbone, .vit(embedDim: 64))
    }
}
