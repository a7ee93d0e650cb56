import Foundation
import XCTest
@testable import RAMCore

final class ConfigNodeTests: XCTestCase {
    func testYamlScalarsResolveLikePaddleClasConfigs() throws {
        let n = try ConfigNode.parse(yaml: """
            Global:
              checkpoints: null
              eval_during_train: True
              epochs: 120
              lr: 0.0004
              eps: 1e-8
              prompt: 'a picture of '
              scale: 1.0/255.0
              order: ''
              empty:
            """, source: "test")
        let g = try XCTUnwrap(n["Global"])
        XCTAssertEqual(g.keys, ["checkpoints", "eval_during_train", "epochs", "lr", "eps", "prompt", "scale", "order", "empty"])
        XCTAssertEqual(g["checkpoints"], .null)
        XCTAssertEqual(g["eval_during_train"], .bool(true))
        XCTAssertEqual(g["epochs"], .int(120))
        XCTAssertEqual(g["lr"], .double(0.0004))
        XCTAssertEqual(g["eps"], .double(1e-8))
        XCTAssertEqual(g["prompt"], .string("a picture of "))
        XCTAssertEqual(g["scale"], .string("1.0/255.0"))
        XCTAssertEqual(g["order"], .string(""))
        XCTAssertEqual(g["empty"], .null)
    }

    func testDuplicateKeyIsAnError() {
        let e = errorText { _ = try ConfigNode.parse(yaml: "a:\n  b: 1\n  b: 2\n", source: "x.yaml") }
        XCTAssertTrue(e.contains("duplicate key 'a.b'"), e)
    }

    func testSyntaxErrorNamesTheSource() {
        let e = errorText { _ = try ConfigNode.parse(yaml: "a: [1, 2\nb: 3\n", source: "bad.yaml") }
        XCTAssertTrue(e.hasPrefix("bad.yaml: YAML syntax error"), e)
    }

    func testYamlEmitRoundTrips() throws {
        let text = """
            Infer:
              infer_imgs: docs/whl_demo.jpg
              transforms:
                - DecodeImage:
                    to_rgb: True
                - NormalizeImage:
                    scale: 1.0/255.0
                    mean: [0.485, 0.456, 0.406]
                    order: ''
                - ToCHWImage:
              odd: ['true', '1', 'a: b', ' x ', "it's", "line\\nbreak", null, 3, 2.5, -1, '-x', '#c']
              nested: [[1, 2], [3]]
            """
        let n = try ConfigNode.parse(yaml: text, source: "t")
        let back = try ConfigNode.parse(yaml: n.yamlText(), source: "emitted")
        XCTAssertEqual(back, n, n.yamlText())
    }

    func testArithmetic() {
        XCTAssertEqual(evaluateArithmetic("1.0/255.0"), 1.0 / 255.0)
        XCTAssertEqual(evaluateArithmetic(" 2 * (3 + 4) - -1 "), 15)
        XCTAssertEqual(evaluateArithmetic("5e-7"), 5e-7)
        XCTAssertEqual(evaluateArithmetic(".5"), 0.5)
        XCTAssertNil(evaluateArithmetic("1/0"))
        XCTAssertNil(evaluateArithmetic("abc"))
        XCTAssertNil(evaluateArithmetic("__import__('os')"))
        XCTAssertNil(evaluateArithmetic("1 +"))
        XCTAssertNil(evaluateArithmetic(""))
    }

    func testDidYouMean() {
        XCTAssertEqual(nearestMatch("epoch", in: ["epochs", "eval_interval", "device"]), "epochs")
        XCTAssertEqual(nearestMatch("resnet", in: ["swin_l", "swin_b"]), nil)
        XCTAssertEqual(nearestMatch("swin_L", in: ["swin_l", "swin_b"]), "swin_l")
        XCTAssertEqual(editDistance("kitten", "sitting"), 3)
    }
}

struct ResizeParams: Codable, ConfigDefaults {
    var size: Int? = nil
    var resize_short: Int? = nil
    var interpolation: String = "bilinear"
    var scale: Float = 1
    var mean: [Float] = [0, 0, 0]
    var extra: ConfigNode? = nil
    var to_rgb: Bool = true
}

final class StrictDecodingTests: XCTestCase {
    func decode(_ yaml: String) throws -> ResizeParams {
        try ConfigDecoding.decode(ResizeParams.self, from: ConfigNode.parse(yaml: yaml, source: "t"),
                                  path: "Infer.transforms.1.ResizeImage")
    }

    func testDefaultsAndValues() throws {
        let p = try decode("resize_short: 384\nscale: 1.0/255.0\nmean: [0.5, 1, 2]")
        XCTAssertEqual(p.resize_short, 384)
        XCTAssertNil(p.size)
        XCTAssertEqual(p.interpolation, "bilinear")
        XCTAssertEqual(p.scale, Float(1.0 / 255.0))
        XCTAssertEqual(p.mean, [0.5, 1, 2])
        XCTAssertTrue(p.to_rgb)
        let empty = try ConfigDecoding.decode(ResizeParams.self, from: .null, path: "Infer.transforms.4.ToCHWImage")
        XCTAssertEqual(empty.interpolation, "bilinear")
    }

    func testUnknownKeyNamesPathAndSuggests() {
        let e = errorText { _ = try self.decode("resize_shrt: 384") }
        XCTAssertTrue(e.contains("unknown key 'Infer.transforms.1.ResizeImage.resize_shrt'"), e)
        XCTAssertTrue(e.contains("did you mean 'resize_short'?"), e)
        XCTAssertTrue(e.contains("interpolation"), e)   // the valid keys are listed
    }

    func testNumberKeyRefusesAWordNullKeyTakesAnything() throws {
        let e = errorText { _ = try self.decode("size: big") }
        XCTAssertTrue(e.contains("'Infer.transforms.1.ResizeImage.size': expected a number"), e)
        XCTAssertTrue(e.contains("'big'"), e)
        XCTAssertTrue(errorText { _ = try self.decode("to_rgb: 3") }.contains("expected true or false"))
        XCTAssertTrue(errorText { _ = try self.decode("size: 2.5") }.contains("expected an integer"))
        // a key whose default is null (ConfigNode?) takes any value
        XCTAssertEqual(try decode("extra: [1, two]").extra, .list([.int(1), .string("two")]))
        XCTAssertEqual(try decode("extra: word").extra, .string("word"))
        XCTAssertEqual(try decode("extra: {a: 1}").extra?["a"], .int(1))
    }

    func testNestedPathInErrors() {
        struct Outer: Decodable { var inner: [ResizeParams] }
        let e = errorText {
            _ = try ConfigDecoding.decode(Outer.self, from: ConfigNode.parse(yaml: "inner:\n  - size: 1\n  - sise: 2\n", source: "t"), path: "X")
        }
        XCTAssertTrue(e.contains("unknown key 'X.inner.1.sise'"), e)
        XCTAssertTrue(e.contains("did you mean 'size'?"), e)
    }
}

final class OverrideTests: XCTestCase {
    let base = """
        Global:
          epochs: 120
          checkpoints: null
          eval_during_train: True
          pretrained_model: "ram.pdparams"
        Arch:
          name: ram
          vit: swin_l
          prompt: 'a picture of '
        Infer:
          transforms:
            - DecodeImage:
                to_rgb: True
            - ResizeImage:
                resize_short: 384
            - NormalizeImage:
                scale: 1.0/255.0
            - ToCHWImage:
        """

    func apply(_ overrides: [String]) throws -> ConfigNode {
        var root = try ConfigNode.parse(yaml: base, source: "t")
        for o in overrides { try ConfigOverride.apply(o, to: &root) }
        return root
    }

    func testListIndexAndValueKinds() throws {
        let r = try apply(["Infer.transforms.1.ResizeImage.resize_short=256", "Global.epochs=3",
                           "Arch.vit=swin_b", "Global.eval_during_train=false",
                           "Infer.transforms.2.NormalizeImage.scale=1.0/127.5",
                           "Infer.transforms.3.ToCHWImage.order=[2, 0, 1]"])
        let cfg = try RunConfig(root: r)
        XCTAssertEqual(cfg.node(at: "Infer.transforms.1.ResizeImage.resize_short"), .int(256))
        XCTAssertEqual(cfg.node(at: "Global.epochs"), .int(3))
        XCTAssertEqual(cfg.node(at: "Arch.vit"), .string("swin_b"))
        XCTAssertEqual(cfg.node(at: "Global.eval_during_train"), .bool(false))
        XCTAssertEqual(cfg.node(at: "Infer.transforms.2.NormalizeImage.scale"), .string("1.0/127.5"))
        XCTAssertEqual(cfg.node(at: "Infer.transforms.3.ToCHWImage.order"), .list([.int(2), .int(0), .int(1)]))
        XCTAssertEqual(try cfg.global().epochs, 3)
    }

    func testValueContainingEquals() throws {
        let r = try apply(["Arch.prompt=a=b = c", "Global.pretrained_model=x=y.pth"])
        XCTAssertEqual(r["Arch"]?["prompt"], .string("a=b = c"))
        XCTAssertEqual(r["Global"]?["pretrained_model"], .string("x=y.pth"))
    }

    func testNullAndKeysWhoseValueIsNull() throws {
        let r = try apply(["Global.pretrained_model=null", "Global.checkpoints=7", "Arch.prompt=~"])
        XCTAssertEqual(r["Global"]?["pretrained_model"], .null)
        XCTAssertEqual(r["Global"]?["checkpoints"], .int(7))      // null takes any value
        XCTAssertEqual(r["Arch"]?["prompt"], .null)
        XCTAssertNil(try RunConfig(root: try apply(["Global.pretrained_model=null"])).global().pretrained_model)
    }

    func testNumberKeyRefusesAWord() {
        let e = errorText { _ = try self.apply(["Global.epochs=many"]) }
        XCTAssertTrue(e.contains("'Global.epochs': expected a number (it holds 120), got 'many'"), e)
        let b = errorText { _ = try self.apply(["Global.eval_during_train=maybe"]) }
        XCTAssertTrue(b.contains("expected true or false"), b)
    }

    func testStringsKeptVerbatim() throws {
        let r = try apply(["Arch.prompt=a photo of ", "Arch.vit='123'", "Arch.name=", "Global.pretrained_model=/tmp/a b.pth"])
        XCTAssertEqual(r["Arch"]?["prompt"], .string("a photo of "))
        XCTAssertEqual(r["Arch"]?["vit"], .string("123"))
        XCTAssertEqual(r["Arch"]?["name"], .string(""))
        XCTAssertEqual(r["Global"]?["pretrained_model"], .string("/tmp/a b.pth"))
    }

    func testBadOverrides() {
        XCTAssertTrue(errorText { _ = try self.apply(["Global.epochs"]) }.contains("expected Section.key=value"))
        XCTAssertTrue(errorText { _ = try self.apply(["Global..epochs=1"]) }.contains("not a dotted path"))
        let idx = errorText { _ = try self.apply(["Infer.transforms.9.ResizeImage.size=1"]) }
        XCTAssertTrue(idx.contains("index 9 is out of range: 'Infer.transforms' has 4 item(s)"), idx)
        let notIdx = errorText { _ = try self.apply(["Infer.transforms.first.size=1"]) }
        XCTAssertTrue(notIdx.contains("'Infer.transforms' is a list"), notIdx)
        let typo = errorText { _ = try self.apply(["Globl.epochs=3"]) }
        XCTAssertTrue(typo.contains("unknown key 'Globl'; did you mean 'Global'?"), typo)
        let scalar = errorText { _ = try self.apply(["Global.epochs.x=3"]) }
        XCTAssertTrue(scalar.contains("'Global.epochs' is an integer"), scalar)
    }

    func testUnknownGlobalKeyAfterOverrideIsCaughtByStrictDecoding() throws {
        let cfg = try RunConfig(root: try apply(["Global.epoch=3"]))
        let e = errorText { _ = try cfg.global() }
        XCTAssertTrue(e.contains("unknown key 'Global.epoch'; did you mean 'epochs'?"), e)
    }

    /// An override of an unknown section lists every section a config may have, not only the
    /// ones the file sets (QA: `-o Foo.bar=3` said "Valid keys: Global, Arch, Infer").
    func testUnknownSectionInOverrideListsAllSections() {
        let e = errorText { _ = try self.apply(["Foo.bar=3"]) }
        XCTAssertEqual(e, "unknown key 'Foo'. Valid keys: " + RunConfig.sections.joined(separator: ", "))
        XCTAssertEqual(RunConfig.sections, ["Global", "AMP", "Arch", "Loss", "Optimizer", "DataLoader", "Infer",
                                            "PostProcess", "Metric", "PreProcess"])
        // A known section the file does not have: say so, and how to add it.
        let absent = errorText { _ = try self.apply(["Loss.weight=3"]) }
        XCTAssertEqual(absent, "override '-o Loss.weight=3': the config has no 'Loss' section (it has Global, Arch, Infer); "
                       + "add it to the file, or give it whole: -o Loss={key: value, ...}")
        XCTAssertEqual(try self.apply(["Loss={weight: 3}"])["Loss"], .map([(key: "weight", value: .int(3))]))
    }

    func testUnknownSection() {
        let e = errorText { _ = try RunConfig(root: ConfigNode.parse(yaml: "Globel: {}\n", source: "t")) }
        XCTAssertTrue(e.contains("unknown key 'Globel'; did you mean 'Global'?"), e)
    }
}

/// Nesting depth and alias expansion are bounded before they can exhaust the stack or memory
/// (QA: 5000 nested `[` or `{a:`, or a 3000-level block map, crashed with SIGSEGV in the YAML
/// parser; a "billion laughs" file of a few hundred bytes ran for minutes and gigabytes).
final class YAMLLimitsTests: XCTestCase {
    func tooComplexMessage(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let ConfigError.tooComplex(source, message) {
            return "\(source): \(message)"
        } catch { return "other error: \(error)" }
    }

    func testNestingDepthCountsFlowAndBlockLevels() {
        XCTAssertEqual(YAMLLimits.nestingDepth(of: "").depth, 0)
        XCTAssertEqual(YAMLLimits.nestingDepth(of: "a: 1\n").depth, 1)
        XCTAssertEqual(YAMLLimits.nestingDepth(of: "a:\n  b:\n    c: [1, {d: 2}]\n").depth, 5)
        // Each compact entry's content column is a level (here also the scalar's: an upper bound).
        XCTAssertEqual(YAMLLimits.nestingDepth(of: "- - - x\n").depth, 4)
        XCTAssertEqual(YAMLLimits.nestingDepth(of: "a:\n  - b: 1\n    c: 2\nd: 3\n").depth, 3)
        // Brackets in quotes, comments, plain scalars and block scalars are text, not nesting.
        XCTAssertEqual(YAMLLimits.nestingDepth(of: "a: '[[[['\nb: \"{{[\\\"[\"\n# [[[[\nc: x[[y\n").depth, 1)
        XCTAssertEqual(YAMLLimits.nestingDepth(of: "a: |\n  [[[[\n      {{{{\nb: [1]\n").depth, 2)
        // The line where the depth is first reached.
        XCTAssertEqual(YAMLLimits.nestingDepth(of: "a: 1\nb: [[2]]\n").line, 2)
    }

    func testDeepFlowNestingIsRefusedBeforeParsing() throws {
        for text in ["Global:\n  x: " + String(repeating: "[", count: 5000) + "\n",
                     "Global:\n  x: " + String(repeating: "{a: ", count: 5000) + "1" + String(repeating: "}", count: 5000) + "\n",
                     String(repeating: "[", count: 20000) + String(repeating: "]", count: 20000)] {
            let m = try XCTUnwrap(tooComplexMessage { _ = try ConfigNode.parse(yaml: text, source: "deep.yaml") })
            XCTAssertTrue(m.hasPrefix("deep.yaml: collections are nested more than 100 levels deep"), m)
            XCTAssertTrue(m.hasSuffix("the limit is 100 levels"), m)
        }
    }

    func testDeepBlockNestingIsRefused() throws {
        var map = ""
        for i in 0..<3000 { map += String(repeating: " ", count: 2 * i) + "a:\n" }
        let m = try XCTUnwrap(tooComplexMessage { _ = try ConfigNode.parse(yaml: map, source: "block.yaml") })
        XCTAssertEqual(m, "block.yaml: collections are nested more than 100 levels deep (at line 101); the limit is 100 levels")
        let seq = String(repeating: "- ", count: 3000) + "x\n"
        XCTAssertNotNil(tooComplexMessage { _ = try ConfigNode.parse(yaml: seq, source: "seq.yaml") })
    }

    func testNestingUpToTheLimitStillParses() throws {
        let flow = try ConfigNode.parse(yaml: "x: " + String(repeating: "[", count: 99) + "7" + String(repeating: "]", count: 99),
                                        source: "ok.yaml")
        var node = try XCTUnwrap(flow["x"])
        var levels = 0
        while case let .list(items) = node { node = items[0]; levels += 1 }
        XCTAssertEqual(levels, 99)
        XCTAssertEqual(node, .int(7))
        var block = ""
        for i in 0..<100 { block += String(repeating: " ", count: i) + "k\(i):" + (i == 99 ? " end\n" : "\n") }
        var b = try ConfigNode.parse(yaml: block, source: "ok.yaml")
        for i in 0..<99 { b = try XCTUnwrap(b["k\(i)"]) }
        XCTAssertEqual(b["k99"], .string("end"))
    }

    func testDeepFileAndOverrideNameTheirSource() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("yaml-limits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("deep.yaml")
        try ("Global:\n  x: " + String(repeating: "{a: ", count: 5000) + "\n").write(to: file, atomically: true, encoding: .utf8)
        let e = errorText { _ = try RunConfig.load(path: file.path) }
        XCTAssertTrue(e.hasPrefix("\(file.path): collections are nested more than 100 levels deep"), e)

        let good = dir.appendingPathComponent("good.yaml")
        try "Global:\n  epochs: 3\n".write(to: good, atomically: true, encoding: .utf8)
        let value = String(repeating: "[", count: 5000)
        let o = errorText { _ = try RunConfig.load(path: good.path, overrides: ["Global.x=" + value]) }
        // The override is named (abbreviated: it is 5009 characters long) with the limit.
        XCTAssertTrue(o.hasPrefix("override '-o Global.x=[[[["), o)
        XCTAssertTrue(o.contains("… (5009 characters)': the value is refused: collections are nested more than 100 levels deep"), o)
        XCTAssertLessThan(o.count, 400)
    }

    func testAliasExpansionIsBounded() throws {
        // 9 lists of 9 aliases, 8 levels: 9^8 ≈ 4.3·10^7 scalars from 400 bytes.
        var text = "l0: &l0 [" + Array(repeating: "lol", count: 9).joined(separator: ",") + "]\n"
        for i in 1...8 { text += "l\(i): &l\(i) [" + Array(repeating: "*l\(i - 1)", count: 9).joined(separator: ",") + "]\n" }
        XCTAssertLessThan(text.utf8.count, 500)
        let start = Date()
        let m = try XCTUnwrap(tooComplexMessage { _ = try ConfigNode.parse(yaml: text, source: "laughs.yaml") })
        XCTAssertTrue(m.hasPrefix("laughs.yaml: the document has more than 1000000 nodes once its aliases (*name) are expanded"), m)
        XCTAssertLessThan(Date().timeIntervalSince(start), 30, "refused only after expanding")
        // Ordinary aliases still work.
        let ok = try ConfigNode.parse(yaml: "a: &m [1, 2]\nb: *m\n", source: "ok.yaml")
        XCTAssertEqual(ok["b"], .list([.int(1), .int(2)]))
    }
}
