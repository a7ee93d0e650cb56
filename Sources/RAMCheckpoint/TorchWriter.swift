import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zip entries carry.
struct CRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
    private(set) var value: UInt32 = 0xFFFF_FFFF
    mutating func update(_ buf: UnsafeRawBufferPointer) {
        var c = value
        CRC32.table.withUnsafeBufferPointer { t in
            for b in buf { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        value = c
    }
    var final: UInt32 { value ^ 0xFFFF_FFFF }
}

/// Writes a zip archive of stored (uncompressed) entries to a file descriptor, as torch.save does:
/// each entry's data starts on a 64-byte boundary (padding in the local header's extra field,
/// id "FB"), zip64 records where sizes or offsets need them.
struct ZipWriter {
    private let fd: Int32
    private let path: String
    private(set) var offset = 0
    private var central: [(name: String, crc: UInt32, size: Int, local: Int)] = []
    /// Writes zip64 records even where 32-bit fields would do (to test the zip64 path on small files).
    var forceZip64 = false

    init(fd: Int32, path: String) { self.fd = fd; self.path = path }

    private mutating func emit(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try AtomicFile.writeAll(fd, $0, path: path) }
        offset += bytes.count
    }

    /// Adds an entry of `size` bytes; `body` is called with a sink and must deliver exactly `size` bytes.
    mutating func addEntry(_ name: String, size: Int, _ body: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let nameBytes = Array(name.utf8)
        let big = forceZip64 || size >= 0xFFFF_FFFF || offset >= 0xFFFF_FFFF
        var extra: [UInt8] = []
        if big {
            extra += le16(0x0001) + le16(16) + le64(size) + le64(size)
        }
        // pad so that data starts at a multiple of 64
        let headerEnd = offset + 30 + nameBytes.count + extra.count
        if headerEnd % 64 != 0 {
            let pad = (64 - (headerEnd + 4) % 64) % 64
            extra += le16(0x4246) + le16(pad) + [UInt8](repeating: UInt8(ascii: "Z"), count: pad)
        }
        let local = offset
        var h: [UInt8] = le32(0x0403_4b50) + le16(big ? 45 : 20) + le16(0) + le16(0) + le16(0) + le16(0x21)
        h += le32(0)  // crc, patched below
        h += le32(big ? 0xFFFF_FFFF : size) + le32(big ? 0xFFFF_FFFF : size)
        h += le16(nameBytes.count) + le16(extra.count)
        try emit(h + nameBytes + extra)
        var crc = CRC32()
        var written = 0
        let fdc = fd, pathc = path
        try body { buf in
            crc.update(buf)
            written += buf.count
            try AtomicFile.writeAll(fdc, buf, path: pathc)
        }
        guard written == size else {
            throw CheckpointError(.writeFailed, file: path, "zip entry '\(name)': \(written) bytes written, \(size) declared")
        }
        offset += size
        var c = crc.final.littleEndian
        if pwrite(fd, &c, 4, off_t(local + 14)) != 4 {
            throw CheckpointError(.writeFailed, file: path, "cannot patch the CRC of '\(name)': \(String(cString: strerror(errno)))")
        }
        central.append((name, crc.final, size, local))
    }

    mutating func addEntry(_ name: String, bytes: [UInt8]) throws {
        try addEntry(name, size: bytes.count) { sink in try bytes.withUnsafeBytes { try sink($0) } }
    }

    /// Writes the central directory and end records.
    mutating func finish() throws {
        let cdStart = offset
        for e in central {
            let nameBytes = Array(e.name.utf8)
            let big = forceZip64 || e.size >= 0xFFFF_FFFF || e.local >= 0xFFFF_FFFF
            var extra: [UInt8] = []
            if big { extra = le16(0x0001) + le16(24) + le64(e.size) + le64(e.size) + le64(e.local) }
            var h: [UInt8] = le32(0x0201_4b50) + le16(big ? 45 : 20) + le16(big ? 45 : 20) + le16(0) + le16(0)
            h += le16(0) + le16(0x21) + le32(Int(e.crc))
            h += le32(big ? 0xFFFF_FFFF : e.size) + le32(big ? 0xFFFF_FFFF : e.size)
            h += le16(nameBytes.count) + le16(extra.count) + le16(0) + le16(0) + le16(0) + le32(0)
            h += le32(big ? 0xFFFF_FFFF : e.local)
            try emit(h + nameBytes + extra)
        }
        let cdSize = offset - cdStart
        let needs64 = forceZip64 || central.count >= 0xFFFF || cdStart >= 0xFFFF_FFFF || cdSize >= 0xFFFF_FFFF
        if needs64 {
            let rec = offset
            var z: [UInt8] = le32(0x0606_4b50) + le64(44) + le16(45) + le16(45) + le32(0) + le32(0)
            z += le64(central.count) + le64(central.count) + le64(cdSize) + le64(cdStart)
            z += le32(0x0706_4b50) + le32(0) + le64(rec) + le32(1)
            try emit(z)
        }
        var e: [UInt8] = le32(0x0605_4b50) + le16(0) + le16(0)
        e += le16(needs64 ? 0xFFFF : central.count) + le16(needs64 ? 0xFFFF : central.count)
        e += le32(needs64 ? 0xFFFF_FFFF : cdSize) + le32(needs64 ? 0xFFFF_FFFF : cdStart) + le16(0)
        try emit(e)
    }
}

@inline(__always) func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
@inline(__always) func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
@inline(__always) func le64(_ v: Int) -> [UInt8] { (0..<8).map { UInt8((UInt64(v) >> (8 * UInt64($0))) & 0xFF) } }

/// Minimal pickle writer (protocol 2) for what torch.save puts in data.pkl.
struct PickleWriter {
    var out: [UInt8] = [0x80, 0x02]
    mutating func string(_ s: String) { let b = Array(s.utf8); out.append(0x58); out += le32(b.count); out += b }
    mutating func global(_ module: String, _ name: String) { out.append(0x63); out += Array("\(module)\n\(name)\n".utf8) }
    mutating func int(_ v: Int) {
        if v >= 0 && v < 256 { out += [0x4B, UInt8(v)] }
        else if v >= Int(Int32.min) && v <= Int(Int32.max) { out.append(0x4A); out += le32(v) }
        else { out += [0x8A, 8]; out += le64(v) }
    }
    mutating func intTuple(_ v: [Int]) { out.append(0x28); for x in v { int(x) }; out.append(0x74) }
    mutating func op(_ b: UInt8) { out.append(b) }
}

/// Writes PyTorch checkpoints in `torch.save`'s zip layout.
public enum TorchCheckpointWriter {
    /// A tensor to write: its name, shape, and a filler that writes its float32 elements
    /// (row-major) in chunks: `fill(startElement, chunk)`.
    public struct Entry {
        public var name: String
        public var shape: [Int]
        public var fill: (Int, UnsafeMutableBufferPointer<Float>) -> Void
        public init(name: String, shape: [Int], fill: @escaping (Int, UnsafeMutableBufferPointer<Float>) -> Void) {
            self.name = name; self.shape = shape; self.fill = fill
        }
        public init(name: String, shape: [Int], floats: [Float]) {
            self.name = name; self.shape = shape
            self.fill = { start, chunk in
                for i in 0..<chunk.count { chunk[i] = floats[start + i] }
            }
        }
    }

    /// Writes `{'model': OrderedDict(name → float32 tensor)}` (what the official RAM checkpoints
    /// hold) as a zip: `<archiveName>/data.pkl`, `<archiveName>/data/<i>` (64-byte aligned,
    /// stored), `byteorder`, `version`, atomically (temporary file + rename). Data is streamed in
    /// 4 MiB chunks, so memory stays small whatever the checkpoint's size.
    /// - Throws: `.writeFailed` naming the path and OS error; `.invalidArgument` for negative sizes.
    public static func write(_ entries: [Entry], archiveName: String = "archive", to url: URL) throws {
        for e in entries where TensorData.elementCount(e.shape) == nil {
            throw CheckpointError(.invalidArgument, file: url.path, "tensor '\(e.name)': shape \(e.shape) is negative or has more than 2^40 elements")
        }
        var p = PickleWriter()
        p.op(0x7D)                        // EMPTY_DICT
        p.string("model")
        p.global("collections", "OrderedDict"); p.op(0x29); p.op(0x52)   // OrderedDict()
        p.op(0x28)                        // MARK
        for (i, e) in entries.enumerated() {
            let numel = e.shape.reduce(1, *)
            p.string(e.name)
            p.global("torch._utils", "_rebuild_tensor_v2")
            p.op(0x28)                    // MARK (args)
            p.op(0x28)                    // MARK (persistent id)
            p.string("storage"); p.global("torch", "FloatStorage"); p.string(String(i)); p.string("cpu"); p.int(numel)
            p.op(0x74); p.op(0x51)        // TUPLE, BINPERSID
            p.int(0)
            p.intTuple(e.shape)
            p.intTuple(TensorData.contiguousStrides(e.shape))
            p.op(0x89)                    // False
            p.global("collections", "OrderedDict"); p.op(0x29); p.op(0x52)
            p.op(0x74); p.op(0x52)        // TUPLE, REDUCE
        }
        p.op(0x75)                        // SETITEMS
        p.op(0x73)                        // SETITEM
        p.op(0x2E)                        // STOP
        let pickle = p.out
        try AtomicFile.writeFD(to: url) { fd, path in
            var zip = ZipWriter(fd: fd, path: path)
            let a = archiveName
            try zip.addEntry("\(a)/data.pkl", bytes: pickle)
            try zip.addEntry("\(a)/.format_version", bytes: Array("1".utf8))
            try zip.addEntry("\(a)/.storage_alignment", bytes: Array("64".utf8))
            try zip.addEntry("\(a)/byteorder", bytes: Array("little".utf8))
            let chunk = 1 << 20
            let buf = UnsafeMutableBufferPointer<Float>.allocate(capacity: chunk)
            defer { buf.deallocate() }
            for (i, e) in entries.enumerated() {
                let numel = e.shape.reduce(1, *)
                try zip.addEntry("\(a)/data/\(i)", size: numel * 4) { sink in
                    var start = 0
                    while start < numel {
                        let n = min(chunk, numel - start)
                        let part = UnsafeMutableBufferPointer(rebasing: buf[0..<n])
                        e.fill(start, part)
                        try sink(UnsafeRawBufferPointer(part))
                        start += n
                    }
                }
            }
            try zip.addEntry("\(a)/version", bytes: Array("3\n".utf8))
            try zip.addEntry("\(a)/.data/serialization_id", bytes: Array(String(repeating: "0", count: 40).utf8))
            try zip.finish()
        }
    }
}
