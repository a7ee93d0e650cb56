import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// safetensors read and write (https://github.com/huggingface/safetensors, "Format"): an 8-byte
/// little-endian header length N, N bytes of JSON `{name: {"dtype", "shape", "data_offsets": [begin, end]},
/// "__metadata__": {str: str}}`, then the raw little-endian tensor bytes (offsets relative to the
/// data section). Reading maps the file; tensors point into it.
public enum SafeTensors {
    /// Reads every tensor of a safetensors file (memory-mapped, no copy).
    /// - Throws: `CheckpointError`: `.fileNotFound`, `.notAFile`, `.truncated` (the header length or a
    ///   tensor runs past the end of the file), `.malformedSafeTensors` (header not a JSON object, a shape
    ///   or offset that is not a non-negative integer, tensors whose byte ranges overlap, leave holes or
    ///   leave bytes over), `.storageTooShort` (`[begin, end)` not the dtype size × element count),
    ///   `.unsupportedDType`.
    public static func read(_ url: URL) throws -> [String: TensorData] {
        try read(try ByteStore.map(url)).tensors
    }

    /// Like `read`, with key order and `__metadata__`.
    /// - Throws: as `read`.
    public static func open(_ url: URL) throws -> CheckpointContents {
        try read(try ByteStore.map(url))
    }

    static func looksLikeSafeTensors(_ store: ByteStore) -> Bool {
        guard store.count >= 10 else { return false }
        let n = store.load(UInt64.self, at: 0)
        return n >= 2 && n <= UInt64(store.count - 8) && store.base.load(fromByteOffset: 8, as: UInt8.self) == UInt8(ascii: "{")
    }

    /// The message for a file whose 8-byte header length does not fit: "truncated or corrupt
    /// safetensors file (header length N bytes, file M bytes)".
    static func truncatedHeaderMessage(headerLength n: UInt64, fileSize: Int) -> String {
        "truncated or corrupt safetensors file (header length \(n) bytes, file \(fileSize) bytes): the 8-byte header length plus the header do not fit in the file (an incomplete download or copy?)"
    }

    /// A JSON number that is an integer in the text (`64`, not `64.5`, `64.0`, `1e3` or `true`)
    /// and fits in `Int`; nil otherwise.
    static func jsonInteger(_ v: Any) -> Int? {
        guard let n = v as? NSNumber else { return nil }
        switch String(cString: n.objCType) {
        case "s", "i", "l", "q", "S", "I", "L": return n.intValue
        case "Q": return n.uint64Value <= UInt64(Int.max) ? Int(n.uint64Value) : nil
        default: return nil   // "d" / "f" (a fraction or exponent in the text), "c" (true / false)
        }
    }

    /// Parses the header and checks it the way the format requires (the reference implementation's
    /// `validate`): integer, non-negative shapes and offsets; each tensor's `[begin, end)` exactly its
    /// dtype size × element count; the ranges, sorted, tile the data section with no overlap, hole or
    /// bytes past the last tensor.
    static func read(_ store: ByteStore) throws -> CheckpointContents {
        let file = store.origin
        func bad(_ m: String) -> CheckpointError { CheckpointError(.malformedSafeTensors, file: file, m) }
        guard store.count >= 8 else {
            throw CheckpointError(.truncated, file: file, "truncated safetensors file: \(store.count) bytes, shorter than the 8-byte header length")
        }
        let n64 = store.load(UInt64.self, at: 0)
        guard n64 <= UInt64(store.count - 8) else {
            throw CheckpointError(.truncated, file: file, truncatedHeaderMessage(headerLength: n64, fileSize: store.count))
        }
        let n = Int(n64)
        let headerData = Data(bytes: store.base + 8, count: n)
        guard let obj = try? JSONSerialization.jsonObject(with: headerData), let header = obj as? [String: Any] else {
            throw bad("the safetensors header is not a JSON object")
        }
        let dataStart = 8 + n
        let dataCount = store.count - dataStart
        var tensors: [String: TensorData] = [:]
        var ranges: [(begin: Int, end: Int, name: String)] = []
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                if let m = value as? [String: Any] { for (k, v) in m { metadata[k] = "\(v)" } }
                continue
            }
            guard let d = value as? [String: Any], let dts = d["dtype"] as? String,
                  let shapeAny = d["shape"] as? [Any], let offsAny = d["data_offsets"] as? [Any], offsAny.count == 2 else {
                throw bad("tensor '\(name)': header entry needs dtype, shape and data_offsets [begin, end]")
            }
            guard let dtype = DType(safeTensorsName: dts) else {
                throw CheckpointError(.unsupportedDType, file: file, "tensor '\(name)' has dtype '\(dts)', expected one of \(DType.allCases.map(\.safeTensorsName).joined(separator: " "))")
            }
            let shape = try shapeAny.map { v -> Int in
                guard let i = jsonInteger(v), i >= 0 else {
                    throw bad("tensor '\(name)': shape \(shapeAny) holds \(v), expected a list of non-negative integers")
                }
                return i
            }
            let offs = try offsAny.map { v -> Int in
                guard let i = jsonInteger(v), i >= 0 else {
                    throw bad("tensor '\(name)': data_offsets \(offsAny) holds \(v), expected two non-negative integers [begin, end]")
                }
                return i
            }
            let (b, e) = (offs[0], offs[1])
            guard let numel = TensorData.elementCount(shape) else {
                throw bad("tensor '\(name)': shape \(shape) has more than 2^40 elements")
            }
            let need = numel * dtype.itemSize
            guard e >= b, e - b == need else {
                throw CheckpointError(.storageTooShort, file: file, "tensor '\(name)' (shape \(shape), \(dts)) needs \(need) bytes but data_offsets [\(b), \(e)] give \(e - b)")
            }
            guard e <= dataCount else {
                throw CheckpointError(.truncated, file: file, "tensor '\(name)' ends at data byte \(e) but the data section has \(dataCount) bytes: truncated")
            }
            let slice = ByteSlice(store: store, start: dataStart + b, count: e - b)
            tensors[name] = TensorData(dtype: dtype, shape: shape, strides: TensorData.contiguousStrides(shape),
                                       storageKey: name, offset: 0, storage: slice)
            ranges.append((b, e, name))
        }
        // Sorted by (begin, end, name): empty tensors come before a tensor starting at the same byte.
        ranges.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0
        var previous: String? = nil
        for r in ranges {
            if r.begin < covered {
                throw bad("invalid offset: tensor '\(r.name)' (data_offsets [\(r.begin), \(r.end)]) overlaps tensor '\(previous ?? "?")', which ends at data byte \(covered); each tensor needs its own bytes")
            }
            if r.begin > covered {
                let after = previous.map { "after tensor '\($0)' " } ?? "at the start of the data section "
                throw bad("invalid offset: tensor '\(r.name)' starts at data byte \(r.begin), leaving a hole of \(r.begin - covered) bytes \(after)(the tensors must be packed back to back from byte 0)")
            }
            covered = r.end
            previous = r.name
        }
        if covered != dataCount {
            throw bad("the data section has \(dataCount) bytes but the tensors end at data byte \(covered)\(previous.map { " (the last is '\($0)')" } ?? ""): \(dataCount - covered) bytes belong to no tensor (corrupt header or data appended)")
        }
        let keys = ranges.map(\.name)
        return CheckpointContents(format: .safetensors, file: file, tensors: tensors, keys: keys, stateDictKey: nil,
                                  ignored: [], metadata: metadata)
    }

    /// Writes float32 tensors, atomically (a temporary file in the same folder, then rename).
    /// Keys are written in sorted order; `floats.count` must equal the product of `shape`.
    /// - Throws: `.invalidArgument` (count ≠ shape), `.writeFailed` (naming the path and the OS error).
    public static func write(_ tensors: [String: (shape: [Int], floats: [Float])], metadata: [String: String] = [:], to url: URL) throws {
        for (k, t) in tensors where TensorData.elementCount(t.shape) != t.floats.count {
            throw CheckpointError(.invalidArgument, file: url.path, "tensor '\(k)': shape \(t.shape) does not hold the \(t.floats.count) floats given")
        }
        let items = tensors.keys.sorted().map { k -> Item in
            let t = tensors[k]!
            return Item(name: k, dtype: .float32, shape: t.shape, byteCount: t.floats.count * 4) { sink in
                try t.floats.withUnsafeBytes { try sink($0) }
            }
        }
        try write(items, metadata: metadata, to: url)
    }

    /// Writes tensors keeping their dtypes and bits (strided tensors are written contiguously), atomically.
    public static func write(_ tensors: [String: TensorData], metadata: [String: String] = [:], to url: URL) throws {
        let items = tensors.keys.sorted().map { k -> Item in
            let t = tensors[k]!
            return Item(name: k, dtype: t.dtype, shape: t.shape, byteCount: t.count * t.dtype.itemSize) { sink in
                if t.isContiguous {
                    try t.validate(name: k, file: url.path)
                    try sink(UnsafeRawBufferPointer(start: t.storage.pointer + t.offset * t.dtype.itemSize, count: t.count * t.dtype.itemSize))
                } else {
                    let d = try t.contiguousBytes()
                    try d.withUnsafeBytes { try sink($0) }
                }
            }
        }
        try write(items, metadata: metadata, to: url)
    }

    struct Item {
        let name: String
        let dtype: DType
        let shape: [Int]
        let byteCount: Int
        let emit: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
    }

    /// `s` as a JSON string literal (quotes, backslashes and control characters escaped; other
    /// characters, non-ASCII included, kept as UTF-8), as RFC 8259 §7 allows. Used for the
    /// safetensors header and by other JSON writers of the package.
    public static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    static func write(_ items: [Item], metadata: [String: String], to url: URL) throws {
        var parts: [String] = []
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",")
            parts.append("\"__metadata__\":{\(m)}")
        }
        var offset = 0
        for it in items {
            parts.append("\(jsonString(it.name)):{\"dtype\":\"\(it.dtype.safeTensorsName)\",\"shape\":[\(it.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + it.byteCount)]}")
            offset += it.byteCount
        }
        var header = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        try AtomicFile.write(to: url) { sink in
            var n = UInt64(header.count).littleEndian
            try withUnsafeBytes(of: &n) { try sink($0) }
            try header.withUnsafeBytes { try sink($0) }
            for it in items { try it.emit(sink) }
        }
    }
}

/// Atomic file writing: a temporary file beside the destination, fsync, then rename(2).
public enum AtomicFile {
    /// Calls `body` with a sink that appends bytes; on success renames the temporary file onto `url`,
    /// on any error removes it and rethrows. Throws `.writeFailed` naming the path and the OS error.
    public static func write(to url: URL, _ body: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        try writeFD(to: url) { fd, path in
            try body { try writeAll(fd, $0, path: path) }
        }
    }

    /// Writes all of `buf` to `fd` (retrying short writes and EINTR).
    static func writeAll(_ fd: Int32, _ buf: UnsafeRawBufferPointer, path: String) throws {
        var p = buf.baseAddress, left = buf.count
        while left > 0, let q = p {
            let w = posixWrite(fd, q, min(left, 1 << 30))
            if w < 0 {
                if errno == EINTR { continue }
                throw CheckpointError(.writeFailed, file: path, "write failed: \(String(cString: strerror(errno)))")
            }
            left -= w; p = q + w
        }
    }

    /// Like `write(to:_:)` but hands the body the raw descriptor (for writers that patch earlier bytes).
    static func writeFD(to url: URL, _ body: (Int32, String) throws -> Void) throws {
        let path = url.path
        let dir = url.deletingLastPathComponent().path
        let tmp = "\(dir)/.\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = posixCreate(tmp)
        if fd < 0 {
            throw CheckpointError(.writeFailed, file: path, "cannot create temporary file \(tmp): \(String(cString: strerror(errno)))")
        }
        var closed = false
        do {
            try body(fd, path)
            if fsync(fd) != 0 { throw CheckpointError(.writeFailed, file: path, "fsync failed: \(String(cString: strerror(errno)))") }
            closed = true
            if close(fd) != 0 { throw CheckpointError(.writeFailed, file: path, "close failed: \(String(cString: strerror(errno)))") }
            if rename(tmp, path) != 0 {
                throw CheckpointError(.writeFailed, file: path, "cannot rename the temporary file into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            if !closed { close(fd) }
            unlink(tmp)
            throw error
        }
    }
}
