import Foundation
import RAMCheckpoint
import RAMCore
@testable import RAMModels
import XCTest

/// Builds the `Arch` section of a YAML config file into a plan (nothing allocated).
func archPlan(file: URL, overrides: [(String, ConfigNode)] = []) throws -> RAMArchPlan {
    let root = try ConfigNode.load(file: file)
    var arch = try XCTUnwrap(root["Arch"])
    let name = try XCTUnwrap(arch["name"]?.stringValue)
    arch = arch.removing(key: "name")
    for (k, v) in overrides { arch = arch.merged(with: .map([(key: k, value: v)])) }
    let cc = ComponentConfig(path: "Arch", node: arch, registries: Registries(),
                             baseDirectory: file.deletingLastPathComponent())
    return try RAMArchPlan(arch: name, config: cc)
}

final class ArchPlanTests: XCTestCase {
    /// Each fixture config plans exactly the fixture checkpoint's names and shapes.
    func testFixtureConfigsPlanTheCheckpoints() throws {
        let dir = try Fixtures.requireFixtures()
        for name in ["ram_plus_swin_tiny_224", "ram_swin_tiny_384", "ram_plus_vit_tiny_224"] {
            let plan = try archPlan(file: Fixtures.packageRoot.appendingPathComponent("configs/fixtures/\(name).yaml"))
            XCTAssertEqual(plan.numTags, 64)
            var model: [String: [Int]] = [:]
            for (k, s) in plan.parameterShapes { model[k] = s }
            let file = try Checkpoint.open(dir.appendingPathComponent("\(name).pth")).shapes.filter { !RAMSanitizer.isDerivedBuffer($0.key) }
            XCTAssertNil(RAMSanitizer.mismatchReport(file: file, model: model), name)
        }
    }

    /// The shipped product configs plan the official architectures.
    func testProductConfigsPlanOfficialSizes() throws {
        let cfg = Fixtures.packageRoot.appendingPathComponent("configs")
        let plus = try archPlan(file: cfg.appendingPathComponent("ram_plus_swin_large_384.yaml"))
        XCTAssertEqual(RAMArchSpec.uniqueParameterCount(arch: plus.arch, vision: plus.vision, q2l: plus.q2l, med: plus.med, numTags: plus.numTags), 329_493_046)
        let ram = try archPlan(file: cfg.appendingPathComponent("ram_swin_large_384.yaml"))
        XCTAssertEqual(RAMArchSpec.uniqueParameterCount(arch: ram.arch, vision: ram.vision, q2l: ram.q2l, med: ram.med, numTags: ram.numTags), 469_148_785)
        let b224 = try archPlan(file: cfg.appendingPathComponent("ram_plus_swin_base_224.yaml"))
        XCTAssertEqual(RAMArchSpec.uniqueParameterCount(arch: b224.arch, vision: b224.vision, q2l: b224.q2l, med: b224.med, numTags: b224.numTags), 220_775_610)
        for f in try FileManager.default.contentsOfDirectory(atPath: cfg.path) where f.hasSuffix(".yaml") {
            XCTAssertNoThrow(try archPlan(file: cfg.appendingPathComponent(f)), f)
        }
    }

    /// PaddleClas's own RAM++ config (its training keys included) is accepted.
    func testPaddleClasConfigIsAccepted() throws {
        let url = Fixtures.shared.appendingPathComponent("compat/paddleclas/RAM_plus.yaml")
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("\(url.path) absent") }
        let plan = try archPlan(file: url, overrides: [("q2l_config", .string("RAM_q2l.yaml"))])
        XCTAssertEqual(plan.arch, "ram_plus"); XCTAssertEqual(plan.vit, "swin_l")
        XCTAssertEqual(plan.numTags, 4585); XCTAssertEqual(plan.q2l.num_attention_heads, 4)
        XCTAssertEqual(plan.options.prompt, "a picture of ")
        let ram = try archPlan(file: url.deletingLastPathComponent().appendingPathComponent("RAM.yaml"),
                               overrides: [("q2l_config", .string("RAM_q2l.yaml")), ("med_config", .string("RAM_bert.yaml"))])
        XCTAssertEqual(ram.med?.num_hidden_layers, 12)
        XCTAssertEqual(RAMArchSpec.uniqueParameterCount(arch: ram.arch, vision: ram.vision, q2l: ram.q2l, med: ram.med, numTags: ram.numTags), 469_148_785)
    }

    func testBadArchOptionsAreClearErrors() throws {
        let file = Fixtures.packageRoot.appendingPathComponent("configs/ram_plus_swin_large_384.yaml")
        XCTAssertThrowsError(try archPlan(file: file, overrides: [("image_sise", .int(224))])) { e in
            XCTAssertTrue("\(e)".contains("did you mean 'image_size'"), "\(e)")
        }
        XCTAssertThrowsError(try archPlan(file: file, overrides: [("num_class", .int(10))])) { e in
            XCTAssertTrue("\(e)".contains("4585 tags"), "\(e)")
        }
        XCTAssertThrowsError(try archPlan(file: file, overrides: [("vit", .string("swin_xl"))])) { e in
            XCTAssertTrue("\(e)".contains("swin_b, swin_l, base, large"), "\(e)")
        }
        XCTAssertThrowsError(try archPlan(file: file, overrides: [("vision_config", .map([(key: "depths", value: .string("many"))]))]))
        // Threshold options are checked here as the docs say (QA: Arch.threshold=1.5 was accepted).
        for t in [1.5, -3.0] {
            XCTAssertThrowsError(try archPlan(file: file, overrides: [("threshold", .double(t))])) { e in
                XCTAssertTrue("\(e)".contains("Arch.threshold") && "\(e)".contains("not a score threshold in [0, 1]"), "\(e)")
            }
        }
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("th-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: bad) }
        try "0.5\n1.7\n".write(to: bad, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try archPlan(file: file, overrides: [("ram_class_threshold_path", .string(bad.path))])) { e in
            XCTAssertTrue("\(e)".contains("\(bad.path):2"), "\(e)")
        }
        XCTAssertNoThrow(try archPlan(file: file, overrides: [("threshold", .double(0.7))]))
    }

    /// Sizes each within bounds can still make an enormous model: the plan refuses more than
    /// ArchitectureLimits.maxParameters before anything is allocated, saying which part is large.
    func testParameterCountIsBounded() throws {
        let file = Fixtures.packageRoot.appendingPathComponent("configs/ram_plus_swin_large_384.yaml")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let big = dir.appendingPathComponent("q2l_big.json")
        try #"{"hidden_size": 65536, "intermediate_size": 65536, "num_hidden_layers": 256, "num_attention_heads": 1024, "add_cross_attention": true}"#
            .write(to: big, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try archPlan(file: file, overrides: [("q2l_config", .string(big.path))])) { e in
            let m = "\(e)"
            XCTAssertTrue(m.hasPrefix("Arch: the model would have "), m)
            XCTAssertTrue(m.contains("tagging head (q2l_config) 4415"), m)
            XCTAssertTrue(m.contains("at most 4000000000 are accepted. Check the sizes in q2l_config '\(big.path)'"), m)
        }
        XCTAssertThrowsError(try archPlan(file: file, overrides: [("image_size", .int(100_000))])) { e in
            XCTAssertEqual("\(e)", "Arch.image_size: image_size is 100000; at most 8192 is accepted")
        }
    }

    /// A YAML q2l_config is read with the same limits as the run config (it used Yams.load,
    /// which recursed and expanded aliases without bound).
    func testYAMLBertConfigIsReadWithinLimits() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let deep = dir.appendingPathComponent("deep.yaml")
        try ("hidden_size: " + String(repeating: "[", count: 5000) + "\n").write(to: deep, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BertConfig.load(deep)) { e in
            XCTAssertEqual("\(e)", "\(deep.path): collections are nested more than 100 levels deep (at line 1); the limit is 100 levels")
        }
        var laughs = "l0: &l0 [" + Array(repeating: "lol", count: 9).joined(separator: ",") + "]\n"
        for i in 1...8 { laughs += "l\(i): &l\(i) [" + Array(repeating: "*l\(i - 1)", count: 9).joined(separator: ",") + "]\n" }
        let bomb = dir.appendingPathComponent("laughs.yaml")
        try laughs.write(to: bomb, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BertConfig.load(bomb)) { e in
            XCTAssertTrue("\(e)".hasPrefix("\(bomb.path): the document has more than 1000000 nodes"), "\(e)")
        }
        let ok = dir.appendingPathComponent("q2l.yaml")
        try "hidden_size: 256\nnum_attention_heads: 4\nnum_hidden_layers: 3\nlayer_norm_eps: 1e-12\nadd_cross_attention: True\n"
            .write(to: ok, atomically: true, encoding: .utf8)
        let c = try BertConfig.load(ok)
        XCTAssertEqual([c.hidden_size, c.num_attention_heads, c.num_hidden_layers], [256, 4, 3])
        XCTAssertEqual(c.layer_norm_eps, 1e-12); XCTAssertTrue(c.add_cross_attention)
        let list = dir.appendingPathComponent("list.yaml")
        try "- 1\n".write(to: list, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BertConfig.load(list)) { e in
            XCTAssertEqual("\(e)", "\(list.path): expected a mapping of BERT config keys, found a list")
        }
    }
}
