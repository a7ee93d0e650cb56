import Foundation
import XCTest
@testable import RAMCheckpoint

final class RoundTripTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try Fixtures.tempDir() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Reading a safetensors file and writing it back keeps every tensor bit-identical, and
    /// writing is deterministic (same bytes twice).
    func testSafeTensorsRoundTripIsBitIdentical() throws {
        let src = try SafeTensors.read(try Fixtures.url("ram_swin_tiny_384.expected.safetensors"))
        XCTAssertEqual(src.count, 28)  // 7 images × (input, visual_encoder, image_embeds, logits)
        let a = dir.appendingPathComponent("a.safetensors"), b = dir.appendingPathComponent("b.safetensors")
        try SafeTensors.write(src, metadata: ["format": "pt"], to: a)
        let back = try SafeTensors.open(a)
        XCTAssertEqual(back.metadata, ["format": "pt"])
        XCTAssertEqual(Set(back.tensors.keys), Set(src.keys))
        for (k, t) in src {
            let r = try XCTUnwrap(back.tensors[k])
            XCTAssertEqual(r.shape, t.shape, k)
            XCTAssertEqual(r.dtype, t.dtype, k)
            XCTAssertEqual(try r.contiguousBytes(), try t.contiguousBytes(), k)
        }
        // the [Float] API writes the same file
        var floats: [String: (shape: [Int], floats: [Float])] = [:]
        for (k, t) in src { floats[k] = (t.shape, try t.floats()) }
        try SafeTensors.write(floats, metadata: ["format": "pt"], to: b)
        XCTAssertEqual(try Data(contentsOf: a), try Data(contentsOf: b))
        // no temporary files left behind
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["a.safetensors", "b.safetensors"])
    }

    func testSafeTensorsSpecialValuesAndDTypes() throws {
        let u = dir.appendingPathComponent("s.safetensors")
        let vals: [Float] = [0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1.5]
        try SafeTensors.write(["x": (shape: [2, 4], floats: vals), "scalar": (shape: [], floats: [7]),
                               "empty": (shape: [0, 3], floats: [])], to: u)
        let r = try SafeTensors.read(u)
        XCTAssertEqual(try r["x"]!.floats().map(\.bitPattern), vals.map(\.bitPattern))
        XCTAssertEqual(try r["scalar"]!.floats(), [7])
        XCTAssertEqual(r["scalar"]!.shape, [])
        XCTAssertEqual(try r["empty"]!.floats(), [])
        // header: 8-byte length, then JSON padded to a multiple of 8
        let d = try Data(contentsOf: u)
        let n = d.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        XCTAssertEqual(n % 8, 0)
        XCTAssertEqual(d.count, 8 + Int(n) + 8 * 4 + 4)
        XCTAssertThrowsError(try SafeTensors.write(["x": (shape: [3], floats: [1, 2])], to: u))
        XCTAssertThrowsError(try SafeTensors.write(["x": (shape: [1], floats: [1])], to: dir.appendingPathComponent("no/such/dir/x.safetensors"))) { e in
            XCTAssertEqual((e as? CheckpointError)?.kind, .writeFailed)
        }
    }

    /// f16 / bf16 / int conversions, and strided (transposed) reads.
    func testDTypeConversionsAndStrides() throws {
        // float16 1.0 = 0x3C00, -2.5 = 0xC100; bfloat16 1.0 = 0x3F80, -2.5 = 0xC020
        let f16: [UInt16] = [0x3C00, 0xC100], bf16: [UInt16] = [0x3F80, 0xC020]
        func td(_ dtype: DType, _ bytes: [UInt8], shape: [Int], strides: [Int]? = nil, offset: Int = 0) -> TensorData {
            let store = bytes.withUnsafeBytes { ByteStore.copying($0, origin: "mem") }
            return TensorData(dtype: dtype, shape: shape, strides: strides ?? TensorData.contiguousStrides(shape),
                              storageKey: "k", offset: offset, storage: ByteSlice(store: store, start: 0, count: bytes.count))
        }
        func bytes<T>(_ a: [T]) -> [UInt8] { a.withUnsafeBytes { Array($0) } }
        XCTAssertEqual(try td(.float16, bytes(f16), shape: [2]).floats(), [1, -2.5])
        XCTAssertEqual(try td(.bfloat16, bytes(bf16), shape: [2]).floats(), [1, -2.5])
        XCTAssertEqual(try td(.float64, bytes([0.1, -3.0] as [Double]), shape: [2]).floats(), [Float(0.1), -3])
        XCTAssertEqual(try td(.int64, bytes([-7, 1 << 40] as [Int64]), shape: [2]).floats(), [-7, Float(1 << 40)])
        XCTAssertEqual(try td(.int32, bytes([5, -6] as [Int32]), shape: [2]).floats(), [5, -6])
        XCTAssertEqual(try td(.uint8, [0, 255], shape: [2]).floats(), [0, 255])
        XCTAssertEqual(try td(.bool, [0, 3], shape: [2]).floats(), [0, 1])
        // a [2, 3] matrix stored transposed ([3, 2] contiguous) with an offset of 1
        let m: [Float] = [99, 1, 4, 2, 5, 3, 6]
        let t = td(.float32, bytes(m), shape: [2, 3], strides: [1, 2], offset: 1)
        XCTAssertFalse(t.isContiguous)
        XCTAssertEqual(try t.floats(), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try t.contiguousBytes(), Data(bytes([1, 2, 3, 4, 5, 6] as [Float])))
        // past the end of its storage
        XCTAssertThrowsError(try td(.float32, bytes(m), shape: [2, 4], strides: [1, 2], offset: 1).floats()) { e in
            XCTAssertEqual((e as? CheckpointError)?.kind, .storageTooShort)
        }
    }

    /// Our .pth writer produces what our reader (and torch's layout) expects: 64-byte aligned stored
    /// entries, state dict under 'model'.
    func testTorchWriterRoundTrip() throws {
        let u = dir.appendingPathComponent("w.pth")
        let a: [Float] = (0..<12).map { Float($0) * 0.5 - 1 }
        try TorchCheckpointWriter.write([
            .init(name: "layer.weight", shape: [3, 4], floats: a),
            .init(name: "scale", shape: [], floats: [2.5]),
            .init(name: "big", shape: [3_000_000]) { start, chunk in
                for i in 0..<chunk.count { chunk[i] = Float((start + i) % 1000) }
            },
        ], archiveName: "w", to: u)
        let c = try Checkpoint.open(u)
        XCTAssertEqual(c.format, .torchZip)
        XCTAssertEqual(c.keys, ["layer.weight", "scale", "big"])
        XCTAssertEqual(c.stateDictKey, "model")
        XCTAssertEqual(try c.tensors["layer.weight"]!.floats(), a)
        XCTAssertEqual(try c.tensors["scale"]!.floats(), [2.5])
        let big = try c.tensors["big"]!.floats()
        XCTAssertEqual(big.count, 3_000_000)
        XCTAssertEqual(big[2_999_999], 999)
        XCTAssertEqual(big[1_234_567], 567)
        for t in c.tensors.values { XCTAssertEqual(t.storage.start % 64, 0) }
        c.tensors["big"]!.evictPages()
        XCTAssertEqual(try c.tensors["big"]!.floats()[1001], 1)   // pages come back from the file
    }
}
