import CBLAS
import CKernels
import Dispatch
import Glibc

/// Two-core parallelism for the non-BLAS kernels, and the BLAS thread policy.
///
/// Policy (never oversubscribe): a single large GEMM runs with OpenBLAS using `threads` threads
/// and our own code idle; regions that run many small GEMMs in parallel from our threads
/// (attention, batched matmul) switch OpenBLAS to one thread for their duration
/// (`Parallel.withSingleThreadedBLAS`).
public enum Parallel {
    /// Worker count for our kernels and OpenBLAS (default: `RAMKIT_NUM_THREADS` when it is set to
    /// a positive integer, else the online CPU count, at least 1).
    nonisolated(unsafe) public static var threads: Int = {
        if let n = threadCountFromEnvironment { return n }
        let n = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return max(1, Int(n))
    }() {
        didSet { openblas_set_num_threads(Int32(max(1, threads))) }
    }

    /// `RAMKIT_NUM_THREADS` when it is set to a positive integer, else nil.
    static var threadCountFromEnvironment: Int? {
        guard let e = getenv("RAMKIT_NUM_THREADS"), let n = Int(String(cString: e)), n > 0 else { return nil }
        return n
    }

    /// The value of `RAMKIT_NUM_THREADS` when it is set but ignored (not a positive integer),
    /// for the tools to warn about; nil when it is unset or used.
    public static var ignoredThreadCountSetting: String? {
        guard let e = getenv("RAMKIT_NUM_THREADS"), threadCountFromEnvironment == nil else { return nil }
        return String(cString: e)
    }

    nonisolated(unsafe) static var inParallelRegion = false

    /// How long an idle OpenBLAS worker spins (`sched_yield`) after a job before it sleeps, as
    /// log2 of CPU cycles (OpenBLAS's `OPENBLAS_THREAD_TIMEOUT`, 4...30; OpenBLAS's default is
    /// 28, about 0.1 s). Between two GEMMs our own kernels run on both cores, and a spinning
    /// worker takes CPU time from them (measured: ~8 % of the Swin-L encoder's CPU time), so
    /// RAMKit sets 4 (sleep at once; a GEMM wakes it with a condition variable). Applied once,
    /// before the first GEMM, unless the environment already sets `OPENBLAS_THREAD_TIMEOUT`
    /// (then that value stands) or this is nil (keep OpenBLAS's setting). Changing it after the
    /// first GEMM has no effect.
    nonisolated(unsafe) public static var blasThreadTimeout: Int? = 4

    /// One-time OpenBLAS setup (thread-safe: Swift initialises a static `let` once).
    static let blasSetup: Void = {
        applyBLASThreadTimeout()
        openblas_set_num_threads(Int32(threads))
    }()

    /// Sets OpenBLAS to `threads` threads and applies `blasThreadTimeout`, once. Every RAMKit GEMM
    /// calls it; code that calls cblas directly next to RAMKit kernels (the benchmarks) calls it
    /// first, so that OpenBLAS's idle workers do not spin on the cores RAMKit's kernels run on.
    @inline(__always)
    public static func configureBLAS() { _ = blasSetup }

    /// OpenBLAS reads `OPENBLAS_THREAD_TIMEOUT` when it loads, before our code runs. To change
    /// it: set the variable, make OpenBLAS re-read its environment (`openblas_read_env`) and stop
    /// its thread pool (`blas_thread_shutdown_`); the next multi-threaded call starts the pool
    /// again with the new timeout. Both are exported by OpenBLAS's pthreads build but are not in
    /// its headers, so they are looked up at run time; with another BLAS this does nothing.
    static func applyBLASThreadTimeout() {
        guard let t = blasThreadTimeout, getenv("OPENBLAS_THREAD_TIMEOUT") == nil else { return }
        let handle = dlopen(nil, RTLD_NOW)
        defer { if let h = handle { dlclose(h) } }
        guard let readEnv = dlsym(handle, "openblas_read_env"),
              let shutdown = dlsym(handle, "blas_thread_shutdown_") else { return }
        setenv("OPENBLAS_THREAD_TIMEOUT", String(min(30, max(4, t))), 1)
        typealias VoidFn = @convention(c) () -> Void
        typealias IntFn = @convention(c) () -> Int32
        unsafeBitCast(readEnv, to: VoidFn.self)()
        _ = unsafeBitCast(shutdown, to: IntFn.self)()
        // Leave the environment as it was (child processes get OpenBLAS's default).
        unsetenv("OPENBLAS_THREAD_TIMEOUT")
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
        run(chunks, workers: workers) { c in
            let lo = n * c / chunks, hi = n * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Runs `body(i)` for i in `0..<n` on the calling thread and the pool's threads (CKernels
    /// `ramk_pool_run`: persistent workers that spin briefly between regions instead of being
    /// woken for each one, as DispatchQueue.concurrentPerform's are), items handed out
    /// dynamically. Returns when every call is done.
    static func run(_ n: Int, workers: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { escaping in
            var fn = escaping
            withUnsafeMutablePointer(to: &fn) { p in
                ramk_pool_run(n, Int32(clamping: workers), { ctx, i in
                    ctx!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(i)
                }, UnsafeMutableRawPointer(p))
            }
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
        run(n, workers: workers, body)
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

/// CPU features the hand-written kernels in CKernels need.
public enum CPUFeatures {
    /// AVX2 and FMA3 are available (checked once).
    public static let avx2FMA: Bool = ramk_cpu_has_avx2_fma() != 0
}
