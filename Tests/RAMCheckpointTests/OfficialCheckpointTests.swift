import Foundation
import XCTest
@testable import RAMCheckpoint

/// Opt-in: RAMKIT_OFFICIAL_CHECKPOINT=/path/to/ram_plus_swin_large_14m.pth (or ram_swin_large_14m.pth)
/// swift test --filter OfficialCheckpointTests
final class OfficialCheckpointTests: XCTestCase {
    func testOfficialCheckpointOpens() throws {
        guard let path = ProcessInfo.processInfo.environment["RAMKIT_OFFICIAL_CHECKPOINT"] else {
            print("SKIP: set RAMKIT_OFFICIAL_CHECKPOINT to an official RAM / RAM++ .pth to run this test")
            throw XCTSkip("set RAMKIT_OFFICIAL_CHECKPOINT to an official RAM / RAM++ .pth to run this test")
        }
        let c = try Checkpoint.open(URL(fileURLWithPath: path))
        XCTAssertEqual(c.format, .torchZip)
        XCTAssertEqual(c.stateDictKey, "model")
        let s = try StateDictSanitizer.ramReference.apply(c.tensors)
        let id = CheckpointIdentity.identify(CheckpointContents(format: c.format, file: c.file, tensors: s.tensors, keys: [],
                                                                stateDictKey: nil, ignored: [], metadata: [:]).shapes)
        print("\(path): \(c.tensors.count) tensors; \(id); \(c.sharedStorages.count) shared storages; ignored \(c.ignored)")
        XCTAssertEqual(id.numTags, 4585)
        XCTAssertEqual(id.backbone, .swin(embedDim: 192))
        XCTAssertEqual(id.windowSize, 12)
        if id.arch == .ram { XCTAssertFalse(c.sharedStorages.isEmpty) } else { XCTAssertEqual(id.arch, .ramPlus) }
        // every tensor is addressable inside its storage
        for (k, t) in c.tensors { try t.validate(name: k, file: path) }
    }
}
