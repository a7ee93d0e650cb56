import Foundation

/// Runs `body` over `items` on `threads` worker threads (each takes the next item when it is
/// done with one), keeping results in input order. Memory is bounded by the workers: at most
/// `threads` items are in flight, so a batch of large photos never has more than `threads`
/// full-size decodes alive at once when `body` decodes and shrinks each one.
/// - Returns: one `Result` per item; an error in one item does not stop the others.
public func parallelMap<T, R>(_ items: [T], threads: Int = 2, _ body: (T) throws -> R) -> [Result<R, Error>] {
    let n = items.count
    if n == 0 { return [] }
    let workers = max(1, min(threads, n))
    if workers == 1 {
        return items.map { item in Result { try body(item) } }
    }
    var results = [Result<R, Error>?](repeating: nil, count: n)
    let lock = NSLock()
    var next = 0
    results.withUnsafeMutableBufferPointer { out in
        let slots = out
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while true {
                    lock.lock()
                    let i = next
                    next += 1
                    lock.unlock()
                    if i >= n { break }
                    let r = Result { try body(items[i]) }
                    slots[i] = r   // distinct indices: no two workers write the same slot
                }
            }
        }
    }
    return results.map { $0! }
}

/// Decodes (and optionally post-processes, e.g. resizes) many image files in parallel with
/// bounded memory; see `parallelMap`. Each error names its file.
/// - Parameters:
///   - paths: image files. - options: decoding options.
///   - threads: worker threads (2 on this project's machines).
///   - process: applied to each decoded image on the same worker (resize here to keep memory low).
public func loadImages(paths: [String], options: DecodeOptions = DecodeOptions(), threads: Int = 2,
                       process: (Image) throws -> Image = { $0 }) -> [Result<Image, Error>] {
    parallelMap(paths, threads: threads) { path in
        try process(decodeImage(contentsOf: URL(fileURLWithPath: path), options: options))
    }
}
