import Foundation
import RAMCore
@testable import RAMModels
import RAMNN
import RAMTensor
import XCTest

/// A backbone placeholder for head-only tests (its forward is never called).
final class StubBackbone: Module, Backbone {
    let outputDim: Int
    init(outputDim: Int) { self.outputDim = outputDim; super.init() }
    func forward(_ images: Tensor) -> Tensor { fatalError("StubBackbone.forward: head-only test") }
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "maxAbsDiff: \(a.count) vs \(b.count)")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// image_proj + RAM / RAM++ label queries + tagging head + fc, fed the reference's own
/// `visual_encoder` output: `image_embeds` and `logits` within 2e-4 of the reference's.
final class HeadParityTests: XCTestCase {
    func testHeadsFromReferenceVisualFeatures() throws {
        let dir = try Fixtures.requireFixtures()
        for m in try Fixtures.manifest().models {
            let plan = try archPlan(file: Fixtures.packageRoot.appendingPathComponent("configs/fixtures/\(m.name).yaml"))
            let model = try plan.build(backbone: StubBackbone(outputDim: plan.vision.outputDim))
            let summary = try RAMLoader.load(into: model, arch: plan.arch, from: dir.appendingPathComponent(m.checkpoint),
                                             skipPrefix: "visual_encoder.")
            XCTAssertTrue(summary.contains("0 missing, 0 unexpected"), summary)
            let expected = try Fixtures.safetensors(dir.appendingPathComponent(m.expected))
            var checked = 0
            for image in m.tags.keys.sorted() {
                let v = try XCTUnwrap(expected["\(image).visual_encoder"])
                let out = withNoGrad { () -> TaggingOutput in
                    let visual = Tensor(shape: v.shape, scalars: v.values)
                    if let p = model as? RAMPlus { return p.forward(visual: visual) }
                    return (model as! RAM).forward(visual: visual)
                }
                let e = try XCTUnwrap(expected["\(image).image_embeds"])
                let l = try XCTUnwrap(expected["\(image).logits"])
                XCTAssertEqual(out.imageEmbeds?.shape, e.shape)
                XCTAssertEqual(out.logits.shape, l.shape)
                XCTAssertLessThan(maxAbsDiff(out.imageEmbeds?.scalars ?? [], e.values), 2e-4, "\(m.name) \(image) image_embeds")
                XCTAssertLessThan(maxAbsDiff(out.logits.scalars, l.values), 2e-4, "\(m.name) \(image) logits")
                checked += 1
            }
            XCTAssertEqual(checked, 7, m.name)
        }
    }
}

final class TyingTests: XCTestCase {
    /// RAM's tagging head shares its weights (one Parameter each) with the tag encoder's lowest
    /// layers but keeps its own head count; the LM head's decoder shares the word embeddings.
    func testRAMTiesWeightsNotModules() throws {
        var q2l = BertConfig(); q2l.hidden_size = 16; q2l.num_attention_heads = 4; q2l.num_hidden_layers = 2
        q2l.intermediate_size = 32; q2l.add_cross_attention = true; q2l.vocab_size = 10; q2l.max_position_embeddings = 8
        var med = q2l; med.num_attention_heads = 2; med.num_hidden_layers = 3
        let ram = try RAM(visualEncoder: StubBackbone(outputDim: 8), imageSize: 32, q2l: q2l, med: med, numTags: 5)
        let head = ram.tagging_head.encoder.layer[1], enc = ram.tag_encoder.encoder.layer[1]
        XCTAssertTrue(head.crossattention?.`self`.query.weight === enc.crossattention?.`self`.query.weight)
        XCTAssertTrue(head.output.LayerNorm.bias === enc.output.LayerNorm.bias)
        XCTAssertTrue(head.intermediate.dense.weight === enc.intermediate.dense.weight)
        XCTAssertEqual(head.crossattention?.`self`.numHeads, 4)
        XCTAssertEqual(enc.crossattention?.`self`.numHeads, 2)
        XCTAssertNil(head.attention)
        XCTAssertNil(ram.tagging_head.embeddings)
        XCTAssertTrue(ram.text_decoder.cls.predictions.decoder.weight === ram.text_decoder.bert.embeddings?.word_embeddings.weight)
        // Every name the spec lists is a parameter of the built model, and nothing else.
        let names = Set(ram.namedParameters().filter { !$0.0.hasPrefix("visual_encoder.") }.map(\.0))
        let spec = Set(RAMArchSpec.parameterShapes(arch: "ram", vision: .vit(width: 8, depth: 0, heads: 1, patch: 16, mlpRatio: 4, imageSize: 32),
                                                   q2l: q2l, med: med, numTags: 5).map(\.0).filter { !$0.hasPrefix("visual_encoder.") })
        XCTAssertEqual(names, spec)
        XCTAssertThrowsError(try ram.generateCaption(Tensor(zeros: [1, 3, 32, 32]))) { e in
            XCTAssertTrue("\(e)".contains("not implemented yet"))
        }
        // A head that cannot share the encoder's layers is refused.
        var wide = q2l; wide.intermediate_size = 64
        XCTAssertThrowsError(try RAM(visualEncoder: StubBackbone(outputDim: 8), imageSize: 32, q2l: wide, med: med, numTags: 5))
    }
}
