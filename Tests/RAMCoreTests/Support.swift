import Foundation
import XCTest

/// The package root (two folders above this file's folder).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// `../shared` beside the package root, or XCTSkip with the reason.
func sharedDir() throws -> URL {
    let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared").resolvingSymlinksInPath()
    guard FileManager.default.fileExists(atPath: url.appendingPathComponent("README.md").path) else {
        throw XCTSkip("../shared is absent (looked at \(url.path)); these tests read reference material from it")
    }
    return url
}

/// A fresh temporary folder, removed at the end of the test.
func temporaryFolder(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("ramkit-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// The error's description, or "no error" when `body` did not throw.
func errorText(_ body: () throws -> Void) -> String {
    do {
        try body()
        return "no error"
    } catch {
        return "\(error)"
    }
}
