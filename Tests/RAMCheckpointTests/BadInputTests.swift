import Foundation
import XCTest
@testable import RAMCheckpoint

/// Bad input: each a clear `CheckpointError` of the right kind naming the file, never a crash.
final class BadInputTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try Fixtures.tempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func write(_ bytes: [UInt8], _ name: String) throws -> URL {
        let u = dir.appendingPathComponent(name)
        try Data(bytes).write(to: u)
        return u
    }

    /// A zip of the given entries (stored), via the library's own zip writer.
    private func zip(_ entries: [(String, [UInt8])], _ name: String) throws -> URL {
        let u = dir.appendingPathComponent(name)
        try AtomicFile.writeFD(to: u) { fd, path in
            var z = ZipWriter(fd: fd, path: path)
            for (n, b) in entries { try z.addEntry(n, bytes: b) }
            try z.finish()
        }
        return u
    }

    private func expect(_ url: URL, _ kind: CheckpointError.Kind, mentions: [String] = [],
                        file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Checkpoint.load(url), file: file, line: line) { e in
            guard let ce = e as? CheckpointError else { return XCTFail("not a CheckpointError: \(e)", file: file, line: line) }
            XCTAssertEqual(ce.kind, kind, ce.description, file: file, line: line)
            XCTAssertTrue(ce.description.contains(url.path), "error does not name the file: \(ce)", file: file, line: line)
            for m in mentions {
                XCTAssertTrue(ce.description.contains(m), "'\(m)' not in: \(ce)", file: file, line: line)
            }
        }
    }

    /// A pickle protocol 2 state dict {'model': {name: _rebuild_tensor_v2(storage '0', 0, shape, stride)}}.
    private func statePickle(name: String, numel: Int, shape: [Int], storageType: String = "FloatStorage") -> [UInt8] {
        var p = PickleWriter()
        p.op(0x7D); p.string("model"); p.op(0x7D)
        p.string(name)
        p.global("torch._utils", "_rebuild_tensor_v2")
        p.op(0x28); p.op(0x28)
        p.string("storage"); p.global("torch", storageType); p.string("0"); p.string("cpu"); p.int(numel)
        p.op(0x74); p.op(0x51)
        p.int(0); p.intTuple(shape); p.intTuple(TensorData.contiguousStrides(shape)); p.op(0x89)
        p.global("collections", "OrderedDict"); p.op(0x29); p.op(0x52)
        p.op(0x74); p.op(0x52)
        p.op(0x73); p.op(0x73); p.op(0x2E)
        return p.out
    }

    /// The zip64 records (used by checkpoints over 4 GiB, like ram_swin_large_14m.pth at 5.6 GB)
    /// are read, here forced on a small file.
    func testZip64ArchiveLoads() throws {
        let u = dir.appendingPathComponent("z64.pth")
        let vals: [Float] = [1.5, -2, 3.25, 4]
        try AtomicFile.writeFD(to: u) { fd, path in
            var z = ZipWriter(fd: fd, path: path)
            z.forceZip64 = true
            try z.addEntry("a/data.pkl", bytes: statePickle(name: "w", numel: 4, shape: [2, 2]))
            try z.addEntry("a/data/0", bytes: vals.withUnsafeBytes { Array($0) })
            try z.finish()
        }
        let t = try Checkpoint.load(u)
        XCTAssertEqual(try t["w"]?.floats(), vals)
        let zip = try ZipArchive(try ByteStore.map(u))
        XCTAssertEqual(zip.entries.map(\.size), [statePickle(name: "w", numel: 4, shape: [2, 2]).count, 16])
    }

    func testMissingFile() {
        expect(dir.appendingPathComponent("nope.pth"), .fileNotFound, mentions: ["no such file"])
    }

    func testDirectory() {
        expect(dir, .notAFile, mentions: ["is a directory"])
    }

    /// A FIFO (a read would block) or a device (never ends) is refused, saying which it is.
    func testFifoAndDevice() throws {
        let fifo = dir.appendingPathComponent("p.pth")
        XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
        expect(fifo, .notAFile, mentions: ["is a FIFO (named pipe), not a regular file"])
        expect(URL(fileURLWithPath: "/dev/zero"), .notAFile, mentions: ["is a character device, not a regular file"])
    }

    func testEmptyFile() throws {
        expect(try write([], "empty.pth"), .truncated, mentions: ["empty"])
    }

    func testTruncatedZip() throws {
        let whole = try Data(contentsOf: try Fixtures.url("ram_plus_vit_tiny_224.pth"))
        let cut = try write(Array(whole.prefix(whole.count / 2)), "cut.pth")
        expect(cut, .truncated, mentions: ["truncated"])
        // cut inside the central directory: the end record is gone as well
        expect(try write(Array(whole.prefix(whole.count - 30)), "cut2.pth"), .truncated)
    }

    func testZipThatIsNotACheckpoint() throws {
        let u = try zip([("readme.txt", Array("hello".utf8)), ("images/a.jpg", [0xFF, 0xD8])], "notckpt.pth")
        expect(u, .notACheckpoint, mentions: ["data.pkl", "readme.txt"])
    }

    func testRandomBytesAreNotACheckpoint() throws {
        expect(try write(Array("GIF89a not a model".utf8), "x.bin"), .notACheckpoint, mentions: ["47 49 46 38"])
    }

    func testForbiddenGlobalIsRefusedWithoutRunning() throws {
        let marker = dir.appendingPathComponent("pwned").path
        // pickle: os.system('touch <marker>')
        var p = PickleWriter()
        p.global("os", "system"); p.string("touch \(marker)"); p.op(0x85); p.op(0x52); p.op(0x2E)
        expect(try write(p.out, "evil.pdparams"), .forbiddenGlobal, mentions: ["'os.system'", "Nothing was executed"])
        // the same inside a torch zip's data.pkl
        expect(try zip([("archive/data.pkl", p.out)], "evil.pth"), .forbiddenGlobal, mentions: ["'os.system'", "archive/data.pkl"])
        // protocol 4 STACK_GLOBAL spelling
        var q: [UInt8] = [0x80, 0x04]
        for s in ["builtins", "eval"] { q += [0x8C, UInt8(s.utf8.count)] + Array(s.utf8) }
        q += [0x93, 0x8C, 0x01, UInt8(ascii: "1"), 0x85, 0x52, 0x2E]
        expect(try write(q, "evil4.pdparams"), .forbiddenGlobal, mentions: ["'builtins.eval'"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))
    }

    func testStorageShorterThanDeclared() throws {
        // storage declares 100 floats but the entry holds 40 bytes
        let pk = statePickle(name: "w", numel: 100, shape: [10, 10])
        let u = try zip([("archive/data.pkl", pk), ("archive/data/0", [UInt8](repeating: 0, count: 40))], "short.pth")
        expect(u, .storageTooShort, mentions: ["archive/data/0", "40 bytes", "100"])
    }

    func testTensorLargerThanItsStorage() throws {
        // the storage really holds 10 floats, the tensor claims [4, 4]
        let pk = statePickle(name: "encoder.weight", numel: 10, shape: [4, 4])
        let u = try zip([("archive/data.pkl", pk), ("archive/data/0", [UInt8](repeating: 0, count: 40))], "big.pth")
        expect(u, .storageTooShort, mentions: ["encoder.weight", "[4, 4]", "needs 16", "holds only 10"])
    }

    /// Sizes whose product overflows Int are an error, not a trap (pickle and safetensors).
    func testOverflowingShapes() throws {
        let pk = statePickle(name: "w", numel: 4, shape: [1 << 40, 1 << 40])
        expect(try zip([("archive/data.pkl", pk), ("archive/data/0", [UInt8](repeating: 0, count: 16))], "huge.pth"),
               .malformedPickle, mentions: ["'w'", "2^40"])
        let header = Array(#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#.utf8)
        let st = le64(header.count) + header + [0, 0, 0, 0]
        expect(try write(st, "huge.safetensors"), .malformedSafeTensors, mentions: ["'w'"])
    }

    func testMissingStorageEntry() throws {
        let pk = statePickle(name: "w", numel: 4, shape: [4])
        expect(try zip([("archive/data.pkl", pk)], "nostorage.pth"), .notACheckpoint, mentions: ["archive/data/0"])
    }

    func testTruncatedPickle() throws {
        let pk = statePickle(name: "w", numel: 4, shape: [4])
        expect(try zip([("archive/data.pkl", Array(pk.prefix(40))), ("archive/data/0", [UInt8](repeating: 0, count: 16))], "cutpkl.pth"),
               .truncated, mentions: ["archive/data.pkl", "truncated"])
    }

    func testLegacyTorchFormatGetsConversionAdvice() throws {
        let magic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]
        expect(try write(magic, "legacy.pth"), .unsupportedFormat, mentions: ["legacy", "torch.save"])
    }

    func testPickleWithoutTensors() throws {
        var p = PickleWriter()
        p.op(0x7D); p.string("epoch"); p.int(3); p.op(0x73); p.op(0x2E)
        expect(try write(p.out, "epoch.pdparams"), .notACheckpoint, mentions: ["epoch"])
    }

    func testTruncatedSafeTensors() throws {
        let whole = try Data(contentsOf: try Fixtures.url("ram_plus_vit_tiny_224.expected.safetensors"))
        let u = try write(Array(whole.prefix(whole.count - 1000)), "cut.safetensors")
        expect(u, .truncated, mentions: ["truncated"])
        XCTAssertThrowsError(try SafeTensors.read(u))
    }

    func testCompressedEntryIsExplained() throws {
        // A valid zip whose entry uses method 8: patch the method fields of a stored zip.
        let u = try zip([("archive/data.pkl", statePickle(name: "w", numel: 1, shape: [1])),
                         ("archive/data/0", [0, 0, 0x80, 0x3F])], "deflated.pth")
        var b = [UInt8](try Data(contentsOf: u))
        // central directory entries: set compression method (offset 10) to 8
        var i = 0
        while i + 4 <= b.count {
            if b[i] == 0x50, b[i + 1] == 0x4B, b[i + 2] == 0x01, b[i + 3] == 0x02 { b[i + 10] = 8 }
            i += 1
        }
        expect(try write(b, "deflated2.pth"), .unsupportedFormat, mentions: ["compressed", "method 8"])
    }

    /// A safetensors file: length, `header` as given, then `data` bytes of data section.
    private func safetensors(_ header: String, data: Int) -> [UInt8] {
        let h = Array(header.utf8)
        return le64(h.count) + h + (0..<data).map { UInt8(truncatingIfNeeded: $0) }
    }

    /// data_offsets must tile the data section: overlapping, gapped or past-the-end ranges are
    /// refused naming the tensor; a well-formed file with the same tensors still loads.
    func testSafeTensorsOffsetsMustTileTheData() throws {
        let ok = safetensors(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"e":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}}"#, data: 16)
        let good = try Checkpoint.open(try write(ok, "ok.safetensors"))
        XCTAssertEqual(good.keys, ["a", "e", "b"])
        XCTAssertEqual(try good.tensors["b"]?.floats().count, 2)

        // b re-uses a's bytes 4..<12: overlap
        let overlap = safetensors(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: 12)
        expect(try write(overlap, "overlap.safetensors"), .malformedSafeTensors, mentions: ["invalid offset", "'b'", "overlaps tensor 'a'"])
        // two tensors on the very same bytes
        let same = safetensors(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: 8)
        expect(try write(same, "same.safetensors"), .malformedSafeTensors, mentions: ["'b'", "overlaps tensor 'a'"])
        // a hole of 4 bytes between a and b
        let hole = safetensors(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}"#, data: 20)
        expect(try write(hole, "hole.safetensors"), .malformedSafeTensors, mentions: ["'b'", "hole of 4 bytes", "after tensor 'a'"])
        // the first tensor does not start at 0
        let late = safetensors(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: 8)
        expect(try write(late, "late.safetensors"), .malformedSafeTensors, mentions: ["'a'", "starts at data byte 4"])
        // bytes after the last tensor
        let tail = safetensors(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: 12)
        expect(try write(tail, "tail.safetensors"), .malformedSafeTensors, mentions: ["'a'", "12 bytes", "8 bytes belong to no tensor"])
        // past the end of the buffer
        let past = safetensors(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: 8)
        expect(try write(past, "past.safetensors"), .truncated, mentions: ["'a'", "ends at data byte 16", "has 8 bytes"])
    }

    /// Shapes and offsets must be JSON integers: 64.5, 2.0, 1e1, true and negatives are refused.
    func testSafeTensorsNonIntegerShapeOrOffset() throws {
        for (i, v) in ["64.5", "2.0", "2e0", "true", "-2"].enumerated() {
            let h = #"{"w":{"dtype":"F32","shape":["# + v + #"],"data_offsets":[0,8]}}"#
            expect(try write(safetensors(h, data: 8), "shape\(i).safetensors"), .malformedSafeTensors,
                   mentions: ["tensor 'w'", "shape", "non-negative integers"])
        }
        let h = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0.0,8]}}"#
        expect(try write(safetensors(h, data: 8), "offs.safetensors"), .malformedSafeTensors,
               mentions: ["tensor 'w'", "data_offsets", "non-negative integers"])
        let big = #"{"w":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,8]}}"#
        expect(try write(safetensors(big, data: 8), "big.safetensors"), .malformedSafeTensors, mentions: ["tensor 'w'"])
        // the integer spelling of the same file loads
        let ok = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        XCTAssertEqual(try Checkpoint.load(try write(safetensors(ok, data: 8), "ok.safetensors"))["w"]?.shape, [2])
    }

    /// A safetensors file cut to 7, 8 or 20 bytes, or with a header length of 2^62, is called a
    /// truncated or corrupt safetensors file with both sizes (not "not a checkpoint").
    func testTruncatedSafeTensorsHeaderIsNamed() throws {
        let full = safetensors(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: 8)
        let n = full.count - 16
        for cut in [8, 20] {
            expect(try write(Array(full.prefix(cut)), "cut\(cut).safetensors"), .truncated,
                   mentions: ["truncated or corrupt safetensors file", "header length \(n) bytes", "file \(cut) bytes"])
        }
        // 20 bytes under another name: the '{' after the length tells
        expect(try write(Array(full.prefix(20)), "cut20.bin"), .truncated,
               mentions: ["safetensors", "header length \(n) bytes", "file 20 bytes"])
        expect(try write(Array(full.prefix(7)), "cut7.safetensors"), .truncated, mentions: ["7 bytes", "8-byte header length"])
        var huge = full
        huge.replaceSubrange(0..<8, with: le64(1 << 62))
        expect(try write(huge, "huge.safetensors"), .truncated,
               mentions: ["header length 4611686018427387904 bytes", "file \(full.count) bytes"])
        // 8 bytes under a name that says nothing: still "not a checkpoint"
        expect(try write(Array(full.prefix(8)), "cut8.bin"), .notACheckpoint)
    }

    /// Appends `name` → `_rebuild_tensor_v2(storage '0', 0, [2], [1])` + SETITEM to `p`.
    private func tensorItem(_ p: inout PickleWriter, _ name: String) {
        p.string(name)
        p.global("torch._utils", "_rebuild_tensor_v2")
        p.op(0x28); p.op(0x28)
        p.string("storage"); p.global("torch", "FloatStorage"); p.string("0"); p.string("cpu"); p.int(2)
        p.op(0x74); p.op(0x51)
        p.int(0); p.intTuple([2]); p.intTuple([1]); p.op(0x89)
        p.global("collections", "OrderedDict"); p.op(0x29); p.op(0x52)
        p.op(0x74); p.op(0x52); p.op(0x73)
    }

    /// Appends 'b' → 0.5, 'c' → None, 'd' → 5, 'e' → {} (each + SETITEM) to `p`.
    private func nonTensorItems(_ p: inout PickleWriter) {
        p.string("b"); p.op(0x47); p.out += withUnsafeBytes(of: (0.5 as Double).bitPattern.bigEndian) { Array($0) }; p.op(0x73)
        p.string("c"); p.op(0x4E); p.op(0x73)
        p.string("d"); p.int(5); p.op(0x73)
        p.string("e"); p.op(0x7D); p.op(0x73)
    }

    /// A Python float, None, int or dict under a state-dict key (.pth and .pdparams) is recorded as
    /// present but not a tensor, with what was found, so a loader can say so instead of "missing".
    func testNonTensorValuesAreRecorded() throws {
        let want = ["b": "float 0.5", "c": "None", "d": "int 5", "e": "dict of 0 entries"]
        // .pth: {'model': {'w': tensor, 'b': 0.5, 'c': None, 'd': 5, 'e': {}}}
        var p = PickleWriter()
        p.op(0x7D); p.string("model"); p.op(0x7D)
        tensorItem(&p, "w")
        nonTensorItems(&p)
        p.op(0x73); p.op(0x2E)
        let pth = try Checkpoint.open(try zip([("a/data.pkl", p.out), ("a/data/0", [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40])], "nt.pth"))
        XCTAssertEqual(pth.keys, ["w"])
        XCTAssertEqual(try pth.tensors["w"]?.floats(), [1, 2])
        XCTAssertEqual(pth.nonTensors, want)
        XCTAssertEqual(pth.ignored.sorted(), ["b", "c", "d", "e"])

        // .pdparams: {'w': numpy _frombuffer(b'...', dtype('f4'), (2,), 'C'), 'b': 0.5, ...}
        var q = PickleWriter()
        q.op(0x7D)
        q.string("w")
        q.global("numpy.core.numeric", "_frombuffer")
        q.op(0x28)
        q.op(0x43); q.op(8); q.out += [0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40]
        q.global("numpy", "dtype"); q.op(0x28); q.string("f4"); q.op(0x74); q.op(0x52)
        q.intTuple([2]); q.string("C")
        q.op(0x74); q.op(0x52); q.op(0x73)
        nonTensorItems(&q)
        q.op(0x2E)
        let pd = try Checkpoint.open(try write(q.out, "nt.pdparams"))
        XCTAssertEqual(pd.format, .pickle)
        XCTAssertEqual(try pd.tensors["w"]?.floats(), [3, 4])
        XCTAssertEqual(pd.nonTensors, want)
    }

    /// A corrupt local header (name or extra length set to 0xffff, or another name) is reported as a
    /// corrupt zip entry naming the file and the entry, not as a pickle error.
    func testCorruptLocalHeaderIsNamed() throws {
        let entries: [(String, [UInt8])] = [("a/data.pkl", statePickle(name: "w", numel: 1, shape: [1])),
                                            ("a/data/0", [0, 0, 0x80, 0x3F])]
        let good = [UInt8](try Data(contentsOf: try zip(entries, "good.pth")))
        XCTAssertEqual(try Checkpoint.load(try write(good, "good2.pth"))["w"]?.floats(), [1])
        // bytes 26-27 of the first entry's local header: name length
        var b = good; b[26] = 0xFF; b[27] = 0xFF
        expect(try write(b, "namelen.pth"), .malformedZip,
               mentions: ["corrupt zip entry 'a/data.pkl'", "local header at offset 0", "name length 65535, expected 10"])
        // bytes 28-29: extra field length
        b = good; b[28] = 0xFF; b[29] = 0xFF
        expect(try write(b, "extralen.pth"), .malformedZip,
               mentions: ["corrupt zip entry 'a/data.pkl'", "extra field length 65535", "next entry"])
        // same length, another name in the local header
        b = good; b[30] = UInt8(ascii: "b")
        expect(try write(b, "othername.pth"), .malformedZip, mentions: ["corrupt zip entry 'a/data.pkl'", "name 'b/data.pkl'"])
        // the last entry's data running into the central directory: extra length 8 on the storage entry
        b = good
        var h = 0
        for j in 1..<(b.count - 4) where b[j] == 0x50 && b[j + 1] == 0x4B && b[j + 2] == 0x03 && b[j + 3] == 0x04 { h = j; break }
        XCTAssertGreaterThan(h, 0)
        b[h + 28] = UInt8(truncatingIfNeeded: Int(b[h + 28]) + 8)
        expect(try write(b, "laststorage.pth"), .malformedZip, mentions: ["corrupt zip entry 'a/data/0'", "central directory"])
    }

    /// Two archive prefixes (two data.pkl) and two entries of one name are refused, naming them.
    func testAmbiguousZipsAreRefused() throws {
        let pk = statePickle(name: "w", numel: 1, shape: [1])
        let storage: [UInt8] = [0, 0, 0x80, 0x3F]
        XCTAssertEqual(try Checkpoint.load(try zip([("a/data.pkl", pk), ("a/data/0", storage)], "one.pth"))["w"]?.floats(), [1])
        expect(try zip([("a/data.pkl", pk), ("a/data/0", storage), ("other/data.pkl", [0x80, 0x02, 0x7D, 0x2E])], "two.pth"),
               .malformedZip, mentions: ["2 state-dict pickles", "'a/data.pkl'", "'other/data.pkl'"])
        expect(try zip([("a/data.pkl", pk), ("a/data/0", storage), ("a/data.pkl", [0x80, 0x02, 0x7D, 0x2E])], "dup.pth"),
               .malformedZip, mentions: ["two entries named 'a/data.pkl'"])
    }

    /// byteorder: "little" (with a newline) loads, "big" is unsupported, anything else is refused.
    func testByteOrderMustBeLittleOrBig() throws {
        let pk = statePickle(name: "w", numel: 1, shape: [1])
        let storage: [UInt8] = [0, 0, 0x80, 0x3F]
        func archive(_ order: String, _ name: String) throws -> URL {
            try zip([("a/data.pkl", pk), ("a/byteorder", Array(order.utf8)), ("a/data/0", storage)], name)
        }
        XCTAssertEqual(try Checkpoint.load(try archive("little\n", "little.pth"))["w"]?.floats(), [1])
        expect(try archive("big", "big.pth"), .unsupportedFormat, mentions: ["big-endian"])
        expect(try archive("middle", "middle.pth"), .malformedZip, mentions: ["'a/byteorder'", "'middle'", "expected 'little' or 'big'"])
        expect(try archive("", "empty.pth"), .malformedZip, mentions: ["'a/byteorder'", "''"])
    }
}
