import Foundation

/// Element types a checkpoint may hold. Names follow torch (`float32`, `bfloat16`, ...);
/// `safeTensorsName` gives the safetensors spelling (`F32`, `BF16`, ...).
public enum DType: String, CaseIterable, Sendable {
    case float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    public var safeTensorsName: String {
        switch self {
        case .float32: return "F32"; case .float16: return "F16"; case .bfloat16: return "BF16"
        case .float64: return "F64"; case .int64: return "I64"; case .int32: return "I32"
        case .int16: return "I16"; case .int8: return "I8"; case .uint8: return "U8"; case .bool: return "BOOL"
        }
    }

    public init?(safeTensorsName: String) {
        guard let d = DType.allCases.first(where: { $0.safeTensorsName == safeTensorsName }) else { return nil }
        self = d
    }

    /// The torch storage class that holds this dtype (`FloatStorage`, ...), as `torch.save` names it.
    public var torchStorageName: String {
        switch self {
        case .float32: return "FloatStorage"; case .float16: return "HalfStorage"
        case .bfloat16: return "BFloat16Storage"; case .float64: return "DoubleStorage"
        case .int64: return "LongStorage"; case .int32: return "IntStorage"; case .int16: return "ShortStorage"
        case .int8: return "CharStorage"; case .uint8: return "ByteStorage"; case .bool: return "BoolStorage"
        }
    }

    public init?(torchStorageName: String) {
        guard let d = DType.allCases.first(where: { $0.torchStorageName == torchStorageName }) else { return nil }
        self = d
    }
}

/// One tensor of a checkpoint, not yet converted: its element type, shape and strides over a
/// storage that is usually memory-mapped from the checkpoint file (nothing is copied until
/// `floats()` is called).
///
/// - `shape`: sizes per axis, row-major meaning (`[]` is a scalar).
/// - `strides`: element (not byte) steps per axis; a contiguous tensor has row-major strides.
/// - `storageKey`: the storage's name: for `.pth` the zip entry key (`"0"`, `"1"`, ...) — two
///   tensors with the same key share memory (tied weights); for safetensors / pdparams the tensor name.
/// - `offset`: the first element's index inside the storage, in elements.
public struct TensorData: @unchecked Sendable {
    public var dtype: DType
    public var shape: [Int]
    public var strides: [Int]
    public var storageKey: String
    public var offset: Int
    /// The storage's bytes: `storage.count` bytes from `storage.pointer`, `storageCount` elements.
    public var storage: ByteSlice

    public init(dtype: DType, shape: [Int], strides: [Int], storageKey: String, offset: Int, storage: ByteSlice) {
        self.dtype = dtype; self.shape = shape; self.strides = strides
        self.storageKey = storageKey; self.offset = offset; self.storage = storage
    }

    /// Number of elements (product of `shape`; 1 for a scalar).
    public var count: Int { shape.reduce(1, *) }

    /// Elements the storage holds.
    public var storageCount: Int { storage.count / dtype.itemSize }

    /// Row-major strides for `shape` (wrapping arithmetic: meaningful only when
    /// `elementCount(shape)` is not nil).
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc = acc &* max(shape[i], 1) }
        return s
    }

    /// Largest element count accepted from a file (2⁴⁰): beyond it a header is corrupt or hostile.
    public static let maxElements = 1 << 40

    /// The product of `shape`, or nil when a size is negative or the product exceeds `maxElements`.
    public static func elementCount(_ shape: [Int]) -> Int? {
        if shape.contains(where: { $0 < 0 }) { return nil }
        if shape.contains(0) { return 0 }
        var acc = 1
        for d in shape {
            let (m, o) = acc.multipliedReportingOverflow(by: d)
            if o || m > maxElements { return nil }
            acc = m
        }
        return acc
    }

    /// True when the elements are in row-major order without gaps (axes of size 1 are ignored).
    public var isContiguous: Bool {
        var expected = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) where shape[i] != 1 {
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    /// Checks that every element the shape/strides/offset address lies inside the storage.
    /// - Throws: `CheckpointError.storageTooShort` naming `name` and both sizes.
    public func validate(name: String, file: String) throws {
        guard shape.count == strides.count else {
            throw CheckpointError(.malformedPickle, file: file, "tensor '\(name)': shape \(shape) and strides \(strides) differ in rank")
        }
        if TensorData.elementCount(shape) == nil || offset < 0 {
            throw CheckpointError(.malformedPickle, file: file, "tensor '\(name)': shape \(shape) / offset \(offset) is negative or has more than 2^40 elements")
        }
        if count == 0 { return }
        var last = offset
        for (n, s) in zip(shape, strides) {
            if s < 0 { throw CheckpointError(.malformedPickle, file: file, "tensor '\(name)': negative stride \(strides)") }
            let (m, o1) = (n - 1).multipliedReportingOverflow(by: s)
            let (l, o2) = last.addingReportingOverflow(m)
            if o1 || o2 { throw CheckpointError(.malformedPickle, file: file, "tensor '\(name)': shape \(shape) × strides \(strides) overflows") }
            last = l
        }
        if last >= storageCount {
            throw CheckpointError(.storageTooShort, file: file,
                "tensor '\(name)' (shape \(shape), strides \(strides), offset \(offset)) needs \(last + 1) \(dtype) elements but its storage '\(storageKey)' holds only \(storageCount) (\(storage.count) bytes)")
        }
    }

    /// The elements in row-major order, converted to Float (float16/bfloat16/float64/integers/bool).
    /// Honours strides and offset. Float64 and int64 values are rounded to the nearest Float.
    /// - Throws: `CheckpointError.storageTooShort` if the storage cannot hold the addressed elements.
    public func floats() throws -> [Float] {
        try validate(name: storageKey, file: storage.store.origin)
        let n = count
        return [Float](unsafeUninitializedCapacity: n) { buf, initialized in
            if n > 0, let p = buf.baseAddress { convert(into: p, count: n) }
            initialized = n
        }
    }

    /// Writes the elements, converted to Float in row-major order, into `destination`
    /// (`count` elements) — for callers that own the destination memory (no extra copy).
    public func floats(into destination: UnsafeMutableBufferPointer<Float>) throws {
        try validate(name: storageKey, file: storage.store.origin)
        if count == 0 { return }
        guard destination.count >= count, let d = destination.baseAddress else {
            throw CheckpointError(.invalidArgument, file: storage.store.origin, "destination holds \(destination.count) floats, tensor has \(count)")
        }
        convert(into: d, count: count)
    }

    /// Drops this tensor's storage pages from the resident set (memory-mapped files only), e.g.
    /// after converting it into a model tensor, so loading a multi-GB checkpoint does not keep
    /// its file pages resident. Other tensors on the same pages stay valid (pages are re-read).
    public func evictPages() {
        storage.store.evict(storage.start, storage.count)
    }

    /// The raw bytes of the elements in row-major order, same dtype (makes a contiguous copy).
    public func contiguousBytes() throws -> Data {
        try validate(name: storageKey, file: storage.store.origin)
        let isz = dtype.itemSize
        var out = Data(count: count * isz)
        out.withUnsafeMutableBytes { dst in
            guard let d = dst.baseAddress else { return }
            let src = storage.pointer
            if isContiguous {
                d.copyMemory(from: src + offset * isz, byteCount: count * isz)
            } else {
                var i = 0
                forEachElementIndex { e in
                    (d + i * isz).copyMemory(from: src + e * isz, byteCount: isz); i += 1
                }
            }
        }
        return out
    }

    @inline(__always)
    private func forEachElementIndex(_ body: (Int) -> Void) {
        let rank = shape.count
        if rank == 0 { body(offset); return }
        if count == 0 { return }
        var idx = [Int](repeating: 0, count: rank)
        var pos = offset
        let inner = shape[rank - 1], innerStride = strides[rank - 1]
        while true {
            var p = pos
            for _ in 0..<inner { body(p); p += innerStride }
            // advance the outer axes
            var ax = rank - 2
            while ax >= 0 {
                idx[ax] += 1
                pos += strides[ax]
                if idx[ax] < shape[ax] { break }
                pos -= strides[ax] * shape[ax]
                idx[ax] = 0
                ax -= 1
            }
            if ax < 0 { return }
        }
    }

    private func convert(into d: UnsafeMutablePointer<Float>, count n: Int) {
        let src = storage.pointer
        if n == 0 { return }
        if dtype == .float32 && isContiguous {
            UnsafeMutableRawPointer(d).copyMemory(from: src + offset * 4, byteCount: n * 4)
            return
        }
        if dtype == .float32 && shape.count == 2 {
            // Strided 2-D (Paddle's transposed Linear weights): copy in 32×32 blocks so that both
            // the reads and the writes stay within a few cache lines.
            let rows = shape[0], cols = shape[1], s0 = strides[0], s1 = strides[1]
            let b = src + offset * 4
            let blk = 32
            for i0 in stride(from: 0, to: rows, by: blk) {
                let i1 = min(i0 + blk, rows)
                for j0 in stride(from: 0, to: cols, by: blk) {
                    let j1 = min(j0 + blk, cols)
                    for i in i0..<i1 {
                        for j in j0..<j1 {
                            d[i * cols + j] = Float(bitPattern: UInt32(littleEndian: b.loadUnaligned(fromByteOffset: (i * s0 + j * s1) * 4, as: UInt32.self)))
                        }
                    }
                }
            }
            return
        }
        var i = 0
        switch dtype {
        case .float32:
            forEachElementIndex { e in d[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: e * 4, as: UInt32.self))); i += 1 }
        case .float16:
            forEachElementIndex { e in d[i] = Float(Float16(bitPattern: UInt16(littleEndian: src.loadUnaligned(fromByteOffset: e * 2, as: UInt16.self)))); i += 1 }
        case .bfloat16:
            forEachElementIndex { e in d[i] = Float(bitPattern: UInt32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: e * 2, as: UInt16.self))) << 16); i += 1 }
        case .float64:
            forEachElementIndex { e in d[i] = Float(Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: e * 8, as: UInt64.self)))); i += 1 }
        case .int64:
            forEachElementIndex { e in d[i] = Float(Int64(littleEndian: src.loadUnaligned(fromByteOffset: e * 8, as: Int64.self))); i += 1 }
        case .int32:
            forEachElementIndex { e in d[i] = Float(Int32(littleEndian: src.loadUnaligned(fromByteOffset: e * 4, as: Int32.self))); i += 1 }
        case .int16:
            forEachElementIndex { e in d[i] = Float(Int16(littleEndian: src.loadUnaligned(fromByteOffset: e * 2, as: Int16.self))); i += 1 }
        case .int8:
            forEachElementIndex { e in d[i] = Float(src.load(fromByteOffset: e, as: Int8.self)); i += 1 }
        case .uint8:
            forEachElementIndex { e in d[i] = Float(src.load(fromByteOffset: e, as: UInt8.self)); i += 1 }
        case .bool:
            forEachElementIndex { e in d[i] = src.load(fromByteOffset: e, as: UInt8.self) != 0 ? 1 : 0; i += 1 }
        }
    }

    /// The elements as Int64 (integer dtypes exactly; floats truncated toward zero) — for index buffers
    /// such as `relative_position_index`.
    public func int64s() throws -> [Int64] {
        try validate(name: storageKey, file: storage.store.origin)
        let src = storage.pointer
        var out = [Int64](); out.reserveCapacity(count)
        switch dtype {
        case .int64: forEachElementIndex { e in out.append(Int64(littleEndian: src.loadUnaligned(fromByteOffset: e * 8, as: Int64.self))) }
        case .int32: forEachElementIndex { e in out.append(Int64(Int32(littleEndian: src.loadUnaligned(fromByteOffset: e * 4, as: Int32.self)))) }
        default:
            for f in try floats() { out.append(f.isFinite ? Int64(f) : 0) }
        }
        return out
    }
}
