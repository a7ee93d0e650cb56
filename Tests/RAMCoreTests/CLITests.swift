import Foundation
import XCTest

/// The `ram` executable, run as a user would (built next to the test executable by `swift build`).
final class CLITests: XCTestCase, RamProcessTesting {
    func testHelpHasAnExample() throws {
        let (code, out, _) = try run(["--help"])
        XCTAssertEqual(code, 0)
        for cmd in ["train", "eval", "infer", "export", "predict", "list"] { XCTAssertTrue(out.contains(cmd), cmd) }
        XCTAssertTrue(out.contains("Example:"), out)
        XCTAssertTrue(out.contains("-o Global.pretrained_model="), out)
        let (c2, o2, _) = try run(["infer", "--help"])
        XCTAssertEqual(c2, 0)
        XCTAssertTrue(o2.contains("--print-config") && o2.contains("--format") && o2.contains("-o, --override"), o2)
    }

    func testListPrintsNamesWithDescriptions() throws {
        let (code, out, _) = try run(["list", "dataset"])
        XCTAssertEqual(code, 0)
        XCTAssertTrue(out.hasPrefix("dataset:\n"), out)
        XCTAssertTrue(out.contains("  MultiLabelDataset   PaddleClas label file"), out)
        let (bad, _, err) = try run(["list", "postproces"])
        XCTAssertEqual(bad, 64)   // a command-line mistake
        XCTAssertTrue(err.hasPrefix("Error: unknown kind 'postproces'; did you mean 'postprocess'?"), err)
    }

    func testErrorsGoToStderrWithNonZeroExitAndNoStackTrace() throws {
        let dir = try temporaryFolder(self)
        let cfg = dir.appendingPathComponent("c.yaml")
        try "Global:\n  epochs: 3\nArch:\n  name: ram_plus\n".write(to: cfg, atomically: true, encoding: .utf8)
        let (code, out, err) = try run(["train", "-c", cfg.path, "-o", "Global.epoch=4"])
        XCTAssertEqual(code, 1)
        XCTAssertEqual(out, "")
        XCTAssertTrue(err.hasPrefix("ram: error: ") && err.hasSuffix("\n") && err.filter { $0 == "\n" }.count == 1, err)
        XCTAssertTrue(err.contains("unknown key 'Global.epoch'; did you mean 'epochs'?"), err)
        XCTAssertFalse(err.contains("Stack") || err.contains("Fatal error") || err.contains("0x0"), err)
        let (c2, _, e2) = try run(["train", "-c", cfg.path])
        XCTAssertEqual(c2, 1)
        XCTAssertEqual(e2, "ram: error: ram train (the training loop): not implemented yet\n")
        let (c3, _, e3) = try run(["infer", "-c", "missing.yaml"], cwd: dir)
        XCTAssertEqual(c3, 1)
        XCTAssertEqual(e3, "ram: error: config file 'missing.yaml' not found; looked at: \(dir.resolvingSymlinksInPath().appendingPathComponent("missing.yaml").path)\n")
    }

    func testPrintConfigAppliesOverrides() throws {
        let dir = try temporaryFolder(self)
        let cfg = dir.appendingPathComponent("c.yaml")
        try "Global:\n  epochs: 3  # comment\nArch:\n  name: ram_plus\n  prompt: 'a picture of '\n".write(to: cfg, atomically: true, encoding: .utf8)
        let (code, out, _) = try run(["infer", "-c", cfg.path, "-o", "Global.epochs=5", "-o", "Arch.vit=swin_b", "--print-config"])
        XCTAssertEqual(code, 0)
        XCTAssertEqual(out, "Global:\n  epochs: 5\nArch:\n  name: ram_plus\n  prompt: 'a picture of '\n  vit: swin_b\n")
    }
}
