import Foundation
#if canImport(Glibc)
import Glibc
let posixWrite = Glibc.write
func posixCreate(_ path: String) -> Int32 { Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
#elseif canImport(Darwin)
import Darwin
let posixWrite = Darwin.write
func posixCreate(_ path: String) -> Int32 { Darwin.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
#endif

/// Read-only bytes that tensors point into: either a whole file mapped with `mmap` (so opening a
/// multi-GB checkpoint copies nothing; pages are read on first touch) or an owned heap buffer.
/// Kept alive by every `TensorData` that refers to it; unmapped / freed on deinit.
public final class ByteStore: @unchecked Sendable {
    /// First byte. Valid for `count` bytes while this object is alive.
    public let base: UnsafeRawPointer
    public let count: Int
    /// The file it maps, or a description of where the bytes came from.
    public let origin: String
    private let mapped: Bool

    private init(base: UnsafeRawPointer, count: Int, origin: String, mapped: Bool) {
        self.base = base; self.count = count; self.origin = origin; self.mapped = mapped
    }

    /// Maps `url` read-only.
    /// - Throws: `CheckpointError` `.fileNotFound` (no such file), `.notAFile` (a directory or
    ///   device), `.unreadable` (permission, I/O), `.truncated` (an empty file).
    public static func map(_ url: URL) throws -> ByteStore {
        let path = url.path
        var st = stat()
        if stat(path, &st) != 0 {
            let e = errno
            if e == ENOENT || e == ENOTDIR {
                throw CheckpointError(.fileNotFound, file: path, "no such file")
            }
            throw CheckpointError(.unreadable, file: path, "cannot stat: \(String(cString: strerror(e)))")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw CheckpointError(.notAFile, file: path, "is a directory, expected a checkpoint file (.pth, .pdparams or .safetensors)")
        }
        if (st.st_mode & S_IFMT) != S_IFREG {
            let kind: String
            switch st.st_mode & S_IFMT {
            case S_IFIFO: kind = "a FIFO (named pipe)"
            case S_IFCHR: kind = "a character device"
            case S_IFBLK: kind = "a block device"
            case S_IFSOCK: kind = "a socket"
            default: kind = "not a file"
            }
            throw CheckpointError(.notAFile, file: path, "is \(kind), not a regular file; expected a checkpoint file (.pth, .pdparams or .safetensors)")
        }
        let fd = open(path, O_RDONLY)
        if fd < 0 {
            throw CheckpointError(.unreadable, file: path, "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let size = Int(st.st_size)
        if size == 0 {
            throw CheckpointError(.truncated, file: path, "the file is empty")
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw CheckpointError(.unreadable, file: path, "cannot mmap \(size) bytes: \(String(cString: strerror(errno)))")
        }
        return ByteStore(base: UnsafeRawPointer(p), count: size, origin: path, mapped: true)
    }

    /// Copies `bytes` into an owned buffer.
    public static func copying(_ bytes: UnsafeRawBufferPointer, origin: String) -> ByteStore {
        let n = max(bytes.count, 1)
        let p = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 64)
        if bytes.count > 0, let src = bytes.baseAddress { p.copyMemory(from: src, byteCount: bytes.count) }
        return ByteStore(base: UnsafeRawPointer(p), count: bytes.count, origin: origin, mapped: false)
    }

    public static func copying(_ data: Data, origin: String) -> ByteStore {
        data.withUnsafeBytes { copying($0, origin: origin) }
    }

    deinit {
        if mapped {
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    /// Tells the kernel the mapped pages covering `[start, start + length)` are no longer needed
    /// (madvise MADV_DONTNEED): they leave the resident set and are read again from the file if
    /// touched. A no-op for heap-backed stores.
    public func evict(_ start: Int, _ length: Int) {
        guard mapped, length > 0, contains(start, length) else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let lo = (start / page) * page
        let hi = min(((start + length + page - 1) / page) * page, count)
        guard hi > lo else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + lo), hi - lo, MADV_DONTNEED)
    }

    /// Bytes `[start, start + length)`; the caller checks bounds (see `contains`).
    @inline(__always)
    func bytes(_ start: Int, _ length: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + start, count: length)
    }

    @inline(__always)
    func contains(_ start: Int, _ length: Int) -> Bool {
        start >= 0 && length >= 0 && start <= count && length <= count - start
    }

    @inline(__always)
    func load<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

/// A byte range inside a `ByteStore` (a zip entry, a pickle `bytes` object, a safetensors payload).
public struct ByteSlice {
    public let store: ByteStore
    public let start: Int
    public let count: Int
    public var pointer: UnsafeRawPointer { store.base + start }
}
