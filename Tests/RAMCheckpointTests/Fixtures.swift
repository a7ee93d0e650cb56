import Foundation
import XCTest

/// `../shared/fixtures` beside the package root, found from this file's path (not the cwd).
enum Fixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let dir = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures")

    /// The fixture folder, or XCTSkip with the reason when it is absent.
    static func require() throws -> URL {
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("manifest.json").path) else {
            print("SKIP: \(dir.path) is absent (the shared fixtures are not checked out beside the package)")
            throw XCTSkip("\(dir.path) is absent (the shared fixtures are not checked out beside the package)")
        }
        return dir
    }

    static func url(_ name: String) throws -> URL { try require().appendingPathComponent(name) }

    static func manifest() throws -> [String: Any] {
        let data = try Data(contentsOf: try url("manifest.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// A fresh temporary directory for a test, removed at the end of the process is not needed:
    /// callers remove it in tearDown.
    static func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("ramckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }
}
