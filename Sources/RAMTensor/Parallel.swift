import CBLAS
import Dispatch
import Glibc

/// Two-core parallelism for the non-BLAS kernels, and the BLAS thread policy.
///
/// Policy (never oversubscribe): a single large GEMM runs with OpenBLAS using `threads` threads
/// and our own code idle; regions that run many small GEMMs in parallel from our threads
/// (attention, batched matmul) switch OpenBLAS to one thread for their duration
/// (`Parallel.withSingleThreadedBLAS`).
public enum Parallel {
    /// Worker count for our kernels and OpenBLAS (default: the online CPU count, at least 1).
    nonisolated(unsafe) public static var threads: Int = {
        let n = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return max(1, Int(n))
    }() {
        didSet { openblas_set_num_threads(Int32(max(1, threads))) }
    }

    nonisolated(unsafe) static var inParallelRegion = false
    nonisolated(unsafe) static var blasConfigured = false

    /// Sets OpenBLAS to `threads` threads once.
    static func configureBLAS() {
        if !blasConfigured {
            blasConfigured = true
            openblas_set_num_threads(Int32(threads))
        }
    }

    /// Runs `body` over `0..<n` split into contiguous chunks, one per worker, when the work is
    /// large (`n * costPerItem >= 32768`); serially otherwise or when already inside a
    /// parallel region.
    @inline(__always)
    public static func forChunks(_ n: Int, costPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        let workers = threads
        if workers <= 1 || n < 2 || n * costPerItem < 32768 || inParallelRegion {
            if n > 0 { body(0..<n) }
            return
        }
        let chunks = min(workers, n)
        inParallelRegion = true
        defer { inParallelRegion = false }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = n * c / chunks, hi = n * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Runs `body(i)` for every i in `0..<n`, items handed out dynamically to the workers
    /// (for uneven items such as attention blocks). Serial inside another parallel region.
    public static func forEach(_ n: Int, _ body: (Int) -> Void) {
        let workers = threads
        if workers <= 1 || n < 2 || inParallelRegion {
            for i in 0..<n { body(i) }
            return
        }
        inParallelRegion = true
        defer { inParallelRegion = false }
        let counter = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        counter.initialize(to: 0)
        defer { counter.deallocate() }
        let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        defer { pthread_mutex_destroy(lock); lock.deallocate() }
        DispatchQueue.concurrentPerform(iterations: min(workers, n)) { _ in
            while true {
                pthread_mutex_lock(lock)
                let i = counter.pointee
                counter.pointee = i + 1
                pthread_mutex_unlock(lock)
                if i >= n { break }
                body(i)
            }
        }
    }

    /// Runs `body` with OpenBLAS single-threaded (for regions where our own threads call BLAS).
    public static func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
        configureBLAS()
        if threads <= 1 { return try body() }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(threads)) }
        return try body()
    }
}
