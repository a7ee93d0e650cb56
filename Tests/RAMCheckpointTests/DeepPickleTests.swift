import Foundation
import XCTest
@testable import RAMCheckpoint

final class DeepPickleTests: XCTestCase {
    /// A pickle nesting a million tuples (and a list cycle) must give an error, not a stack overflow
    /// when the values are released.
    func testDeeplyNestedPickleDoesNotCrash() throws {
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var b: [UInt8] = [0x80, 0x02, 0x4B, 0x01]
        b += [UInt8](repeating: 0x85, count: 1_000_000)   // TUPLE1 × 10⁶
        b += [0x2E]
        let u = dir.appendingPathComponent("deep.pdparams")
        try Data(b).write(to: u)
        XCTAssertThrowsError(try Checkpoint.load(u)) { e in
            XCTAssertEqual((e as? CheckpointError)?.kind, .notACheckpoint)
        }
        // a list that contains itself: ] q0 h0 a .   (EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, STOP)
        let cyc: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E]
        let c = dir.appendingPathComponent("cycle.pdparams")
        try Data(cyc).write(to: c)
        XCTAssertThrowsError(try Checkpoint.load(c))
        // lengths that would overflow: BINBYTES8 of 2^63-1 bytes, LONG4 of -5 bytes
        let huge: [UInt8] = [0x80, 0x04, 0x8E, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x2E]
        let neg: [UInt8] = [0x80, 0x02, 0x8B, 0xFB, 0xFF, 0xFF, 0xFF, 0x2E]
        for (name, bytes, kind) in [("huge", huge, CheckpointError.Kind.truncated), ("neg", neg, .malformedPickle)] {
            let u = dir.appendingPathComponent("\(name).pdparams")
            try Data(bytes).write(to: u)
            XCTAssertThrowsError(try Checkpoint.load(u), name) { e in XCTAssertEqual((e as? CheckpointError)?.kind, kind, "\(e)") }
        }
    }
}
