import Glibc

/// Reference-counted, 64-byte aligned float32 memory shared by a tensor and its views.
///
/// Memory comes from (and returns to) `BufferPool.shared`, so that a forward pass that
/// repeatedly produces activations of the same sizes reuses the same buffers instead of
/// going to `malloc` for every op.
public final class TensorStorage: @unchecked Sendable {
    /// First element.
    public let pointer: UnsafeMutablePointer<Float>
    /// Number of floats.
    public let count: Int

    /// Uninitialised storage of `count` floats (taken from the pool when possible).
    public init(count: Int) {
        self.count = count
        self.pointer = BufferPool.shared.take(count)
    }

    /// Storage filled with zeros.
    public convenience init(zeros count: Int) {
        self.init(count: count)
        if count > 0 { memset(pointer, 0, count * MemoryLayout<Float>.stride) }
    }

    /// Storage holding a copy of `scalars`.
    public convenience init(copying scalars: [Float]) {
        self.init(count: scalars.count)
        let p = pointer
        scalars.withUnsafeBufferPointer { src in
            if let b = src.baseAddress { p.update(from: b, count: src.count) }
        }
    }

    deinit { BufferPool.shared.give(pointer, count) }
}

/// A cache of freed tensor buffers, keyed by exact size (the buffer arena used by inference).
///
/// Activations of a transformer repeat a handful of sizes layer after layer, so an exact-size
/// free list turns almost every allocation after the first layer into a pointer pop.
/// Thread-safe. Cached memory is bounded by `maxCachedBytes` (default 2 GiB); `trim()` frees it.
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()

    /// Upper bound on the bytes kept in the free lists; buffers freed beyond it go back to the OS.
    public var maxCachedBytes: Int = 2 << 30
    /// Buffers smaller than this are not cached (malloc is fast enough for them).
    public var minCachedCount: Int = 1024

    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var cachedBytes = 0
    private let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let l = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(l, nil)
        return l
    }()
    /// Statistics: allocations served from the cache / from the OS.
    public private(set) var hits = 0, misses = 0

    init() {}

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let n = max(count, 1)
        if n >= minCachedCount {
            pthread_mutex_lock(lock)
            if var list = free[n], let p = list.popLast() {
                free[n] = list
                cachedBytes -= n * 4
                hits += 1
                pthread_mutex_unlock(lock)
                return p
            }
            misses += 1
            pthread_mutex_unlock(lock)
        }
        var raw: UnsafeMutableRawPointer? = nil
        let rc = posix_memalign(&raw, 64, n * MemoryLayout<Float>.stride)
        guard rc == 0, let r = raw else {
            fatalError("RAMTensor: out of memory allocating \(n) floats (\(n * 4) bytes)")
        }
        return r.bindMemory(to: Float.self, capacity: n)
    }

    func give(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        let n = max(count, 1)
        if n >= minCachedCount {
            pthread_mutex_lock(lock)
            if cachedBytes + n * 4 <= maxCachedBytes {
                free[n, default: []].append(p)
                cachedBytes += n * 4
                pthread_mutex_unlock(lock)
                return
            }
            pthread_mutex_unlock(lock)
        }
        Glibc.free(p)
    }

    /// Returns every cached buffer to the OS.
    public func trim() {
        pthread_mutex_lock(lock)
        for (_, list) in free { for p in list { Glibc.free(p) } }
        free = [:]
        cachedBytes = 0
        pthread_mutex_unlock(lock)
    }

    /// Bytes currently held in the free lists.
    public var cachedByteCount: Int {
        pthread_mutex_lock(lock); defer { pthread_mutex_unlock(lock) }
        return cachedBytes
    }
}
