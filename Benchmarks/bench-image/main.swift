// bench-image: decode + resize of a large JPEG (default ../shared/images/demo3_large.jpg,
// 3216x4288) to 384x384, the way the RAM pipeline does it; and a parallel batch.
//
//   swift run -c release bench-image [image.jpg] [--runs N]
//   python3 Benchmarks/bench-image/pil_reference.py [image.jpg]   # PIL's time for the same work
//
// Reports the median wall time of N runs per step, megapixels per second of input, and peak RSS
// (VmHWM from /proc/self/status).
import Foundation
import RAMImage

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func peakRSSMiB() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return .nan }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? .nan
        return kb / 1024
    }
    return .nan
}

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

var args = Array(CommandLine.arguments.dropFirst())
var runs = 7
if args.contains("--help") || args.contains("-h") {
    print("usage: bench-image [--runs N] [IMAGE]   (default IMAGE: ../shared/images/demo3_large.jpg; see pil_reference.py for Pillow's time)")
    exit(0)
}
if let i = args.firstIndex(of: "--runs"), i + 1 < args.count, let n = Int(args[i + 1]) {
    runs = max(1, n)
    args.removeSubrange(i...(i + 1))
}
let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared").standardized
let path = args.first ?? shared.appendingPathComponent("images/demo3_large.jpg").path
guard FileManager.default.fileExists(atPath: path) else {
    print("bench-image: \(path) not found; pass an image path")
    exit(1)
}

do {
    let bytes = try readImageFile(URL(fileURLWithPath: path))
    let opts = DecodeOptions(exifTranspose: false)
    let probe = try decodeImage(bytes, options: opts)
    let mp = Double(probe.width * probe.height) / 1e6
    print("bench-image: \(path) \(probe.width)x\(probe.height) (\(String(format: "%.1f", mp)) MP), \(bytes.count) bytes, median of \(runs) runs")

    func bench(_ name: String, _ body: () throws -> Void) rethrows {
        try body()   // warm-up
        var t: [Double] = []
        for _ in 0..<runs {
            let t0 = now()
            try body()
            t.append(now() - t0)
        }
        let m = median(t)
        print("  " + name.padding(toLength: 46, withPad: " ", startingAt: 0) + String(format: " %8.1f ms   %7.1f MP/s", m * 1e3, mp / m))
    }

    var sink = 0
    try bench("decode (libjpeg-turbo, ISLOW, to RGB)") { sink &+= Int(try decodeImage(bytes, options: opts).width) }
    try bench("resize pil bilinear -> 384x384") {
        sink &+= try resizePIL(probe, width: 384, height: 384, filter: .bilinear).width
    }
    try bench("resize pil bicubic -> 384x384") {
        sink &+= try resizePIL(probe, width: 384, height: 384, filter: .bicubic).width
    }
    let short = shortSideSize(width: probe.width, height: probe.height, short: 384)
    try bench("resize cv2 bilinear short 384 + crop") {
        let r = try resizeCV2(probe, width: short.width, height: short.height, interpolation: .bilinear)
        sink &+= try centerCrop(r, width: 384, height: 384).width
    }
    try bench("decode + resize pil bilinear 384 (reference)") {
        let d = try decodeImage(bytes, options: opts)
        sink &+= try resizePIL(d, width: 384, height: 384, filter: .bilinear).width
    }
    try bench("decode + resize + normalize + CHW (reference)") {
        let d = try decodeImage(bytes, options: opts)
        let r = try resizePIL(d, width: 384, height: 384, filter: .bilinear)
        sink &+= toCHW(try normalize(r, scale: 1.0 / 255.0, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])).width
    }
    // a batch of 8 copies of the file, decoded and resized on 1 and 2 threads
    let batch = [String](repeating: path, count: 8)
    for threads in [1, 2] {
        let t0 = now()
        let results = loadImages(paths: batch, options: opts, threads: threads) {
            try resizePIL($0, width: 384, height: 384, filter: .bilinear)
        }
        let dt = now() - t0
        let ok = results.filter { if case .success = $0 { return true } else { return false } }.count
        print(String(format: "  batch of 8, %d thread(s): %8.1f ms total, %6.1f ms/image (%d ok)", threads, dt * 1e3, dt * 1e3 / 8, ok))
    }
    print(String(format: "  peak RSS (VmHWM): %.0f MiB", peakRSSMiB()))
    if sink == 42 { print("") }
} catch {
    print("bench-image: \(error)")
    exit(1)
}
