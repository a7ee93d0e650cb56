import Foundation
import XCTest
@testable import RAMCheckpoint

/// Corrupted copies of the fixtures (deterministic byte flips in the parts that are parsed, and
/// truncations), parsed from memory: every one must load or throw a `CheckpointError` — a crash fails the whole run.
final class FuzzTests: XCTestCase {
    struct LCG { var s: UInt64; mutating func next(_ n: Int) -> Int { s = s &* 6364136223846793005 &+ 1442695040888963407; return Int((s >> 33) % UInt64(n)) } }

    private func fuzz(_ fixture: String, regions: (Int) -> [Range<Int>], rounds: Int, seed: UInt64) throws -> (loaded: Int, failed: Int) {
        let original = [UInt8](try Data(contentsOf: try Fixtures.url(fixture)))
        var rng = LCG(s: seed)
        var loaded = 0, failed = 0
        let rs = regions(original.count).filter { !$0.isEmpty }
        for round in 0..<rounds {
            var b = original
            if round % 10 == 9 {
                b = Array(b.prefix(rng.next(b.count)))
            } else {
                for _ in 0..<(1 + rng.next(4)) {
                    let r = rs[rng.next(rs.count)]
                    let i = r.lowerBound + rng.next(r.count)
                    let choices: [UInt8] = [0x00, 0xFF, 0x7F, 0x80, b[i] ^ 0x01, b[i] &+ 1, UInt8(rng.next(256))]
                    b[i] = choices[rng.next(choices.count)]
                }
            }
            let name = "\(fixture)#\(round)"
            do {
                let t = try Checkpoint.read(b.withUnsafeBytes { ByteStore.copying($0, origin: name) }).tensors
                // every tensor is validated (bounds) by the loader; convert the small ones too
                for (k, v) in t { try v.validate(name: k, file: name); if v.count < 50_000 { _ = try v.floats() } }
                loaded += 1
            } catch is CheckpointError {
                failed += 1
            } catch {
                XCTFail("round \(round): not a CheckpointError: \(error)")
            }
        }
        return (loaded, failed)
    }

    func testCorruptedPthNeverCrashes() throws {
        // data.pkl is the first 13,102 bytes after a 64-byte-ish header; the central directory is the last ~8 KB
        let r = try fuzz("ram_plus_vit_tiny_224.pth", regions: { n in [30..<13_200, (n - 8_000)..<n] }, rounds: 200, seed: 1)
        XCTAssertGreaterThan(r.failed, 50)
        print("fuzz .pth: \(r.loaded) loaded, \(r.failed) clear errors")
    }

    func testCorruptedPdparamsNeverCrashes() throws {
        // headers of the first arrays and the whole tail (the last arrays and STOP)
        let r = try fuzz("ram_plus_vit_tiny_224.pdparams", regions: { n in [0..<700, (n - 30_000)..<n] }, rounds: 150, seed: 2)
        XCTAssertGreaterThan(r.failed, 15)
        print("fuzz .pdparams: \(r.loaded) loaded, \(r.failed) clear errors")
    }

    func testCorruptedSafeTensorsNeverCrashes() throws {
        let r = try fuzz("ram_plus_vit_tiny_224.expected.safetensors", regions: { _ in [0..<3_000] }, rounds: 150, seed: 3)
        XCTAssertGreaterThan(r.failed, 30)
        print("fuzz .safetensors: \(r.loaded) loaded, \(r.failed) clear errors")
    }
}
