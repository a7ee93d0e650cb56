import Foundation
import RAMCore
import RAMDefaultPlugins
@testable import RAMEngine
import RAMPostProcess
import RAMTensor
import XCTest

/// The `ram` executable given the bad input a user gives it (QA findings): each case exits 1 with
/// one clear `ram: error:` line naming the file or key, and nothing on stdout.
final class CLIBehaviourTests: XCTestCase, RamProcessTesting {
    /// A config whose post-processor sits under `Infer` (as every shipped config has it).
    func writeConfig(in dir: URL) throws -> URL {
        let cfg = dir.appendingPathComponent("c.yaml")
        try """
            Global:
              device: cpu
            Arch:
              name: ram_plus
            Infer:
              batch_size: 1
              PostProcess:
                name: RamOutPut
                language: cn

            """.write(to: cfg, atomically: true, encoding: .utf8)
        return cfg
    }

    /// `-o PostProcess.language=en` where the config has `Infer.PostProcess`: the error points at
    /// the key that exists instead of listing sections.
    func testOverrideOfAbsentSectionPointsAtTheNestedOne() throws {
        let dir = try temporaryFolder(self)
        let cfg = try writeConfig(in: dir)
        let (code, out, err) = try run(["infer", "-c", cfg.path, "-o", "PostProcess.language=en"])
        XCTAssertEqual(code, 1)
        XCTAssertEqual(out, "")
        XCTAssertEqual(err, "ram: error: override '-o PostProcess.language=en': the config has no 'PostProcess' section; it sets 'Infer.PostProcess': did you mean -o Infer.PostProcess.language=en?\n")
        // The suggested override is accepted.
        let (c2, o2, _) = try run(["infer", "-c", cfg.path, "-o", "Infer.PostProcess.language=en", "--print-config"])
        XCTAssertEqual(c2, 0)
        XCTAssertTrue(o2.contains("    language: en\n"), o2)
    }

    /// An unknown key with no near match still reads as a sentence.
    func testUnknownSectionWithoutNearMatchIsPunctuated() throws {
        let dir = try temporaryFolder(self)
        let cfg = try writeConfig(in: dir)
        let (code, _, err) = try run(["infer", "-c", cfg.path, "-o", "Zzzzzzzz.key=1"])
        XCTAssertEqual(code, 1)
        XCTAssertEqual(err, "ram: error: unknown key 'Zzzzzzzz'. Valid keys: Global, AMP, Arch, Loss, Optimizer, DataLoader, Infer, PostProcess, Metric, PreProcess\n")
    }

    /// An unknown component name with no near match (here the empty name) also reads as a sentence.
    func testUnknownArchWithoutNearMatchIsPunctuated() throws {
        let dir = try temporaryFolder(self)
        let cfg = try writeConfig(in: dir)
        let (code, out, err) = try run(["infer", "-c", cfg.path, "-o", "Arch.name=", "-o", "Infer.infer_imgs=\(cfg.path)",
                                        "-o", "Infer.transforms=[{ToCHWImage: null}]"])
        XCTAssertEqual(code, 1)
        XCTAssertEqual(out, "")
        XCTAssertEqual(err, "ram: error: unknown arch '' at 'Arch'. Registered arch names: ram, ram_plus\n")
    }

    /// A misspelt --log-level is refused (it used to fall back to `info` silently), as a
    /// command-line mistake: exit code 64 and the usage.
    func testUnknownLogLevelIsRefused() throws {
        let dir = try temporaryFolder(self)
        let cfg = try writeConfig(in: dir)
        let (code, out, err) = try run(["infer", "-c", cfg.path, "--log-level", "warn", "--print-config"])
        XCTAssertEqual(code, 64)
        XCTAssertEqual(out, "")
        XCTAssertTrue(err.hasPrefix("Error: --log-level: expected trace, debug, info, notice, warning, error or critical, got 'warn'\nUsage: ram infer"), err)
        let (c2, o2, _) = try run(["infer", "-c", cfg.path, "--log-level", "WARNING", "--print-config"])
        XCTAssertEqual(c2, 0)
        XCTAssertTrue(o2.hasPrefix("Global:\n  device: cpu\n"), o2)
    }

    /// `--format xml` and `-o key` without a value are command-line mistakes too (exit code 64).
    func testBadFormatAndOverrideWithoutValueAreUsageErrors() throws {
        let dir = try temporaryFolder(self)
        let cfg = try writeConfig(in: dir)
        let (c1, o1, e1) = try run(["infer", "-c", cfg.path, "--format", "xml", "--print-config"])
        XCTAssertEqual(c1, 64)
        XCTAssertEqual(o1, "")
        XCTAssertTrue(e1.hasPrefix("Error: --format: expected text, json or csv, got 'xml'\n"), e1)
        let (c2, o2, e2) = try run(["infer", "-c", cfg.path, "-o", "Infer.batch_size", "--print-config"])
        XCTAssertEqual(c2, 64)
        XCTAssertEqual(o2, "")
        XCTAssertTrue(e2.hasPrefix("Error: -o 'Infer.batch_size': expected Section.key=value\n"), e2)
    }

    /// An `-o` key that is not a dotted path, and an unknown `ram list` kind, are command-line
    /// mistakes too (exit code 64).
    func testMalformedOverrideKeyAndUnknownListKindAreUsageErrors() throws {
        let dir = try temporaryFolder(self)
        let cfg = try writeConfig(in: dir)
        for o in ["=5", "Global.=5", ".device=5", "Global..device=5"] {
            let (code, out, err) = try run(["infer", "-c", cfg.path, "-o", o, "--print-config"])
            XCTAssertEqual(code, 64, o)
            XCTAssertEqual(out, "")
            XCTAssertTrue(err.hasPrefix("Error: -o '\(o)': the key '"), err)
        }
        let (code, _, err) = try run(["list", "bogus"])
        XCTAssertEqual(code, 64)
        XCTAssertTrue(err.hasPrefix("Error: unknown kind 'bogus'. Registered kind names: arch, backbone,") && err.contains("Usage: ram list"), err)
    }

    /// An empty config (or comments only) says so, naming the file.
    func testEmptyConfigIsNamed() throws {
        let dir = try temporaryFolder(self)
        let cfg = dir.appendingPathComponent("empty.yaml")
        try "# nothing yet\n".write(to: cfg, atomically: true, encoding: .utf8)
        let (code, out, err) = try run(["infer", "-c", cfg.path])
        XCTAssertEqual(code, 1)
        XCTAssertEqual(out, "")
        XCTAssertEqual(err, "ram: error: '\(cfg.path)': the config file is empty (no sections; expected Global, Arch, Infer, ...)\n")
    }

    /// A FIFO given as a plugin is refused (dlopen of it blocked forever).
    func testPluginThatIsAFifoIsRefused() throws {
        let dir = try temporaryFolder(self)
        let cfg = try writeConfig(in: dir)
        let fifo = dir.appendingPathComponent("p.so")
        XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
        let (code, _, err) = try run(["infer", "-c", cfg.path, "--plugin", fifo.path])
        XCTAssertEqual(code, 1)
        XCTAssertEqual(err, "ram: error: plugin '\(fifo.path)': cannot load the shared library: it is a FIFO (named pipe), not a regular file\n")
    }

    /// `ram` alone prints the usage (it used to print `ram: error: --help`).
    func testNoArgumentsPrintsTheUsage() throws {
        let (code, out, err) = try run([])
        XCTAssertEqual(code, 0)
        XCTAssertTrue(out.hasPrefix("OVERVIEW: Train, evaluate, export and run the RAM / RAM++"), out)
        XCTAssertTrue(out.contains("SUBCOMMANDS:") && out.contains("infer"), out)
        XCTAssertEqual(err, "")
    }

    /// Output that cannot be written (a full disk: /dev/full) ends the run with exit code 1 and a
    /// message, instead of exit code 0 with the results lost.
    func testFailedWriteToStandardOutputIsAnError() throws {
        let dir = try temporaryFolder(self)
        let cfg = try writeConfig(in: dir)
        guard let full = FileHandle(forWritingAtPath: "/dev/full") else { throw XCTSkip("no /dev/full on this system") }
        let (code, _, err) = try run(["infer", "-c", cfg.path, "--print-config"], standardOutput: full)
        XCTAssertEqual(code, 1)
        XCTAssertEqual(err, "ram: error: cannot write to standard output (No space left on device); 0 line(s) were written before\n")
    }

    /// stdout and stderr both into a pipe whose reader has gone (`ram ... 2>&1 | head -c 10`
    /// after head exits): exit code 1, not a signal (SIGPIPE is ignored, and the stderr writes
    /// do not trap on EPIPE).
    func testClosedPipeOnBothStreamsEndsWithExitCodeOne() throws {
        let dir = try temporaryFolder(self)
        let cfg = try writeConfig(in: dir)
        let pipe = Pipe()
        try pipe.fileHandleForReading.close()
        let (code, _, _) = try run(["infer", "-c", cfg.path, "--print-config"],
                                   standardOutput: pipe.fileHandleForWriting, standardError: pipe.fileHandleForWriting)
        XCTAssertEqual(code, 1)
    }

    /// `-c` naming a folder: the reason is that it is a folder (not Foundation's "error 256").
    func testConfigThatIsAFolderSaysSo() throws {
        let dir = try temporaryFolder(self)
        let sub = dir.appendingPathComponent("configs.yaml")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let (code, out, err) = try run(["infer", "-c", sub.path])
        XCTAssertEqual(code, 1)
        XCTAssertEqual(out, "")
        XCTAssertEqual(err, "ram: error: cannot read '\(sub.path)': it is a directory, not a file\n")
    }

    /// A tag list path that is a folder: named, with the reason.
    func testTagListThatIsAFolderSaysSo() throws {
        let dir = try temporaryFolder(self)
        let cfg = try writeConfig(in: dir)
        let (code, out, err) = try run(["infer", "-c", cfg.path, "-o", "Infer.PostProcess.tag_list=\(dir.path)",
                                        "-o", "Infer.PostProcess.language=en", "-o", "Infer.infer_imgs=\(cfg.path)",
                                        "-o", "Infer.transforms=[{ToCHWImage: null}]"])
        XCTAssertEqual(code, 1)
        XCTAssertEqual(out, "")
        XCTAssertTrue(err.hasPrefix("ram: error: ") && err.contains("'\(dir.path)'") && err.contains("it is a directory, not a file"), err)
        XCTAssertFalse(err.contains("NSCocoaErrorDomain"), err)
    }

    /// A folder named like an image (`x.jpg/`) inside `infer_imgs` is walked into, not read as an
    /// image (it used to be "skipped" with Foundation's opaque "error 256" and exit 1).
    func testFolderNamedLikeAnImageIsNotAnImage() throws {
        let dir = try temporaryFolder(self)
        let photos = dir.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos.appendingPathComponent("x.jpg"), withIntermediateDirectories: true)
        try "a".write(to: photos.appendingPathComponent("a.png"), atomically: true, encoding: .utf8)
        try "b".write(to: photos.appendingPathComponent("x.jpg/b.jpg"), atomically: true, encoding: .utf8)
        let cfg = try RunConfig(root: ConfigNode.parse(yaml: "Infer:\n  infer_imgs: \(photos.path)\n", source: "t"))
        let files = try Engine(config: cfg, registries: Registries()).inferImages()
        XCTAssertEqual(files, [photos.appendingPathComponent("a.png").path, photos.appendingPathComponent("x.jpg/b.jpg").path])
    }

    /// An empty `Infer.infer_imgs` (`-o Infer.infer_imgs=`) is refused, naming the key; it used to
    /// resolve to the working directory and tag every image under it (`.build/checkouts` included).
    func testEmptyInferImgsIsRefused() throws {
        for yaml in ["Infer:\n  infer_imgs: ''\n", "Infer:\n  infer_imgs: ['', x.jpg]\n"] {
            let cfg = try RunConfig(root: ConfigNode.parse(yaml: yaml, source: "t"))
            let e = errorText { _ = try Engine(config: cfg, registries: Registries()).inferImages() }
            XCTAssertTrue(e.hasPrefix("'Infer.infer_imgs") && e.contains("the path is empty"), e)
        }
    }

    /// An empty list (`-o "Infer.infer_imgs=[]"`) is refused too: it used to load the model, tag
    /// nothing and exit 0 (QA).
    func testEmptyInferImgsListIsRefused() throws {
        let cfg = try RunConfig(root: ConfigNode.parse(yaml: "Infer:\n  infer_imgs: []\n", source: "t"))
        let e = errorText { _ = try Engine(config: cfg, registries: Registries()).inferImages() }
        XCTAssertEqual(e, "'Infer.infer_imgs': the list is empty; give an image file, a folder, or a list of them")
    }

    /// PaddleClas-style text output quotes as Python's repr does (QA: `language: all` put
    /// backslashes before every quote, and a newline in a file name split the record).
    func testTextOutputQuotesLikePython() {
        XCTAssertEqual(pythonRepr("a | b"), "'a | b'")
        XCTAssertEqual(pythonRepr("en : ['a'], cn: ['甲']"), "\"en : ['a'], cn: ['甲']\"")
        XCTAssertEqual(pythonRepr("it's \"x\""), "'it\\'s \"x\"'")
        XCTAssertEqual(pythonRepr("back\\slash\nnew\tline\u{1}"), "'back\\\\slash\\nnew\\tline\\x01'")
    }

    /// A `RAMKIT_NUM_THREADS` that is not a positive integer is ignored, and said so (QA: silently).
    func testInvalidThreadCountIsWarnedAbout() throws {
        let dir = try temporaryFolder(self)
        let cfg = try writeConfig(in: dir)
        for bad in ["abc", "0", "-1"] {
            let (code, _, err) = try run(["infer", "-c", cfg.path, "--print-config"], environment: ["RAMKIT_NUM_THREADS": bad])
            XCTAssertEqual(code, 0)
            XCTAssertTrue(err.contains("RAMKIT_NUM_THREADS='\(bad)' is not a positive integer and is ignored; using "), err)
        }
        let (_, _, err) = try run(["infer", "-c", cfg.path, "--print-config"], environment: ["RAMKIT_NUM_THREADS": "1"])
        XCTAssertFalse(err.contains("RAMKIT_NUM_THREADS"), err)
    }

    /// The same for `Global.plugins` (`-o Global.plugins=`): it used to `dlopen` the working directory.
    func testEmptyPluginPathIsRefused() throws {
        let cfg = try RunConfig(root: ConfigNode.parse(yaml: "Global:\n  plugins: ''\n", source: "t"))
        let e = errorText { try cfg.loadPlugins(into: Registries()) }
        XCTAssertEqual(e, "'Global.plugins': the path is empty; give a plugin library (.so), or leave Global.plugins out")
    }

    /// The same for ImageFolderDataset's class folders (`ram eval` stopped at such a folder).
    func testImageFolderDatasetSkipsFoldersNamedLikeImages() throws {
        let dir = try temporaryFolder(self)
        let cls = dir.appendingPathComponent("cat")
        try FileManager.default.createDirectory(at: cls.appendingPathComponent("x.jpg"), withIntermediateDirectories: true)
        try "a".write(to: cls.appendingPathComponent("a.jpg"), atomically: true, encoding: .utf8)
        try "b".write(to: cls.appendingPathComponent("x.jpg/b.png"), atomically: true, encoding: .utf8)
        let registries = try DefaultPlugins.registries()
        let cfg = ComponentConfig(path: "DataLoader.Eval.dataset", node: try ConfigNode.parse(yaml: "image_root: \(dir.path)\n", source: "t"),
                                  registries: registries)
        let ds = try registries.dataset.build("ImageFolderDataset", cfg)
        XCTAssertEqual(ds.count, 2)
        XCTAssertEqual(try ds.sample(at: 0).path, cls.appendingPathComponent("a.jpg").path)
        XCTAssertEqual(try ds.sample(at: 1).path, cls.appendingPathComponent("x.jpg/b.png").path)
    }

    /// Labels written for 2 tags evaluated against a 3-tag model: refused, naming the counts
    /// (`ram eval` printed mAP 1.0 and exited 0). MultiLabelDataset records the line length.
    func testMetricsRefuseLabelsWrittenForAnotherTagCount() throws {
        let dir = try temporaryFolder(self)
        try "a".write(to: dir.appendingPathComponent("a.jpg"), atomically: true, encoding: .utf8)
        try "a.jpg\t0,1\n".write(to: dir.appendingPathComponent("labels.txt"), atomically: true, encoding: .utf8)
        let registries = try DefaultPlugins.registries()
        let dsNode = try ConfigNode.parse(yaml: "image_root: \(dir.path)\ncls_label_path: \(dir.path)/labels.txt\n", source: "t")
        let ds = try registries.dataset.build("MultiLabelDataset", ComponentConfig(path: "DataLoader.Eval.dataset", node: dsNode, registries: registries))
        let sample = try ds.sample(at: 0)
        XCTAssertEqual(sample.labels, [1])
        XCTAssertEqual(sample.labelCount, 2)
        let logits = TaggingOutput(logits: Tensor(shape: [1, 3], scalars: [1, 2, 3]))
        for name in ["MultiLabelMAP", "HammingDistance"] {
            let m = try registries.metric.build(name, ComponentConfig(path: "Metric.Eval.0.\(name)", node: .null, registries: registries))
            let e = errorText { try m.update(logits, samples: [sample]) }
            XCTAssertEqual(e, "'\(name)': sample \(dir.path)/a.jpg has 2 label values; the model has 3 tags (check the label file against Arch.tag_list)")
            // The same labels for a 2-tag model are accepted.
            try m.update(TaggingOutput(logits: Tensor(shape: [1, 2], scalars: [1, 2])), samples: [sample])
        }
    }

    /// A RamOutPut tag list of another length than the model's logits: the message says which is
    /// which (it read "tag_list '(the model's logits)' has 4585 entries, expected 64").
    func testRamOutPutTagCountMismatchSaysWhichIsWhich() throws {
        let post = try RamOutPut(tagList: ["a", "b", "c"], threshold: 0.5, language: .en)
        let e = errorText { _ = try post.predictions(logits: [1, 2], files: ["x.jpg"]) }
        XCTAssertEqual(e, "'RamOutPut.tag_list': the tag list has 3 tags but the model outputs 2 logits per image; give RamOutPut the tag list the model was built with (Arch.tag_list)")
    }
}
