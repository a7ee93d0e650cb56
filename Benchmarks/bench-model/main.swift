// bench-model: speed and memory of the image encoders (and, later, the whole RAM++ model) on this
// machine, against the cblas_sgemm peak measured in the same run.
//
//   swift run -c release bench-model [--runs N] [--backbone swin_l|swin_b|base|large] [--size 384|224]
//
// Prints: sgemm peak GFLOP/s; per-run latency; median latency; the model's GFLOP per image
// (counted from the architecture, multiply-add = 2 FLOP); achieved GFLOP/s and its fraction of
// the peak; peak RSS (VmHWM from /proc/self/status).
import CBLAS
import Foundation
import RAMBackbones
import RAMCore
import RAMTensor

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func peakRSSMiB() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return .nan }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let digits = line.split(separator: " ").compactMap { Double($0) }
        if let kib = digits.first { return kib / 1024 }
    }
    return .nan
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Best-of-5 GFLOP/s of a square-ish sgemm shaped like the encoder's largest linears.
func sgemmPeak() -> Double {
    let m = 2304, k = 1536, n = 1536
    var a = [Float](repeating: 0, count: m * k), b = [Float](repeating: 0, count: k * n)
    for i in 0..<a.count { a[i] = Float(i % 13) * 0.01 }
    for i in 0..<b.count { b[i] = Float(i % 7) * 0.01 }
    var c = [Float](repeating: 0, count: m * n)
    var best = 0.0
    for _ in 0..<5 {
        let t0 = now()
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1,
                    a, Int32(k), b, Int32(k), 0, &c, Int32(n))
        let dt = now() - t0
        best = max(best, 2 * Double(m) * Double(k) * Double(n) / dt / 1e9)
    }
    return best
}

/// FLOP per image of the Swin encoder (2 per multiply-add): patch embedding, per block
/// qkv (2·L·C·3C) + attention (4·N·L·C) + proj (2·L·C²) + MLP (2·2·L·C·rC), patch merging
/// (2·(L/4)·4C·2C).
func swinFLOP(_ c: SwinConfig) -> Double {
    let l0 = Double((c.imageSize / c.patchSize) * (c.imageSize / c.patchSize))
    var flop = 2 * l0 * Double(c.embedDim * c.inChannels * c.patchSize * c.patchSize)
    for i in 0..<c.depths.count {
        let r = c.resolution(stage: i)
        let l = Double(r * r), dim = Double(c.embedDim << i)
        let w = min(r, c.windowSize)
        let n = Double(w * w)
        let block = 2 * l * dim * 3 * dim + 4 * n * l * dim + 2 * l * dim * dim + 4 * l * dim * dim * c.mlpRatio
        flop += Double(c.depths[i]) * block
        if i < c.depths.count - 1 { flop += 2 * (l / 4) * 4 * dim * 2 * dim }
    }
    return flop
}

func vitFLOP(_ c: ViTConfig) -> Double {
    let l = Double(c.numPatches), n = l + 1, dim = Double(c.embedDim)
    var flop = 2 * l * dim * Double(c.inChannels * c.patchSize * c.patchSize)
    flop += Double(c.depth) * (2 * n * dim * 3 * dim + 4 * n * n * dim + 2 * n * dim * dim
                                + 4 * n * dim * dim * c.mlpRatio)
    return flop
}

var runs = 5
var backboneName = "swin_l"
var size = 384
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--runs": runs = Int(args.popFirst() ?? "") ?? runs
    case "--backbone": backboneName = args.popFirst() ?? backboneName
    case "--size": size = Int(args.popFirst() ?? "") ?? size
    default:
        FileHandle.standardError.write("usage: bench-model [--runs N] [--backbone NAME] [--size S]\n".data(using: .utf8)!)
        exit(2)
    }
}

let peak = sgemmPeak()
print(String(format: "cblas_sgemm peak (2304x1536x1536, best of 5): %.1f GFLOP/s", peak))

let backbone: any Backbone
do {
    backbone = try BackboneFactory.make(name: backboneName, imageSize: size, seed: 1)
} catch {
    print("error: \(error)")
    exit(1)
}
let flop: Double
if let swin = backbone as? SwinTransformer { flop = swinFLOP(swin.config) }
else if let vit = backbone as? VisionTransformer { flop = vitFLOP(vit.config) }
else { flop = .nan }
print(String(format: "%@/%d backbone, batch 1, random weights: %.1f GFLOP per image", backboneName, size, flop / 1e9))

let input = Tensor.randn([1, 3, size, size], std: 1, seed: 7)
var times: [Double] = []
withNoGrad {
    _ = backbone.forward(input)  // warm-up
    for i in 0..<runs {
        let t0 = now()
        let out = backbone.forward(input)
        let dt = now() - t0
        times.append(dt)
        print(String(format: "  run %d: %.3f s  (output %@)", i + 1, dt, "\(out.shape)"))
    }
}
let med = median(times)
let achieved = flop / med / 1e9
print(String(format: "median %.3f s; %.1f GFLOP/s = %.0f%% of the sgemm peak; peak RSS %.0f MiB",
             med, achieved, 100 * achieved / peak, peakRSSMiB()))
