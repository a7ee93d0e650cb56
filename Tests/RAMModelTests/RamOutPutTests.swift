import Foundation
import RAMCore
import RAMDefaultPlugins
@testable import RAMPostProcess
import RAMTensor
import XCTest

final class RamOutPutTests: XCTestCase {
    /// logit such that sigmoid(logit) == p (up to float rounding).
    private func logit(_ p: Double) -> Float { Float(log(p / (1 - p))) }

    func testPerClassThresholdsStrictlyGreater() throws {
        let pp = try RamOutPut(tagList: ["a", "b", "c", "d"], tagListChinese: ["甲", "乙 ", "丙", "丁"],
                               classThresholds: [0.5, 0.9, 0.7], language: .en)
        XCTAssertEqual(pp.thresholds, [0.5, 0.9, 0.7, 0.68])
        // sigmoid(0) == 0.5 exactly: not > 0.5, so "a" is out. b: 0.95 > 0.9 in; c: 0.6 < 0.7 out;
        // d: 0.69 > 0.68 (the default for classes past the end of the file) in.
        let preds = try pp.predictions(logits: [0, logit(0.95), logit(0.6), logit(0.69)], files: ["x.jpg"])
        XCTAssertEqual(preds.count, 1)
        XCTAssertEqual(preds[0].classIds, [1, 3])
        XCTAssertEqual(preds[0].labelNames, "b | d")
        XCTAssertEqual(preds[0].tags["en"], "b | d")
        XCTAssertEqual(preds[0].tags["cn"], "乙  | 丁")   // trailing space kept
        XCTAssertEqual(preds[0].file, "x.jpg")
        XCTAssertEqual(preds[0].scores[0], 0.95, accuracy: 1e-6)
        XCTAssertEqual(preds[0].scores[1], 0.69, accuracy: 1e-6)
    }

    func testGlobalThresholdOverridesFileAndZeroIsAValue() throws {
        let pp = try RamOutPut(tagList: ["a", "b", "c"], tagListChinese: ["甲", "乙", "丙"],
                               classThresholds: [0.99, 0.99, 0.99], threshold: 0, language: .cn)
        XCTAssertEqual(pp.thresholds, [0, 0, 0])
        // sigmoid(-200) == 0 in float32: 0 > 0 is false.
        let preds = try pp.predictions(logits: [-200, -5, 3], files: [nil])
        XCTAssertEqual(preds[0].classIds, [1, 2])
        XCTAssertEqual(preds[0].labelNames, "乙 | 丙")
    }

    func testDeleteTagIndexBatchAndEmpty() throws {
        let pp = try RamOutPut(tagList: ["a", "b", "c"], tagListChinese: ["甲", "乙", "丙"],
                               threshold: 0.5, deleteTagIndex: [1], language: .all)
        let preds = try pp.predictions(logits: [5, 5, 5, -5, -5, -5], files: ["1", "2"])
        XCTAssertEqual(preds.map(\.classIds), [[0, 2], []])
        XCTAssertEqual(preds[0].labelNames, "en : ['a | c'], cn: ['甲 | 丙']")
        XCTAssertEqual(preds[1].tags["en"], "")
        XCTAssertEqual(preds[1].labelNames, "en : [''], cn: ['']")
    }

    func testBadInputsThrow() throws {
        XCTAssertThrowsError(try RamOutPut(tagList: ["a", "b"], tagListChinese: ["甲"]))
        // A length mismatch names both files: the one that is off and the tag list it is checked against.
        XCTAssertThrowsError(try RamOutPut(tagList: ["a", "b"], tagListChinese: ["甲"],
                                           sourceNames: ("/x/en.txt", "/x/cn.txt", ""))) { e in
            XCTAssertEqual("\(e)", "tag_list_chinese '/x/cn.txt' has 1 entries, expected 2 (one per tag of tag_list '/x/en.txt')")
        }
        XCTAssertThrowsError(try RamOutPut(tagList: ["a"], classThresholds: [0.5, 0.5], language: .en))
        XCTAssertThrowsError(try RamOutPut(tagList: ["a"], deleteTagIndex: [3], language: .en))
        XCTAssertThrowsError(try RamOutPut(tagList: ["a"], language: .cn))   // no Chinese list
        let pp = try RamOutPut(tagList: ["a", "b"], language: .en)
        XCTAssertThrowsError(try pp.predictions(logits: [1, 2, 3], files: [nil]))
        // A global threshold outside [0, 1] is refused, naming the key; 0 and 1 are values.
        for bad: Float in [1.5, -0.1, .nan] {
            XCTAssertThrowsError(try RamOutPut(tagList: ["a"], threshold: bad, language: .en)) { error in
                XCTAssertTrue("\(error)".contains("threshold"), "\(error)")
            }
        }
        XCTAssertEqual(try RamOutPut(tagList: ["a"], threshold: 1, language: .en).thresholds, [1])
        XCTAssertEqual(try RamOutPut(tagList: ["a"], threshold: 0, language: .en).thresholds, [0])
    }

    func testSplitLinesKeepsTrailingSpaces() {
        XCTAssertEqual(TagList.splitLines("a \nb\r\nc\rd\n"), ["a ", "b", "c", "d"])
        XCTAssertEqual(TagList.splitLines("x\n\ny"), ["x", "", "y"])
        XCTAssertEqual(TagList.splitLines(""), [])
    }

    func testThresholdFileErrorsNameTheLine() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("th-\(UUID().uuidString).txt")
        try "0.5\nabc\n".write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertThrowsError(try TagList.loadThresholds(url)) { error in
            XCTAssertEqual(error as? TagFileError, .badThreshold(path: url.path, line: 2, text: "abc"))
        }
    }

    /// Thresholds are scores in [0, 1]: a file line outside that range is refused with its line
    /// (QA: 1.7 and -1 were accepted; 1, which disables a tag as the shipped file does, is fine).
    func testThresholdFileValuesOutsideZeroOneAreRefused() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("th-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: url) }
        try "0.5\n1\n0\n".write(to: url, atomically: true, encoding: .utf8)
        XCTAssertEqual(try TagList.loadThresholds(url), [0.5, 1, 0])
        for bad in ["1.7", "-1", "inf", "0x1p-1"] {   // (Swift reads hex floats; the reference's float() does not)
            try "0.5\n\(bad)\n".write(to: url, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try TagList.loadThresholds(url)) { error in
                XCTAssertEqual(error as? TagFileError, .badThreshold(path: url.path, line: 2, text: bad))
                XCTAssertEqual("\(error)", "\(url.path):2: expected a score threshold in [0, 1] (a number such as 0.68), found '\(bad)'")
            }
        }
    }

    func testProcessReadsTensorLogits() throws {
        let pp = try RamOutPut(tagList: ["a", "b"], threshold: 0.5, language: .en)
        // image 0: logits [2, -3]; image 1: [-2, 4].
        let t = Tensor(shape: [2, 2], scalars: [2, -3, -2, 4])
        let preds = try pp.process(TaggingOutput(logits: t), files: ["p", "q"])
        XCTAssertEqual(preds.map(\.classIds), [[0], [1]])
        XCTAssertThrowsError(try pp.process(TaggingOutput(logits: t), files: ["only one"]))
    }

    /// The reference's own logits through RamOutPut with the fixture tag lists give exactly the
    /// manifest's tag strings (en and cn) for every model and image.
    func testFixtureLogitsGiveManifestTags() throws {
        let dir = try Fixtures.requireFixtures()
        let (models, _) = try Fixtures.manifest()
        let pp = try RamOutPut(tagList: TagList.load(dir.appendingPathComponent("tags.txt")),
                               tagListChinese: TagList.load(dir.appendingPathComponent("tags_chinese.txt")),
                               classThresholds: TagList.loadThresholds(dir.appendingPathComponent("tags_threshold.txt")),
                               language: .cn)
        XCTAssertEqual(pp.tagList.count, 64)
        var checked = 0
        for m in models {
            let expected = try Fixtures.safetensors(dir.appendingPathComponent(m.expected))
            for (image, tags) in m.tags {
                let logits = try XCTUnwrap(expected["\(image).logits"], "\(m.name): \(image).logits")
                let p = try pp.predictions(logits: logits.values, files: [image])[0]
                XCTAssertEqual(p.tags["en"], tags.en, "\(m.name) \(image) en")
                XCTAssertEqual(p.tags["cn"], tags.cn, "\(m.name) \(image) cn")
                XCTAssertEqual(p.labelNames, tags.cn)
                checked += 1
            }
        }
        XCTAssertEqual(checked, 21)
    }
}

final class RamOutPutRegistryTests: XCTestCase {
    private func build(_ yaml: String) throws -> RamOutPut {
        let registries = Registries()
        try PostProcessPlugin.register(into: registries)
        let node = try ConfigNode.parse(yaml: yaml, source: "test")
        let pp = try registries.postProcess.build("RamOutPut", ComponentConfig(path: "Infer.PostProcess", node: node,
                                                                               registries: registries))
        return try XCTUnwrap(pp as? RamOutPut)
    }

    func testShippedListsByDefault() throws {
        let pp = try build("language: en")
        XCTAssertEqual(pp.tagList.count, 4585)
        XCTAssertEqual(pp.tagListChinese?.count, 4585)
        XCTAssertEqual(pp.thresholds.count, 4585)
        XCTAssertEqual(pp.language, .en)
        // PaddleClas-style paths fall back to the shipped files by name.
        let p2 = try build("tag_list: ppcls/utils/ram/ram_tag_list.txt\ntag_list_chinese: ppcls/utils/ram/ram_tag_list_chinese.txt\nthreshold: 0")
        XCTAssertEqual(p2.thresholds.max(), 0)
        XCTAssertEqual(p2.language, .cn)
    }

    func testFixtureListsAndErrors() throws {
        let dir = try Fixtures.requireFixtures().path
        let pp = try build("tag_list: \(dir)/tags.txt\ntag_list_chinese: \(dir)/tags_chinese.txt\nram_class_threshold_path: \(dir)/tags_threshold.txt\ndelete_tag_index: [3]")
        XCTAssertEqual(pp.tagList.count, 64)
        XCTAssertEqual(pp.deleteTagIndex, [3])
        XCTAssertEqual(pp.thresholds[63], 0.76, accuracy: 1e-7)
        XCTAssertThrowsError(try build("langauge: en")) { error in
            XCTAssertTrue("\(error)".contains("did you mean 'language'"), "\(error)")
        }
        XCTAssertThrowsError(try build("language: fr"))
        XCTAssertThrowsError(try build("tag_list: \(dir)/tags.txt\nlanguage: cn"))   // custom list, no Chinese list
        // Option errors name the key by its place in the config.
        XCTAssertThrowsError(try build("tag_list: \(dir)/tags.txt\nlanguage: en\ndelete_tag_index: [999]")) { error in
            XCTAssertTrue("\(error)".hasPrefix("Infer.PostProcess.delete_tag_index: invalid value '999'"), "\(error)")
        }
        XCTAssertThrowsError(try build("threshold: 1.5")) { error in
            XCTAssertTrue("\(error)".hasPrefix("Infer.PostProcess.threshold: invalid value '1.5'"), "\(error)")
        }
    }
}

final class DefaultPluginsTests: XCTestCase {
    func testDefaultPluginsRegisterArchsAndRamOutPut() throws {
        let r = try DefaultPlugins.registries()
        XCTAssertTrue(r.arch.contains("ram"))
        XCTAssertTrue(r.arch.contains("ram_plus"))
        XCTAssertTrue(r.postProcess.contains("RamOutPut"))
    }
}
