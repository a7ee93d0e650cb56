import Foundation
import XCTest
@testable import RAMCheckpoint

final class FixtureLoadTests: XCTestCase {
    /// Every .pth fixture loads, with exactly the manifest's number of state-dict keys, from under 'model'.
    func testEveryPthFixtureLoadsWithManifestKeyCount() throws {
        let manifest = try Fixtures.manifest()
        let models = try XCTUnwrap(manifest["models"] as? [String: [String: Any]])
        XCTAssertEqual(models.count, 3)
        for (name, m) in models.sorted(by: { $0.key < $1.key }) {
            let file = try XCTUnwrap(m["checkpoint"] as? String)
            let expectedKeys = try XCTUnwrap(m["state_dict_keys"] as? Int)
            let c = try Checkpoint.open(try Fixtures.url(file))
            XCTAssertEqual(c.format, .torchZip, name)
            XCTAssertEqual(c.stateDictKey, "model", name)
            XCTAssertEqual(c.tensors.count, expectedKeys, name)
            XCTAssertEqual(c.keys.count, expectedKeys, name)
            // every tensor converts
            var total = 0
            for (k, t) in c.tensors {
                let f = try t.floats()
                XCTAssertEqual(f.count, t.count, k)
                if t.dtype == .float32 { total += t.count }
            }
            // the manifest's parameter count counts parameters (float32), not the int64 index buffers
            let params = try XCTUnwrap(m["parameters"] as? Int)
            XCTAssertGreaterThanOrEqual(total, params, name)
        }
    }

    func testLabelEmbedShapeAndReweightScale() throws {
        let t = try Checkpoint.load(try Fixtures.url("ram_plus_vit_tiny_224.pth"))
        let le = try XCTUnwrap(t["label_embed"])
        XCTAssertEqual(le.shape, [64 * 51, 512])
        XCTAssertEqual(le.dtype, .float32)
        let rs = try XCTUnwrap(t["reweight_scale"])
        XCTAssertEqual(rs.shape, [])
        // nn.Parameter(torch.ones([]) * np.log(1 / 0.07)) in ram_plus.py
        XCTAssertEqual(try rs.floats()[0], Float(log(1 / 0.07)), accuracy: 1e-6)
    }

    func testExpectedSafeTensorsRead() throws {
        let t = try SafeTensors.read(try Fixtures.url("ram_plus_vit_tiny_224.expected.safetensors"))
        let logits = try XCTUnwrap(t["whl_demo.logits"])
        XCTAssertEqual(logits.shape, [1, 64])
        XCTAssertEqual(try XCTUnwrap(t["whl_demo.input"]).shape, [1, 3, 224, 224])
        XCTAssertEqual(try XCTUnwrap(t["whl_demo.image_embeds"]).shape, [1, 197, 512])
        // Checkpoint.load recognises safetensors by content too
        XCTAssertEqual(try Checkpoint.open(try Fixtures.url("ram_plus_vit_tiny_224.expected.safetensors")).format, .safetensors)
        // the input tensor is ImageNet-normalised pixels: within [(0-0.485)/0.229, (1-0.406)/0.225]
        let x = try XCTUnwrap(t["whl_demo.input"]).floats()
        XCTAssertGreaterThanOrEqual(x.min()!, -2.1179 - 1e-3)
        XCTAssertLessThanOrEqual(x.max()!, 2.6400 + 1e-3)
    }

    func testPdparamsLoads() throws {
        let c = try Checkpoint.open(try Fixtures.url("ram_plus_vit_tiny_224.pdparams"))
        XCTAssertEqual(c.format, .pickle)
        XCTAssertEqual(c.tensors.count, 70)
        XCTAssertEqual(c.ignored, ["StructuredToParameterName@@"])
        XCTAssertEqual(c.tensors["visual_encoder.blocks.0.attn.qkv.weight"]?.shape, [64, 192])
    }
}
