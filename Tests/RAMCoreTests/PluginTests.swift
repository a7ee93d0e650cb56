import ExampleTopK
import Foundation
import RAMCore
import RAMDatasets
import RAMDefaultPlugins
import RAMTensor
import XCTest

/// A stand-in post-processor for registry tests.
struct Constant: PostProcess {
    let label: String
    func process(_ output: TaggingOutput, files: [String?]) throws -> [Prediction] {
        files.map { Prediction(file: $0, classIds: [], scores: [], labelNames: label) }
    }
}

final class RegistryTests: XCTestCase {
    func testRegisterBuildAndNames() throws {
        let r = Registries()
        try r.postProcess.register("Zeta", summary: "z") { c in
            struct P: Codable, ConfigDefaults { var label = "zz" }
            return Constant(label: try c.decode(P.self).label)
        }
        try r.postProcess.register("Alpha", summary: "first") { _ in Constant(label: "a") }
        XCTAssertEqual(r.postProcess.names, ["Alpha", "Zeta"])
        XCTAssertEqual(r.postProcess.summary(for: "Alpha"), "first")
        let cfg = ComponentConfig(path: "Infer.PostProcess", node: try ConfigNode.parse(yaml: "label: hello", source: "t"), registries: r)
        let p = try r.postProcess.build("Zeta", cfg)
        XCTAssertEqual(try p.process(TaggingOutput(logits: Tensor(zeros: [1, 1])), files: ["f"]).first?.labelNames, "hello")
    }

    func testDuplicateNameThrows() throws {
        let r = Registries()
        try r.postProcess.register("TopK", summary: "") { _ in Constant(label: "") }
        let e = errorText { try ExampleTopKPlugin.register(into: r) }
        XCTAssertEqual(e, "postprocess 'TopK' is already registered (names must be unique)")
    }

    func testUnknownNameGivesDidYouMean() throws {
        let r = try DefaultPlugins.registries()
        try ExampleTopKPlugin.register(into: r)
        let root = try ConfigNode.parse(yaml: "Infer:\n  PostProcess:\n    name: TopKK\n    k: 3\n", source: "t")
        let cfg = try RunConfig(root: root)
        let e = errorText { _ = try cfg.buildNamed(r.postProcess, at: "Infer.PostProcess", registries: r) }
        XCTAssertTrue(e.hasPrefix("unknown postprocess 'TopKK' at 'Infer.PostProcess'; did you mean 'TopK'?"), e)
        XCTAssertTrue(e.hasSuffix("Registered postprocess names: RamOutPut, TopK"), e)
        // list items (PaddleClas operator lists) name the item's path
        let list = try RunConfig(root: try ConfigNode.parse(yaml: "DataLoader:\n  Train:\n    sampler:\n      name: BatchSampelr\n", source: "t"))
        let e2 = errorText { _ = try list.buildNamed(r.sampler, at: "DataLoader.Train.sampler", registries: r) }
        XCTAssertTrue(e2.contains("unknown sampler 'BatchSampelr' at 'DataLoader.Train.sampler'; did you mean 'BatchSampler'?"), e2)
    }

    func testMissingNameKey() throws {
        let r = Registries()
        let cfg = try RunConfig(root: try ConfigNode.parse(yaml: "Arch:\n  vit: swin_l\n", source: "t"))
        XCTAssertEqual(errorText { _ = try cfg.buildNamed(r.arch, at: "Arch", registries: r) }, "'Arch.name' is required but missing")
    }
}

/// The example plugin module's post-processor chosen by name in a config.
final class ExampleTopKTests: XCTestCase {
    func writeTags(_ dir: URL) throws -> (String, String) {
        let en = dir.appendingPathComponent("tags.txt"), cn = dir.appendingPathComponent("tags_cn.txt")
        try "cat\ndog\nbird\nfish".write(to: en, atomically: true, encoding: .utf8)
        try "猫\n狗\n鸟 \n鱼".write(to: cn, atomically: true, encoding: .utf8)
        return (en.path, cn.path)
    }

    func testTopKChosenByNameInAConfig() throws {
        let dir = try temporaryFolder(self)
        let (en, cn) = try writeTags(dir)
        let r = try DefaultPlugins.registries()
        try ExampleTopKPlugin.register(into: r)
        let yaml = "Infer:\n  PostProcess:\n    name: TopK\n    k: 2\n    language: cn\n    tag_list: \(en)\n    tag_list_chinese: \(cn)\n"
        let cfg = try RunConfig(root: try ConfigNode.parse(yaml: yaml, source: "t"))
        let pp = try cfg.buildNamed(r.postProcess, at: "Infer.PostProcess", registries: r)
        // logits: image 0 best are class 2 (bird) then 0 (cat); image 1: class 3 then 1
        let logits = Tensor(shape: [2, 4], scalars: [1.0, -2.0, 3.0, 0.5,
                                                     -1.0, 2.0, 0.0, 4.0])
        let out = try pp.process(TaggingOutput(logits: logits), files: ["a.jpg", "b.jpg"])
        XCTAssertEqual(out.count, 2)
        XCTAssertEqual(out[0].classIds, [2, 0])
        XCTAssertEqual(out[0].labelNames, "鸟  | 猫")   // strings kept as they are (trailing space)
        XCTAssertEqual(out[0].tags["en"], "bird | cat")
        XCTAssertEqual(out[0].scores[0], 1 / (1 + exp(-3)), accuracy: 1e-6)
        XCTAssertEqual(out[0].scores[1], 1 / (1 + exp(-1)), accuracy: 1e-6)
        XCTAssertEqual(out[1].classIds, [3, 1])
        XCTAssertEqual(out[1].file, "b.jpg")
        XCTAssertEqual(out[1].tags["en"], "fish | dog")
    }

    func testTopKDefaultsToTheShippedTagList() throws {
        let r = Registries()
        try ExampleTopKPlugin.register(into: r)
        let pp = try r.postProcess.build("TopK", ComponentConfig(path: "PostProcess", node: .null, registries: r))
        var logits = [Float](repeating: -5, count: 4585)
        logits[593] = 3; logits[871] = 2.5; logits[4584] = 2
        let out = try pp.process(TaggingOutput(logits: Tensor(shape: [1, 4585], scalars: logits)), files: [nil])
        XCTAssertEqual(Array(out[0].classIds.prefix(3)), [593, 871, 4584])
        XCTAssertEqual(out[0].classIds.count, 5)
        XCTAssertTrue(out[0].labelNames.hasPrefix("brown | chicken | "), out[0].labelNames)
    }

    func testTopKOptionsAreStrict() throws {
        let r = Registries()
        try ExampleTopKPlugin.register(into: r)
        let bad = ComponentConfig(path: "Infer.PostProcess", node: try ConfigNode.parse(yaml: "topk: 3", source: "t"), registries: r)
        let e = errorText { _ = try r.postProcess.build("TopK", bad) }
        XCTAssertTrue(e.contains("unknown key 'Infer.PostProcess.topk'"), e)
        let word = ComponentConfig(path: "Infer.PostProcess", node: try ConfigNode.parse(yaml: "k: three", source: "t"), registries: r)
        XCTAssertTrue(errorText { _ = try r.postProcess.build("TopK", word) }.contains("'Infer.PostProcess.k': expected a number"))
        let zero = ComponentConfig(path: "Infer.PostProcess", node: try ConfigNode.parse(yaml: "k: 0", source: "t"), registries: r)
        XCTAssertTrue(errorText { _ = try r.postProcess.build("TopK", zero) }.contains("must be at least 1"))
    }
}

/// A plugin loaded from a shared library at run time (dlopen + `ramkit_register_plugin`).
final class SharedLibraryPluginTests: XCTestCase {
    /// `libExampleTopKPlugin.so`, the `.library(type: .dynamic)` product of `ExampleTopK`, built by
    /// `swift build` (`.ci/run` builds before testing) next to the test executable.
    func pluginLibrary() throws -> String {
        let exeDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidates = [exeDir.appendingPathComponent("libExampleTopKPlugin.so").path]
        for d in [exeDir.deletingLastPathComponent(), exeDir.deletingLastPathComponent().deletingLastPathComponent()] {
            candidates.append(d.appendingPathComponent("libExampleTopKPlugin.so").path)
        }
        candidates.append(packageRoot.appendingPathComponent(".build/debug/libExampleTopKPlugin.so").path)
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        XCTFail("libExampleTopKPlugin.so was not built; run `swift build --build-tests` first (looked at \(candidates.joined(separator: ", ")))")
        throw XCTSkip("no plugin library")
    }

    func testLoadTopKFromASharedLibraryAndUseIt() throws {
        let lib = try pluginLibrary()
        let r = try DefaultPlugins.registries()
        XCTAssertFalse(r.postProcess.contains("TopK"))
        try PluginLoader.load(lib, into: r)
        XCTAssertTrue(r.postProcess.contains("TopK"))
        XCTAssertEqual(r.loadedPlugins.count, 1)
        try PluginLoader.load(lib, into: r)            // the same file twice: no-op, no duplicate error
        XCTAssertEqual(r.loadedPlugins.count, 1)

        let dir = try temporaryFolder(self)
        let tags = dir.appendingPathComponent("t.txt")
        try "a\nb\nc".write(to: tags, atomically: true, encoding: .utf8)
        let cfg = try RunConfig(root: try ConfigNode.parse(
            yaml: "Global:\n  plugins: []\nPostProcess:\n  name: TopK\n  k: 1\n  tag_list: \(tags.path)\n  tag_list_chinese: \(tags.path)\n", source: "t"))
        let pp = try cfg.buildNamed(r.postProcess, at: "PostProcess", registries: r)
        let out = try pp.process(TaggingOutput(logits: Tensor(shape: [1, 3], scalars: [0, 5, 1])), files: ["x"])
        XCTAssertEqual(out.map(\.classIds), [[1]])
        // This library, built by SwiftPM as `.library(type: .dynamic)`, carries its own copy of
        // RAMCore: its TopK works through the registry (protocol witness calls) but is not seen as
        // conforming to this process's PostProcess by a dynamic cast. See the single-copy test below.
        let any: Any = pp
        XCTAssertFalse(any is any PostProcess)
        XCTAssertEqual(out.first?.labelNames, "b")
    }

    /// A plugin library that links no RAMCore of its own: compiled from the ExampleTopK source
    /// against this build's modules; its RAMCore symbols bind at dlopen time to the test process
    /// (linked with --export-dynamic), so there is one RAMCore and dynamic casts agree.
    func testSingleCopyPluginBuiltWithSwiftc() throws {
        let exeDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let modules = exeDir.appendingPathComponent("Modules")
        guard FileManager.default.fileExists(atPath: modules.appendingPathComponent("RAMCore.swiftmodule").path) else {
            XCTFail("no RAMCore.swiftmodule under \(modules.path)")
            return
        }
        let dir = try temporaryFolder(self)
        let lib = dir.appendingPathComponent("libTopKSingleCopy.so")
        var args = ["swiftc", "-emit-library", "-parse-as-library", "-module-name", "TopKSingleCopy",
                    packageRoot.appendingPathComponent("Plugins/ExampleTopK/ExampleTopK.swift").path,
                    "-I", modules.path, "-o", lib.path]
        // the C modules RAMCore's dependencies import: system libraries (Sources/C*/module.modulemap),
        // C targets (module maps SwiftPM generates in <build>/<target>.build/), Yams's CYaml
        var maps: [String] = []
        let fm = FileManager.default
        for d in (try? fm.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("Sources").path)) ?? [] {
            let m = packageRoot.appendingPathComponent("Sources/\(d)/module.modulemap").path
            if fm.fileExists(atPath: m) { maps.append(m) }
        }
        for d in (try? fm.contentsOfDirectory(atPath: exeDir.path)) ?? [] where d.hasSuffix(".build") {
            let m = exeDir.appendingPathComponent("\(d)/module.modulemap").path
            if fm.fileExists(atPath: m) { maps.append(m) }
        }
        maps.append(packageRoot.appendingPathComponent(".build/checkouts/Yams/Sources/CYaml/include/module.modulemap").path)
        for m in maps where fm.fileExists(atPath: m) { args += ["-Xcc", "-fmodule-map-file=\(m)"] }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let errPipe = Pipe()
        p.standardError = errPipe
        try p.run()
        let errText = String(decoding: errPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "swiftc failed: \(errText)")
        guard p.terminationStatus == 0 else { return }

        let r = Registries()
        try PluginLoader.load(lib.path, into: r)
        XCTAssertEqual(r.postProcess.names, ["TopK"])
        let pp = try r.postProcess.build("TopK", ComponentConfig(path: "PostProcess", node: .map([("k", .int(2))]), registries: r))
        var logits = [Float](repeating: 0, count: 4585)
        logits[871] = 4; logits[593] = 3
        let out = try pp.process(TaggingOutput(logits: Tensor(shape: [1, 4585], scalars: logits)), files: ["x"])
        XCTAssertEqual(out.first?.classIds, [871, 593])
        XCTAssertEqual(out.first?.labelNames, "chicken | brown")
        let any: Any = pp
        XCTAssertTrue(any is any PostProcess)   // one RAMCore: the library's conformance is to ours
    }

    func testGlobalPluginsLoadsTheLibrary() throws {
        let lib = try pluginLibrary()
        let r = Registries()
        let cfg = try RunConfig(root: try ConfigNode.parse(yaml: "Global:\n  plugins: ['\(lib)']\n", source: "t"))
        try cfg.loadPlugins(into: r)
        XCTAssertEqual(r.postProcess.names, ["TopK"])
    }

    func testGlobalPluginsAsOnePathIsAOneElementList() throws {
        let cfg = try RunConfig(root: try ConfigNode.parse(yaml: "Global:\n  plugins: libA.so\n", source: "t"))
        XCTAssertEqual(try cfg.global().plugins, ["libA.so"])
        let two = try RunConfig(root: try ConfigNode.parse(yaml: "Global:\n  plugins: [libA.so, libB.so]\n", source: "t"))
        XCTAssertEqual(try two.global().plugins, ["libA.so", "libB.so"])
        let bad = try RunConfig(root: try ConfigNode.parse(yaml: "Global:\n  plugins: 3\n", source: "t"))
        XCTAssertThrowsError(try bad.global())
    }

    func testRegistrationErrorsComeBackFromTheLibrary() throws {
        let lib = try pluginLibrary()
        let r = Registries()
        try ExampleTopKPlugin.register(into: r)        // TopK is taken
        let e = errorText { try PluginLoader.load(lib, into: r) }
        XCTAssertTrue(e.contains("registration failed: postprocess 'TopK' is already registered"), e)
    }

    func testBadLibraries() throws {
        let dir = try temporaryFolder(self)
        let notLib = dir.appendingPathComponent("libNot.so")
        try "not an ELF file".write(to: notLib, atomically: true, encoding: .utf8)
        let e = errorText { try PluginLoader.load(notLib.path, into: Registries()) }
        XCTAssertTrue(e.contains("cannot load the shared library"), e)
        for libm in ["/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6"] where FileManager.default.fileExists(atPath: libm) {
            let noEntry = errorText { try PluginLoader.load(libm, into: Registries()) }
            XCTAssertTrue(noEntry.contains("does not export 'ramkit_register_plugin'"), noEntry)
        }
        let missing = errorText { try PluginLoader.load("nowhere/libX.so", into: Registries(), baseDirectory: dir) }
        XCTAssertTrue(missing.hasPrefix("plugin library 'nowhere/libX.so' not found; looked at: "), missing)
        XCTAssertTrue(missing.contains(dir.appendingPathComponent("nowhere/libX.so").path), missing)
    }
}
