import Foundation
import XCTest
@testable import RAMBackbones
import RAMCore

/// Index tables, configs and position-embedding interpolation of the image encoders, checked
/// against hand-computed values.
final class BackboneGeometryTests: XCTestCase {
    func testRelativePositionIndexOfA2x2Window() {
        // Tokens (0,0), (0,1), (1,0), (1,1); entry = (Δrow + 1)·3 + (Δcol + 1).
        XCTAssertEqual(SwinGeometry.relativePositionIndex(window: 2),
                       [4, 3, 1, 0,
                        5, 4, 2, 1,
                        7, 6, 4, 3,
                        8, 7, 5, 4])
        let w7 = SwinGeometry.relativePositionIndex(window: 7)
        XCTAssertEqual(w7.count, 49 * 49)
        XCTAssertEqual(w7.min(), 0)
        XCTAssertEqual(w7.max(), 168)            // (2·7−1)² − 1
        XCTAssertEqual(w7[0], 84)                // the centre of the 13×13 table
        XCTAssertEqual(w7[48], 0)                // (0,0) against (6,6)
    }

    func testPartitionOrderWithoutShiftIsWindowMajor() {
        // 4×4 grid, 2×2 windows: window 0 holds raster tokens 0, 1, 4, 5; window 1 holds 2, 3, 6, 7.
        XCTAssertEqual(SwinGeometry.partitionOrder(resolution: 4, window: 2, shift: 0),
                       [0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15])
    }

    func testPartitionOrderWithShiftRollsByMinusShift() {
        // roll by −1 on both axes: shifted (i, j) = original ((i+1)%4, (j+1)%4).
        let order = SwinGeometry.partitionOrder(resolution: 4, window: 2, shift: 1)
        XCTAssertEqual(Array(order[0..<4]), [5, 6, 9, 10])
        XCTAssertEqual(Array(order[12..<16]), [15, 12, 3, 0])
        let inverse = SwinGeometry.inverse(order)
        for (j, i) in order.enumerated() { XCTAssertEqual(inverse[i], j) }
    }

    func testShiftedWindowMask() {
        // 4×4 grid, window 2, shift 1: bands along each axis are rows [0,2) | [2,3) | [3,4).
        let mask = SwinGeometry.attentionMask(resolution: 4, window: 2, shift: 1)
        XCTAssertEqual(mask.count, 4 * 4 * 4)
        // Window 0 (rows 0–1, cols 0–1) lies in band (0, 0): no masking.
        XCTAssertEqual(Array(mask[0..<16]), [Float](repeating: 0, count: 16))
        // Window 3 (rows 2–3, cols 2–3): labels of its tokens (2,2),(2,3),(3,2),(3,3) are 4, 5, 7, 8.
        let w3 = Array(mask[48..<64])
        XCTAssertEqual(w3, [0, -100, -100, -100,
                            -100, 0, -100, -100,
                            -100, -100, 0, -100,
                            -100, -100, -100, 0])
        // Window 1 (rows 0–1, cols 2–3): labels 1, 2, 1, 2.
        XCTAssertEqual(Array(mask[16..<32]), [0, -100, 0, -100,
                                              -100, 0, -100, 0,
                                              0, -100, 0, -100,
                                              -100, 0, -100, 0])
    }

    func testEffectiveWindow() {
        XCTAssertEqual(SwinGeometry.effectiveWindow(resolution: 56, window: 7, oddBlock: true).shift, 3)
        XCTAssertEqual(SwinGeometry.effectiveWindow(resolution: 56, window: 7, oddBlock: false).shift, 0)
        let last = SwinGeometry.effectiveWindow(resolution: 12, window: 12, oddBlock: true)
        XCTAssertEqual(last.window, 12)
        XCTAssertEqual(last.shift, 0)
        let small = SwinGeometry.effectiveWindow(resolution: 7, window: 12, oddBlock: true)
        XCTAssertEqual(small.window, 7)
        XCTAssertEqual(small.shift, 0)
    }

    // MARK: configs

    func testPresets() throws {
        let l384 = try SwinConfig.preset("swin_l", imageSize: 384)
        XCTAssertEqual(l384.embedDim, 192)
        XCTAssertEqual(l384.depths, [2, 2, 18, 2])
        XCTAssertEqual(l384.numHeads, [6, 12, 24, 48])
        XCTAssertEqual(l384.windowSize, 12)
        XCTAssertEqual(l384.numFeatures, 1536)
        XCTAssertEqual(l384.numTokens, 144)
        let b224 = try SwinConfig.preset("swin_b", imageSize: 224)
        XCTAssertEqual(b224.windowSize, 7)
        XCTAssertEqual(b224.numFeatures, 1024)
        XCTAssertEqual(b224.numTokens, 49)
        XCTAssertThrowsError(try SwinConfig.preset("swin_t", imageSize: 224))
        XCTAssertThrowsError(try SwinConfig.preset("swin_l", imageSize: 300))
        let vit = try ViTConfig.preset("large", imageSize: 384)
        XCTAssertEqual([vit.embedDim, vit.depth, vit.numHeads, vit.numPatches], [1024, 24, 16, 576])
    }

    func testShippedReferenceConfigsMatchPresets() throws {
        let folder = packageRoot.appendingPathComponent("Sources/RAMCore/Resources/data/reference-configs/swin")
        for (file, name, size) in [("config_swinB_224.json", "swin_b", 224), ("config_swinB_384.json", "swin_b", 384),
                                   ("config_swinL_224.json", "swin_l", 224), ("config_swinL_384.json", "swin_l", 384)] {
            let value = try loadVisionConfigFile(folder.appendingPathComponent(file))
            let preset = try SwinConfig.preset(name, imageSize: size)
            XCTAssertEqual(try preset.overridden(by: value, source: file), preset, file)
        }
    }

    func testFixtureVisionConfigOverridesPreset() throws {
        let url = try sharedFixture("configs/swin/config_swinB_384.json")
        let backbone = try BackboneFactory.make(name: "swin_b", imageSize: 384, visionConfigFile: url)
        let swin = try XCTUnwrap(backbone as? SwinTransformer)
        XCTAssertEqual(swin.config.embedDim, 32)
        XCTAssertEqual(swin.config.depths, [2, 2, 2, 2])
        XCTAssertEqual(swin.config.numHeads, [1, 2, 4, 8])
        XCTAssertEqual(swin.config.windowSize, 12)
        XCTAssertEqual(swin.outputDim, 256)
        // Last stage: 12×12 grid ≤ window 12, so no shift and no mask.
        XCTAssertEqual(swin.layers[3].blocks[1].shift, 0)
        XCTAssertEqual(swin.layers[0].blocks[1].shift, 6)
        XCTAssertNil(swin.layers[3].downsample)

        let vitURL = try sharedFixture("configs/vit_tiny.json")
        let vit = try XCTUnwrap(try BackboneFactory.make(name: "base", imageSize: 224, visionConfigFile: vitURL)
                                as? VisionTransformer)
        XCTAssertEqual([vit.config.embedDim, vit.config.depth, vit.config.numHeads], [64, 2, 2])
        XCTAssertEqual(vit.config.layerNormEps, 1e-6)
    }

    func testBadVisionConfigsThrowClearErrors() {
        func message(_ body: () throws -> Any) -> String {
            do { _ = try body(); return "no error" } catch { return "\(error)" }
        }
        let typo = BackboneConfigValue.map([("embed_dm", .int(64))])
        XCTAssertTrue(message { try BackboneFactory.make(name: "swin_b", imageSize: 224, visionConfig: typo, source: "Arch.vision_config") }
                      .contains("unknown key 'embed_dm' (did you mean 'embed_dim'?)"))
        let width = BackboneConfigValue.map([("vision_width", .int(1000))])
        XCTAssertTrue(message { try BackboneFactory.make(name: "swin_b", imageSize: 224, visionConfig: width) }
                      .contains("vision_width: 1000 does not match"))
        let window = BackboneConfigValue.map([("window_size", .int(5))])
        XCTAssertTrue(message { try BackboneFactory.make(name: "swin_b", imageSize: 224, visionConfig: window) }
                      .contains("not a multiple of window_size 5"))
        let heads = BackboneConfigValue.map([("num_heads", .list([.int(3), .int(6)]))])
        XCTAssertTrue(message { try BackboneFactory.make(name: "swin_l", imageSize: 224, visionConfig: heads) }
                      .contains("num_heads has 2 entries but depths has 4"))
        let type = BackboneConfigValue.map([("depth", .string("two"))])
        XCTAssertTrue(message { try BackboneFactory.make(name: "base", imageSize: 224, visionConfig: type) }
                      .contains("depth: expected an integer"))
        let res = BackboneConfigValue.map([("image_res", .int(384))])
        XCTAssertTrue(message { try BackboneFactory.make(name: "swin_b", imageSize: 224, visionConfig: res) }
                      .contains("must agree"))
        XCTAssertTrue(message { try BackboneFactory.make(name: "swin_x", imageSize: 224) }.contains("did you mean"))
        XCTAssertTrue(message { try loadVisionConfigFile(URL(fileURLWithPath: "/nonexistent/v.json")) }
                      .contains("/nonexistent/v.json"))
        XCTAssertTrue(message { try BackboneConfigValue.parseJSON(Data("{".utf8), source: "x.json") }
                      .contains("x.json: not valid JSON"))
    }

    // MARK: position embedding interpolation

    func testBicubicTapsMatchHandComputedKeysWeights() {
        // 2 → 4: source coordinates −0.25, 0.25, 0.75, 1.25.
        let taps = bicubicTaps(inSize: 2, outSize: 4)
        XCTAssertEqual(taps[0].0, [0, 0, 0, 1])          // i0 = −1, taps −2…1 clamped
        // t = 0.75: weights cubic2(1.75), cubic1(0.75), cubic1(0.25), cubic2(1.25), A = −0.75.
        let expected = [-0.03515625, 0.26171875, 0.87890625, -0.10546875]
        for (w, e) in zip(taps[0].1, expected) { XCTAssertEqual(w, e, accuracy: 1e-12) }
        for (_, w) in taps { XCTAssertEqual(w.reduce(0, +), 1, accuracy: 1e-12) }
    }

    func testInterpolatePosEmbed() {
        // One extra token, a 2×2 grid, one channel: the extra row is kept; a 2×2 → 4×4 of a
        // function of x only is that function's 1-D bicubic resampling on every row.
        let values: [Float] = [42, 0, 1, 0, 1]
        let out = interpolatePosEmbed(values, extraTokens: 1, oldGrid: 2, newGrid: 4, dim: 1)
        XCTAssertEqual(out.count, 17)
        XCTAssertEqual(out[0], 42)
        // Row output: x = −0.25 → 0·(w0+w1+w2) + 1·w3 = −0.10546875; symmetric at the other end.
        let row: [Float] = [-0.10546875, 0.2265625, 0.7734375, 1.10546875]
        for y in 0..<4 {
            for x in 0..<4 { XCTAssertEqual(out[1 + y * 4 + x], row[x], accuracy: 1e-6, "(\(y), \(x))") }
        }
        // Same size: unchanged.
        XCTAssertEqual(interpolatePosEmbed(values, extraTokens: 1, oldGrid: 2, newGrid: 2, dim: 1), values)
    }
}

// MARK: - helpers shared by the backbone tests

/// The package root, from this file's location.
let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// A file under `../shared/fixtures`, or an `XCTSkip` saying why not.
func sharedFixture(_ relative: String) throws -> URL {
    let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures")
        .appendingPathComponent(relative)
    guard FileManager.default.fileExists(atPath: url.path) else {
        throw XCTSkip("../shared/fixtures/\(relative) is absent (the shared reference material is not beside the package)")
    }
    return url
}

/// Registration in the backbone registry and building from a config node.
final class BackboneRegistryTests: XCTestCase {
    func testRegisteredNamesAndBuildFromConfig() throws {
        let registries = Registries()
        try BackbonesPlugin.register(into: registries)
        XCTAssertEqual(registries.backbone.names, ["base", "large", "swin_b", "swin_l"])
        XCTAssertThrowsError(try BackbonesPlugin.register(into: registries))   // duplicate names

        let config = try sharedFixture("configs/swin/config_swinB_224.json")
        let node = ConfigNode.map([(key: "image_size", value: .int(224)),
                                   (key: "vision_config", value: .string(config.path))])
        let built = try registries.backbone.build("swin_b", ComponentConfig(path: "Arch", node: node, registries: registries))
        XCTAssertEqual(built.outputDim, 256)

        let inline = ConfigNode.map([(key: "image_size", value: .int(224)),
                                     (key: "vision_config", value: .map([(key: "embed_dim", value: .int(16)),
                                                                         (key: "depth", value: .int(1)),
                                                                         (key: "num_heads", value: .int(2))]))])
        let vit = try XCTUnwrap(try registries.backbone.build("base", ComponentConfig(path: "Arch", node: inline,
                                                                                         registries: registries))
                                as? VisionTransformer)
        XCTAssertEqual([vit.config.embedDim, vit.config.depth, vit.config.numHeads, vit.config.numPatches], [16, 1, 2, 196])

        let typo = ConfigNode.map([(key: "image_sise", value: .int(224))])
        XCTAssertThrowsError(try registries.backbone.build("swin_b", ComponentConfig(path: "Arch", node: typo,
                                                                                     registries: registries))) {
            XCTAssertTrue("\($0)".contains("image_sise"), "\($0)")
        }
        let missing = ConfigNode.map([(key: "image_size", value: .int(224)),
                                      (key: "vision_config", value: .string("no_such_config.json"))])
        XCTAssertThrowsError(try registries.backbone.build("swin_l", ComponentConfig(path: "Arch", node: missing,
                                                                                     registries: registries))) {
            XCTAssertTrue("\($0)".contains("no_such_config.json"), "\($0)")
        }
    }
}

/// Vision configs: every size is bounded, `layer_norm_eps` must be positive and finite, and each
/// zero or negative size is named in its own message (QA findings 3, 4, 6).
final class VisionConfigLimitsTests: XCTestCase {
    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }

    func swin(_ pairs: [(String, BackboneConfigValue)]) -> String {
        message { try SwinConfig.preset("swin_b", imageSize: 224).overridden(by: .map(pairs), source: "sw.json") }
    }

    func vit(_ pairs: [(String, BackboneConfigValue)]) -> String {
        message { try ViTConfig.preset("base", imageSize: 224).overridden(by: .map(pairs), source: "vit.json") }
    }

    func testLayerNormEpsMustBePositiveAndFinite() {
        for eps in [-1.0, 0, .nan, .infinity] {
            XCTAssertEqual(swin([("layer_norm_eps", .double(eps))]), "sw.json: layer_norm_eps must be a positive finite number, got \(eps)")
            XCTAssertEqual(vit([("layer_norm_eps", .double(eps))]), "vit.json: layer_norm_eps must be a positive finite number, got \(eps)")
        }
        // Below Float's range it would become 0.
        XCTAssertEqual(vit([("layer_norm_eps", .double(1e-60))]), "vit.json: layer_norm_eps must be a positive finite number, got 0.0")
        XCTAssertEqual(swin([("layer_norm_eps", .double(1e-5))]), "no error")
    }

    func testEachNonPositiveSwinSizeIsNamed() {
        XCTAssertEqual(swin([("window_size", .int(0))]), "sw.json: window_size must be positive, got 0")
        XCTAssertEqual(swin([("embed_dim", .int(0))]), "sw.json: embed_dim must be positive, got 0")
        XCTAssertEqual(swin([("embed_dim", .int(-8))]), "sw.json: embed_dim must be positive, got -8")
        XCTAssertEqual(swin([("patch_size", .int(0))]), "sw.json: patch_size must be positive, got 0")
        XCTAssertEqual(swin([("in_chans", .int(0))]), "sw.json: in_chans must be positive, got 0")
        XCTAssertEqual(swin([("depths", .list([.int(2), .int(-1), .int(2), .int(2)]))]), "sw.json: depths[1] must not be negative, got -1")
        XCTAssertEqual(swin([("num_heads", .list([.int(4), .int(0), .int(16), .int(32)]))]), "sw.json: num_heads[1] must be positive, got 0")
        XCTAssertEqual(swin([("depths", .list([]))]), "sw.json: depths must be a non-empty list, got []")
    }

    func testSwinSizesAreBounded() {
        XCTAssertEqual(swin([("embed_dim", .int(1_099_511_627_776))]), "sw.json: embed_dim is 1099511627776; at most 65536 is accepted")
        XCTAssertEqual(swin([("depths", .list([.int(2), .int(2), .int(1000), .int(2)]))]), "sw.json: depths[2] is 1000; at most 256 is accepted")
        XCTAssertEqual(swin([("num_heads", .list([.int(4), .int(8), .int(4096), .int(32)]))]), "sw.json: num_heads[2] is 4096; at most 1024 is accepted")
        XCTAssertEqual(swin([("mlp_ratio", .double(1e12))]), "sw.json: mlp_ratio is 1000000000000.0; at most 64.0 is accepted")
        XCTAssertEqual(swin([("mlp_ratio", .double(.nan))]), "sw.json: mlp_ratio must be a positive finite number, got nan")
        XCTAssertEqual(swin([("window_size", .int(100_000))]), "sw.json: window_size is 100000; at most 8192 is accepted")
        XCTAssertEqual(swin([("drop_path_rate", .double(5))]), "sw.json: drop_path_rate must be in [0, 1), got 5.0")
        // Stage widths double: 16384·2^3 is beyond the width bound.
        XCTAssertEqual(swin([("embed_dim", .int(16384)), ("num_heads", .list([.int(4), .int(8), .int(16), .int(32)]))]),
                       "sw.json: the last stage is embed_dim·2^(stages-1) = 16384·2^3 = 131072 wide; at most 65536 is accepted")
        XCTAssertTrue(swin([("depths", .list(Array(repeating: .int(1), count: 17))),
                            ("num_heads", .list(Array(repeating: .int(1), count: 17)))]).contains("at most 16 are accepted"))
    }

    func testViTSizesAreBounded() {
        XCTAssertEqual(vit([("embed_dim", .int(1_048_576)), ("num_heads", .int(1))]), "vit.json: embed_dim is 1048576; at most 65536 is accepted")
        XCTAssertEqual(vit([("mlp_ratio", .double(1e12))]), "vit.json: mlp_ratio is 1000000000000.0; at most 64.0 is accepted")
        XCTAssertEqual(vit([("mlp_ratio", .double(-1))]), "vit.json: mlp_ratio must be a positive finite number, got -1.0")
        XCTAssertEqual(vit([("depth", .int(1_000_000_000))]), "vit.json: depth is 1000000000; at most 256 is accepted")
        XCTAssertEqual(vit([("num_heads", .int(0))]), "vit.json: num_heads must be positive, got 0")
        XCTAssertEqual(vit([("patch_size", .int(1))]), "vit.json: image size 224 / patch_size 1 gives 50176 patch tokens; at most 16384 are accepted")
        XCTAssertEqual(vit([("patch_size", .int(7))]), "no error")
    }
}
