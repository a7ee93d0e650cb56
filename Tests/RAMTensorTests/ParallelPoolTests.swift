import Dispatch
import Foundation
import XCTest
@testable import RAMTensor

/// The worker pool behind `Parallel.forEach` / `forChunks` (CKernels `ramk_pool_run`).
final class ParallelPoolTests: XCTestCase {
    /// Every index runs exactly once, over many back-to-back regions of varied sizes, with pauses
    /// long enough for the pool's threads to go to sleep in between.
    func testEveryIndexRunsExactlyOnce() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for threads in [2, 3] {
            Parallel.threads = threads
            for (round, n) in [2, 3, 7, 64, 1000, 2, 5].enumerated() {
                let counts = UnsafeMutablePointer<Int32>.allocate(capacity: n)
                counts.initialize(repeating: 0, count: n)
                defer { counts.deallocate() }
                let lock = NSLock()
                Parallel.forEach(n) { i in lock.lock(); counts[i] += 1; lock.unlock() }
                XCTAssertEqual((0..<n).filter { counts[$0] != 1 }, [], "threads \(threads), n \(n)")
                if round % 3 == 2 { usleep(2000) }   // the pool's threads fall asleep (spin 200 µs)
            }
        }
    }

    /// Work really runs on more than one thread when there are two workers.
    func testTwoThreadsTakePart() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 2
        let lock = NSLock()
        var ids = Set<UInt>()
        Parallel.forEach(64) { _ in
            usleep(500)
            lock.lock(); ids.insert(UInt(pthread_self())); lock.unlock()
        }
        XCTAssertEqual(ids.count, 2)
    }

    /// A region inside a region runs serially; regions started from two threads at once both
    /// finish (the second one runs on its own thread).
    func testNestedAndConcurrentRegions() {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 2
        let lock = NSLock()
        var total = 0
        Parallel.forEach(4) { _ in
            Parallel.forEach(10) { _ in lock.lock(); total += 1; lock.unlock() }
        }
        XCTAssertEqual(total, 40)
        var sums = [Int](repeating: 0, count: 2)
        DispatchQueue.concurrentPerform(iterations: 2) { t in
            var local = 0
            let l = NSLock()
            for _ in 0..<50 {
                Parallel.run(8, workers: 2) { i in l.lock(); local += i; l.unlock() }
            }
            lock.lock(); sums[t] = local; lock.unlock()
        }
        XCTAssertEqual(sums, [50 * 28, 50 * 28])
    }
}
