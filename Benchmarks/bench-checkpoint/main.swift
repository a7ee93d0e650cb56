// bench-checkpoint: time and peak RSS to open a multi-GB PyTorch checkpoint and read every tensor.
//
//   swift run -c release bench-checkpoint [--path /tmp/x.pth] [--regenerate] [--keep]
//
// Generates (once) a synthetic ~1.38 GB float32 checkpoint in the official layout
// (torch.save zip: stored entries, <archive>/data.pkl + <archive>/data/<i>, {'model': OrderedDict})
// with RAM++ Swin-L-like shapes, then measures:
//   open        parse the zip directory + data.pkl (tensors stay in the mmap)
//   read        convert every tensor to [Float] one at a time and drop it
//   read+evict  the same, releasing each tensor's file pages afterwards (TensorData.evictPages)
//   into        convert every tensor into one preallocated buffer (floats(into:)), with eviction
//   transposed  read every 2-D weight through a transposed view (what a .pdparams load does)
//   keep        convert every tensor and keep them all (what loading a model costs), with eviction
//   memcpy      ceiling measured in the same run: the same fresh arrays filled from RAM
// Peak RSS is VmHWM from /proc/self/status, reset between phases by writing 5 to
// /proc/self/clear_refs. The file is in the page cache after generation: numbers are warm-cache.
import Foundation
import RAMCheckpoint

func status(_ field: String) -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in s.split(separator: "\n") where line.hasPrefix(field + ":") {
        let digits = line.split(separator: " ").compactMap { Int($0) }
        return (digits.first ?? -1) * 1024
    }
    return -1
}
func resetPeak() -> Bool {
    guard let h = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
    defer { try? h.close() }
    do { try h.write(contentsOf: Data("5".utf8)); return true } catch { return false }
}
func mb(_ b: Int) -> String { String(format: "%.0f MB", Double(b) / 1e6) }
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

let args = CommandLine.arguments
var path = "/tmp/ramkit-bench-checkpoint.pth"
do {
    let usage = "usage: bench-checkpoint [--path FILE]   (writes a 1.4 GB synthetic checkpoint to FILE, default \(path), times reading it, deletes it)"
    var rest = Array(args.dropFirst())
    while !rest.isEmpty {
        let a = rest.removeFirst()
        if a == "--help" || a == "-h" { print(usage); exit(0) }
        guard a == "--path", let v = rest.first else {
            FileHandle.standardError.write(Data("bench-checkpoint: unexpected argument '\(a)'\n\(usage)\n".utf8)); exit(2)
        }
        path = v; rest.removeFirst()
    }
}
let url = URL(fileURLWithPath: path)

// RAM++ Swin-L-like tensors: label_embed [4585*51, 512] + 8 transformer blocks at width 1536.
var shapes: [(String, [Int])] = [("label_embed", [4585 * 51, 512]), ("reweight_scale", [])]
for b in 0..<8 {
    let p = "visual_encoder.layers.3.blocks.\(b)."
    shapes += [(p + "norm1.weight", [1536]), (p + "norm1.bias", [1536]),
               (p + "attn.relative_position_bias_table", [529, 48]),
               (p + "attn.qkv.weight", [4608, 1536]), (p + "attn.qkv.bias", [4608]),
               (p + "attn.proj.weight", [1536, 1536]), (p + "attn.proj.bias", [1536]),
               (p + "norm2.weight", [1536]), (p + "norm2.bias", [1536]),
               (p + "mlp.fc1.weight", [6144, 1536]), (p + "mlp.fc1.bias", [6144]),
               (p + "mlp.fc2.weight", [1536, 6144]), (p + "mlp.fc2.bias", [1536])]
}
@inline(__always) func value(_ t: Int, _ i: Int) -> Float { Float((i &* 2_654_435_761 &+ t &* 97) % 1000) * 1e-3 - 0.5 }
let totalFloats = shapes.reduce(0) { $0 + $1.1.reduce(1, *) }

if args.contains("--regenerate") || !FileManager.default.fileExists(atPath: path) {
    print("generating \(path): \(shapes.count) tensors, \(mb(totalFloats * 4)) of float32 ...")
    let t0 = now()
    do {
        try TorchCheckpointWriter.write(shapes.enumerated().map { (t, s) in
            TorchCheckpointWriter.Entry(name: s.0, shape: s.1) { start, chunk in
                for i in 0..<chunk.count { chunk[i] = value(t, start + i) }
            }
        }, archiveName: "ramkit-bench-checkpoint", to: url)
    } catch {
        print("error: \(error)"); exit(1)
    }
    let dt = now() - t0
    print(String(format: "  written in %.2f s (%.2f GB/s, including CRC-32)", dt, Double(totalFloats * 4) / dt / 1e9))
}
let fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
print("file: \(path), \(mb(fileSize))")
let canReset = resetPeak()
if !canReset { print("note: cannot reset VmHWM (/proc/self/clear_refs); peaks are cumulative") }
print("baseline: VmRSS \(mb(status("VmRSS"))), VmHWM \(mb(status("VmHWM")))")

func phase(_ name: String, _ body: () throws -> String) {
    _ = resetPeak()
    let t0 = now()
    do {
        let note = try body()
        let dt = now() - t0
        let padded = name.padding(toLength: 11, withPad: " ", startingAt: 0)
        print(String(format: "%@ %7.3f s  %6.2f GB/s  peak RSS (VmHWM) %@  now %@  %@", padded as NSString, dt,
                     Double(fileSize) / dt / 1e9, mb(status("VmHWM")) as NSString, mb(status("VmRSS")) as NSString, note as NSString))
    } catch {
        print("\(name): error: \(error)"); exit(1)
    }
}

func checkSpot(_ t: Int, _ f: [Float]) throws {
    for i in [0, f.count / 2, f.count - 1] where i >= 0 && i < f.count {
        if f[i] != value(t, i) { throw CheckpointError(.invalidArgument, file: path, "tensor \(t) element \(i): \(f[i]) != \(value(t, i))") }
    }
}

// Ceiling measured in this run: the same allocations filled by memcpy from a warm anonymous buffer.
phase("memcpy") {
    let srcCount = 64 << 20
    let src = UnsafeMutablePointer<Float>.allocate(capacity: srcCount)
    defer { src.deallocate() }
    src.initialize(repeating: 1, count: srcCount)
    var sum = 0.0
    for (_, shape) in shapes {
        let n = shape.reduce(1, *)
        let f = [Float](unsafeUninitializedCapacity: n) { buf, done in
            var o = 0
            while o < n { let k = min(srcCount, n - o); (buf.baseAddress! + o).update(from: src, count: k); o += k }
            done = n
        }
        sum += Double(f[n / 2])
    }
    return String(format: "(ceiling: fresh arrays filled from RAM; %.0f)", sum)
}

// Each phase opens the file afresh (a new mapping), so file pages of one phase do not count in the next.
func opened() throws -> CheckpointContents {
    let c = try Checkpoint.open(url)
    guard c.tensors.count == shapes.count else { throw CheckpointError(.invalidArgument, file: path, "expected \(shapes.count) tensors") }
    return c
}
phase("open") {
    let c = try opened()
    return "(\(c.tensors.count) tensors, \(c.keys.count) keys; zip directory + data.pkl only)"
}
phase("read") {
    let c = try opened()
    var sum = 0.0
    for (t, s) in shapes.enumerated() {
        let f = try c.tensors[s.0]!.floats()
        try checkSpot(t, f)
        sum += Double(f[f.count / 2])
    }
    return String(format: "(every tensor -> [Float], dropped; file pages stay mapped; checksum %.3f)", sum)
}
phase("read+evict") {
    let c = try opened()
    var sum = 0.0
    for (t, s) in shapes.enumerated() {
        let td = c.tensors[s.0]!
        let f = try td.floats()
        td.evictPages()
        try checkSpot(t, f)
        sum += Double(f[f.count / 2])
    }
    return String(format: "(each tensor's pages released after conversion; checksum %.3f)", sum)
}
phase("into") {
    let c = try opened()
    let maxCount = shapes.map { $0.1.reduce(1, *) }.max() ?? 0
    let dst = UnsafeMutableBufferPointer<Float>.allocate(capacity: maxCount)
    defer { dst.deallocate() }
    dst.initialize(repeating: 0)   // touched before timing matters little: done once, like a model's weights
    var sum = 0.0
    for (t, s) in shapes.enumerated() {
        let td = c.tensors[s.0]!
        try td.floats(into: dst)
        td.evictPages()
        if dst[td.count / 2] != value(t, td.count / 2) { throw CheckpointError(.invalidArgument, file: path, "tensor \(t) mismatch") }
        sum += Double(dst[td.count / 2])
    }
    return String(format: "(floats(into:) a preallocated buffer, as into a model's own weights; checksum %.3f)", sum)
}
// Paddle's Linear weights are [in, out]: loading them reads 2-D views with swapped strides.
phase("transposed") {
    let c = try opened()
    let linear = Set(shapes.filter { $0.1.count == 2 && $0.0.hasSuffix(".weight") }.map(\.0))
    let views = try PaddleParams.transposingLinearWeights(c.tensors, keys: linear)
    let maxCount = shapes.map { $0.1.reduce(1, *) }.max() ?? 0
    let dst = UnsafeMutableBufferPointer<Float>.allocate(capacity: maxCount)
    defer { dst.deallocate() }
    dst.initialize(repeating: 0)
    var bytes = 0
    let t0 = now()
    for k in linear.sorted() {
        let td = views[k]!
        try td.floats(into: dst)
        td.evictPages()
        bytes += td.count * 4
        // element [i][j] of the view is element [j][i] of the stored matrix
        let (r, cc) = (td.shape[0], td.shape[1])
        let t = shapes.firstIndex { $0.0 == k }!
        if dst[1 * cc + 0] != value(t, 0 * r + 1) { throw CheckpointError(.invalidArgument, file: path, "transposed \(k) mismatch") }
    }
    let dt = now() - t0
    return String(format: "(%d Linear weights read as [out, in] views of [in, out]: %.0f MB at %.2f GB/s)", linear.count, Double(bytes) / 1e6, Double(bytes) / dt / 1e9)
}
phase("keep") {
    let c = try opened()
    var kept: [[Float]] = []
    for (t, s) in shapes.enumerated() {
        let td = c.tensors[s.0]!
        kept.append(try td.floats())
        td.evictPages()
        try checkSpot(t, kept[kept.count - 1])
    }
    return "(all \(kept.reduce(0) { $0 + $1.count }) floats kept, like loading a model; with eviction)"
}
if !args.contains("--keep") {
    try? FileManager.default.removeItem(at: url)
    print("removed \(path) (pass --keep to keep it)")
}
