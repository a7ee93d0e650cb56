import Foundation
import RAMCore
import RAMDefaultPlugins
@testable import RAMModels
import RAMNN
import RAMTensor
import XCTest

/// Builds a fixture model through the registries from its config, and loads its checkpoint.
func buildFixtureModel(_ name: String) throws -> (model: any TaggingModel, plan: RAMArchPlan) {
    let dir = try Fixtures.requireFixtures()
    let file = Fixtures.packageRoot.appendingPathComponent("configs/fixtures/\(name).yaml")
    let registries = try DefaultPlugins.registries()
    let root = try ConfigNode.load(file: file)
    var arch = try XCTUnwrap(root["Arch"])
    let archName = try XCTUnwrap(arch["name"]?.stringValue)
    arch = arch.removing(key: "name")
    let cc = ComponentConfig(path: "Arch", node: arch, registries: registries, baseDirectory: file.deletingLastPathComponent())
    let plan = try RAMArchPlan(arch: archName, config: cc)
    guard registries.backbone.contains(plan.vit) else {
        throw XCTSkip("backbone '\(plan.vit)' is not registered by DefaultPlugins yet (backbones branch)")
    }
    let model = try registries.arch.build(archName, cc)
    let loadable = try XCTUnwrap(model as? PretrainedLoadable)
    let summary = try loadable.loadPretrained(from: dir.appendingPathComponent("\(name).pth"))
    XCTAssertTrue(summary.contains("0 missing, 0 unexpected"), summary)
    return (model, plan)
}

/// Whole models from the reference's stored `input` tensors: backbone output, image_embeds and
/// logits within 2e-4 of the reference's; a batch equals one image at a time.
final class ModelParityTests: XCTestCase {
    private func check(_ name: String) throws {
        let dir = try Fixtures.requireFixtures()
        let (model, _) = try buildFixtureModel(name)
        let m = try XCTUnwrap(try Fixtures.manifest().models.first { $0.name == name })
        let expected = try Fixtures.safetensors(dir.appendingPathComponent(m.expected))
        let images = m.tags.keys.sorted()
        var inputs: [Tensor] = []
        var singles: [TaggingOutput] = []
        for image in images {
            let x = try XCTUnwrap(expected["\(image).input"])
            let input = Tensor(shape: x.shape, scalars: x.values)
            inputs.append(input)
            let out = withNoGrad { model.forward(input) }
            singles.append(out)
            for (key, got) in [("visual_encoder", out.visual), ("image_embeds", out.imageEmbeds), ("logits", Optional(out.logits))] {
                let e = try XCTUnwrap(expected["\(image).\(key)"])
                let g = try XCTUnwrap(got, "\(name) \(image): no \(key)")
                XCTAssertEqual(g.shape, e.shape, "\(name) \(image) \(key)")
                XCTAssertLessThan(maxAbsDiff(g.scalars, e.values), 2e-4, "\(name) \(image) \(key)")
            }
        }
        // Three images as one batch (debug builds are slow: not all seven).
        let batch = withNoGrad { model.forward(concat(Array(inputs.prefix(3)), axis: 0)) }
        XCTAssertEqual(batch.logits.shape, [3, m.numTags])
        for (i, single) in singles.prefix(3).enumerated() {
            let row = batch.logits.slice(axis: 0, i..<(i + 1)).scalars
            XCTAssertLessThan(maxAbsDiff(row, single.logits.scalars), 1e-4, "\(name) batch row \(i)")
        }
    }

    /// The kernels split work between threads without changing any element's order of
    /// operations, so one thread and all threads give bit-identical results.
    func testResultsDoNotDependOnTheThreadCount() throws {
        let dir = try Fixtures.requireFixtures()
        for name in ["ram_plus_swin_tiny_224", "ram_plus_vit_tiny_224"] {
            let (model, _) = try buildFixtureModel(name)
            let m = try XCTUnwrap(try Fixtures.manifest().models.first { $0.name == name })
            let expected = try Fixtures.safetensors(dir.appendingPathComponent(m.expected))
            let inputs = try m.tags.keys.sorted().prefix(2).map { image -> Tensor in
                let x = try XCTUnwrap(expected["\(image).input"])
                return Tensor(shape: x.shape, scalars: x.values)
            }
            let batch = concat(inputs, axis: 0)
            let saved = Parallel.threads
            defer { Parallel.threads = saved }
            Parallel.threads = 2
            let two = withNoGrad { model.forward(batch) }
            Parallel.threads = 1
            let one = withNoGrad { model.forward(batch) }
            XCTAssertEqual(one.logits.scalars, two.logits.scalars, "\(name): logits differ between 1 and 2 threads")
            XCTAssertEqual(one.imageEmbeds?.scalars, two.imageEmbeds?.scalars, "\(name): image_embeds differ")
        }
    }

    /// `ram infer` packs the linear weights of the model it builds (`packLinearLayersForInference`):
    /// the same logits to the bit, for all three fixture models, and still within 2e-4 of the
    /// reference's.
    func testPackedLinearLayersGiveTheSameLogits() throws {
        let dir = try Fixtures.requireFixtures()
        for name in ["ram_plus_swin_tiny_224", "ram_swin_tiny_384", "ram_plus_vit_tiny_224"] {
            let (model, _) = try buildFixtureModel(name)
            let m = try XCTUnwrap(try Fixtures.manifest().models.first { $0.name == name })
            let expected = try Fixtures.safetensors(dir.appendingPathComponent(m.expected))
            let image = try XCTUnwrap(m.tags.keys.sorted().first)
            let x = try XCTUnwrap(expected["\(image).input"])
            let input = Tensor(shape: x.shape, scalars: x.values)
            let plain = withNoGrad { model.forward(input) }
            let packedCount = model.packLinearLayersForInference()
            let packed = withNoGrad { model.forward(input) }
            // Shared (tied) layers are listed under each of their names but packed once.
            let linears = model.namedModules().compactMap { $0.1 as? Linear }
            XCTAssertEqual(packedCount, Set(linears.filter { $0.packed != nil }.map { ObjectIdentifier($0) }).count, name)
            for (l, m) in model.namedModules() {
                if let lin = m as? Linear, lin.outFeatures >= 16 { XCTAssertNotNil(lin.packed, "\(name): \(l) not packed") }
            }
            // Every linear layer with 16 outputs or more is packed: the whole visual encoder and
            // the head's layers; not `fc` (one output).
            let packedNames = Set(model.packedLayerNames)
            let encoderLinears = model.namedModules().filter { $0.0.hasPrefix("visual_encoder.") && $0.1 is Linear }.map { $0.0 }
            XCTAssertFalse(encoderLinears.isEmpty, name)
            for l in encoderLinears { XCTAssertTrue(packedNames.contains(l), "\(name): \(l) not packed") }
            for l in ["image_proj", "wordvec_proj"] where model.namedModules().contains(where: { $0.0 == l }) {
                XCTAssertTrue(packedNames.contains(l), "\(name): \(l) not packed")
            }
            XCTAssertTrue(packedNames.contains { $0.hasPrefix("tagging_head.") }, "\(name): tagging head not packed")
            XCTAssertFalse(packedNames.contains("fc"), "\(name): fc has one output and stays on OpenBLAS")
            XCTAssertEqual(packed.logits.scalars, plain.logits.scalars, "\(name): logits differ once packed")
            XCTAssertEqual(packed.imageEmbeds?.scalars, plain.imageEmbeds?.scalars, "\(name): image_embeds differ once packed")
            let e = try XCTUnwrap(expected["\(image).logits"])
            XCTAssertLessThan(maxAbsDiff(packed.logits.scalars, e.values), 2e-4, "\(name) packed logits")
        }
    }

    func testRamPlusSwin224() throws { try check("ram_plus_swin_tiny_224") }
    func testRamSwin384() throws { try check("ram_swin_tiny_384") }
    func testRamPlusViT224() throws { try check("ram_plus_vit_tiny_224") }

    /// The PaddleClas .pdparams of the ViT fixture loads to the same logits as the .pth.
    func testPdparamsGiveSameLogits() throws {
        let dir = try Fixtures.requireFixtures()
        let (model, _) = try buildFixtureModel("ram_plus_vit_tiny_224")
        let expected = try Fixtures.safetensors(dir.appendingPathComponent("ram_plus_vit_tiny_224.expected.safetensors"))
        let summary = try (model as! PretrainedLoadable).loadPretrained(from: dir.appendingPathComponent("ram_plus_vit_tiny_224.pdparams"))
        XCTAssertTrue(summary.contains("Paddle Linear weights transposed"), summary)
        let x = try XCTUnwrap(expected["whl_demo.input"])
        let out = withNoGrad { model.forward(Tensor(shape: x.shape, scalars: x.values)) }
        XCTAssertLessThan(maxAbsDiff(out.logits.scalars, try XCTUnwrap(expected["whl_demo.logits"]).values), 2e-4)
    }

    /// A checkpoint of the other arch is refused, saying what the file is.
    func testWrongCheckpointIsExplained() throws {
        let dir = try Fixtures.requireFixtures()
        let (model, _) = try buildFixtureModel("ram_plus_swin_tiny_224")
        XCTAssertThrowsError(try (model as! PretrainedLoadable).loadPretrained(from: dir.appendingPathComponent("ram_swin_tiny_384.pth"))) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("the file is RAM (ram), Swin (embed_dim 32, window 12), 64 tags; the config builds RAM++ (ram_plus), Swin (embed_dim 32, window 7), 64 tags"), s)
            XCTAssertTrue(s.contains("missing (in the model, not in the file)"), s)
        }
    }
}

extension ModelParityTests {
    /// A ViT checkpoint of another width gets the same full report as any other file that does not
    /// fit (it used to stop at its pos_embed with "expected shape [1, 1 + grid², C]").
    func testViTCheckpointOfAnotherWidthIsExplained() throws {
        let dir = try Fixtures.requireFixtures()
        let file = Fixtures.packageRoot.appendingPathComponent("configs/fixtures/ram_plus_vit_tiny_224.yaml")
        var root = try ConfigNode.load(file: file)
        try ConfigOverride.apply("Arch.vision_config={patch_size: 16, embed_dim: 96, depth: 2, num_heads: 2, mlp_ratio: 4.0, qkv_bias: true, layer_norm_eps: 1e-06, vision_width: 96}", to: &root)
        let config = try RunConfig(root: root, file: file)
        let registries = try DefaultPlugins.registries()
        let model = try config.buildNamed(registries.arch, at: "Arch", registries: registries)
        XCTAssertThrowsError(try (model as! PretrainedLoadable).loadPretrained(from: dir.appendingPathComponent("ram_plus_vit_tiny_224.pth"))) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("the file is RAM++ (ram_plus), ViT (width 64, image 224), 64 tags; the config builds RAM++ (ram_plus), ViT (width 96, image 224), 64 tags"), s)
            XCTAssertTrue(s.contains("31 shape mismatches:\n  image_proj.weight: model [512, 96], file [512, 64]"), s)
        }
    }
}

final class WindowResizeTests: XCTestCase {
    /// A window-7 Swin checkpoint loads into a window-12 model: the relative-position tables are
    /// interpolated (as the reference does), everything else loads as is.
    func testWindow7CheckpointIntoWindow12Model() throws {
        let dir = try Fixtures.requireFixtures()
        let file = Fixtures.packageRoot.appendingPathComponent("configs/fixtures/ram_plus_swin_tiny_224.yaml")
        var root = try ConfigNode.load(file: file)
        try ConfigOverride.apply("Arch.image_size=384", to: &root)
        try ConfigOverride.apply("Arch.vision_config=../../../shared/fixtures/configs/swin/config_swinB_384.json", to: &root)
        let config = try RunConfig(root: root, file: file)
        let registries = try DefaultPlugins.registries()
        let model = try config.buildNamed(registries.arch, at: "Arch", registries: registries)
        let summary = try (model as! PretrainedLoadable).loadPretrained(from: dir.appendingPathComponent("ram_plus_swin_tiny_224.pth"))
        XCTAssertTrue(summary.contains("8 relative-position tables resized"), summary)
        let table = try XCTUnwrap(model.namedParameters().first { $0.0 == "visual_encoder.layers.0.blocks.0.attn.relative_position_bias_table" }?.1)
        XCTAssertEqual(table.shape, [529, 1])
    }
}
