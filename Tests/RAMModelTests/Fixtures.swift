import Foundation
import XCTest

/// Access to `../shared` (the reference's fixtures), resolved from this file's location.
enum Fixtures {
    /// The package root (this file is Tests/RAMModelTests/Fixtures.swift).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shared: URL = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
    static let fixtures: URL = shared.appendingPathComponent("fixtures")
    static let images: URL = shared.appendingPathComponent("images")

    /// `../shared/fixtures`, or an XCTSkip saying why it is absent.
    static func requireFixtures() throws -> URL {
        let manifest = fixtures.appendingPathComponent("manifest.json")
        guard FileManager.default.fileExists(atPath: manifest.path) else {
            throw XCTSkip("reference fixtures not found at \(fixtures.path) (../shared beside the package)")
        }
        return fixtures
    }

    struct ModelEntry {
        var name: String
        var arch: String
        var imageSize: Int
        var checkpoint: String
        var expected: String
        var numTags: Int
        var parameters: Int
        /// image name -> (en, cn)
        var tags: [String: (en: String, cn: String)]
    }

    static func manifest() throws -> (models: [ModelEntry], images: [String: String]) {
        let dir = try requireFixtures()
        let data = try Data(contentsOf: dir.appendingPathComponent("manifest.json"))
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let models = root["models"] as? [String: [String: Any]],
              let images = root["images"] as? [String: [String: Any]] else {
            throw NSError(domain: "Fixtures", code: 1, userInfo: [NSLocalizedDescriptionKey: "manifest.json: unexpected layout"])
        }
        var out: [ModelEntry] = []
        for (name, m) in models.sorted(by: { $0.key < $1.key }) {
            var tags: [String: (en: String, cn: String)] = [:]
            for (img, t) in (m["tags"] as? [String: [String: String]]) ?? [:] {
                tags[img] = (t["en"] ?? "", t["cn"] ?? "")
            }
            out.append(ModelEntry(name: name, arch: m["arch"] as? String ?? "",
                                  imageSize: m["image_size"] as? Int ?? 0,
                                  checkpoint: m["checkpoint"] as? String ?? "",
                                  expected: m["expected"] as? String ?? "",
                                  numTags: m["num_tags"] as? Int ?? 0,
                                  parameters: m["parameters"] as? Int ?? 0,
                                  tags: tags))
        }
        var files: [String: String] = [:]
        for (k, v) in images { files[k] = v["file"] as? String }
        return (out, files)
    }

    /// A minimal safetensors reader for F32 tensors (test-side, independent of RAMCheckpoint).
    static func safetensors(_ url: URL) throws -> [String: (shape: [Int], values: [Float])] {
        let data = try Data(contentsOf: url)
        let n = data.prefix(8).withUnsafeBytes { raw -> UInt64 in
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(raw[i]) << (8 * UInt64(i)) }
            return v
        }
        let headerEnd = 8 + Int(n)
        guard let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)) as? [String: Any] else {
            throw NSError(domain: "Fixtures", code: 2, userInfo: [NSLocalizedDescriptionKey: "\(url.path): bad header"])
        }
        var out: [String: (shape: [Int], values: [Float])] = [:]
        for (k, v) in header where k != "__metadata__" {
            guard let d = v as? [String: Any], d["dtype"] as? String == "F32",
                  let shape = d["shape"] as? [Int], let offs = d["data_offsets"] as? [Int] else { continue }
            let bytes = data.subdata(in: (headerEnd + offs[0])..<(headerEnd + offs[1]))
            var floats = [Float](repeating: 0, count: bytes.count / 4)
            floats.withUnsafeMutableBytes { dst in _ = bytes.copyBytes(to: dst) }
            out[k] = (shape, floats)
        }
        return out
    }
}
