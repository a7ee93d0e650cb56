// bench-ram: speed and memory of a whole RAM / RAM++ model (random weights), built by name from a
// config exactly as `ram infer` builds it, against the cblas_sgemm peak measured in the same run.
//
//   swift run -c release bench-ram [--config configs/ram_plus_swin_large_384.yaml] [--runs N] [--batch B]
//
// Prints: sgemm peak GFLOP/s; per-run latency of the whole model and of the part after the
// backbone (image_proj, label queries, tagging head, fc); medians; GFLOP per image (counted from
// the architecture, multiply-add = 2 FLOP); achieved GFLOP/s and its fraction of the peak; peak
// RSS (VmHWM from /proc/self/status).
import CBLAS
import Foundation
import RAMBackbones
import RAMCore
import RAMDefaultPlugins
import RAMModels
import RAMTensor

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func peakRSSMiB() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return .nan }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        if let kib = line.split(separator: " ").compactMap({ Double($0) }).first { return kib / 1024 }
    }
    return .nan
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Best-of-5 GFLOP/s of an sgemm shaped like the tagging head's feed-forward (N=4585, 768→3072).
func sgemmPeak() -> Double {
    let m = 4585, k = 768, n = 3072
    var a = [Float](repeating: 0, count: m * k), b = [Float](repeating: 0, count: k * n)
    for i in 0..<a.count { a[i] = Float(i % 13) * 0.01 }
    for i in 0..<b.count { b[i] = Float(i % 7) * 0.01 }
    var c = [Float](repeating: 0, count: m * n)
    var best = 0.0
    for _ in 0..<5 {
        let t0 = now()
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1,
                    a, Int32(k), b, Int32(k), 0, &c, Int32(n))
        best = max(best, 2 * Double(m) * Double(k) * Double(n) / (now() - t0) / 1e9)
    }
    return best
}

/// FLOP per image after the backbone: image_proj, RAM++ description reweighting, wordvec_proj,
/// per head layer q / k,v / attention / output / FFN, fc (2 FLOP per multiply-add).
func headFLOP(_ p: RAMArchPlan) -> Double {
    let n = Double(p.numTags), t = Double(p.vision.outputDim)
    let l: Double
    switch p.vision {
    case let .swin(_, depths, _, _, size): let r = (size / 4) >> (depths.count - 1); l = Double(r * r + 1)
    case let .vit(_, _, _, patch, _, size): l = Double((size / patch) * (size / patch) + 1)
    }
    let h = Double(p.q2l.hidden_size), i = Double(p.q2l.intermediate_size)
    var f = 2 * l * t * 512
    if p.arch == "ram_plus" { f += 2 * 2 * n * 51 * 512 }
    f += 2 * n * 512 * h
    let layer = 2 * n * h * h + 2 * 2 * l * 512 * h + 4 * n * l * h + 2 * n * h * h + 4 * n * h * i
    f += Double(p.q2l.num_hidden_layers) * layer + 2 * n * h
    return f
}

var configPath = "configs/ram_plus_swin_large_384.yaml"
var runs = 5, batch = 1
var args = ArraySlice(CommandLine.arguments.dropFirst())
while let a = args.popFirst() {
    switch a {
    case "--config": configPath = args.popFirst() ?? configPath
    case "--runs": runs = Int(args.popFirst() ?? "") ?? runs
    case "--batch": batch = Int(args.popFirst() ?? "") ?? batch
    default:
        FileHandle.standardError.write("usage: bench-ram [--config FILE] [--runs N] [--batch B]\n".data(using: .utf8)!)
        exit(2)
    }
}

do {
    let peak = sgemmPeak()
    print(String(format: "cblas_sgemm peak (4585x768 · 768x3072, best of 5): %.1f GFLOP/s", peak))
    let config = try RunConfig.load(path: configPath)
    let registries = try DefaultPlugins.registries()
    let model = try config.buildNamed(registries.arch, at: "Arch", registries: registries)
    let archNode = config.node(at: "Arch") ?? .map([])
    let plan = try RAMArchPlan(arch: archNode["name"]?.stringValue ?? "", config:
        ComponentConfig(path: "Arch", node: archNode.removing(key: "name"), registries: registries, baseDirectory: config.baseDirectory))
    let params = RAMArchSpec.uniqueParameterCount(arch: plan.arch, vision: plan.vision, q2l: plan.q2l, med: plan.med, numTags: plan.numTags)
    let backboneFLOP: Double
    if let swin = model.namedChildren().first(where: { $0.0 == "visual_encoder" })?.1 as? SwinTransformer {
        let c = swin.config
        var f = 2 * Double((c.imageSize / 4) * (c.imageSize / 4)) * Double(c.embedDim * 3 * 16)
        for i in 0..<c.depths.count {
            let r = c.resolution(stage: i), dim = Double(c.embedDim << i), l = Double(r * r)
            let w = Double(min(r, c.windowSize) * min(r, c.windowSize))
            f += Double(c.depths[i]) * (2 * l * dim * 3 * dim + 4 * w * l * dim + 2 * l * dim * dim + 4 * l * dim * dim * c.mlpRatio)
            if i < c.depths.count - 1 { f += 2 * (l / 4) * 4 * dim * 2 * dim }
        }
        backboneFLOP = f
    } else { backboneFLOP = .nan }
    let head = headFLOP(plan)
    print("\(configPath): \(plan.arch) \(plan.vit)/\(plan.imageSize), \(plan.numTags) tags, \(params) parameters, batch \(batch), random weights")
    print(String(format: "GFLOP per image: backbone %.1f + head %.1f = %.1f", backboneFLOP / 1e9, head / 1e9, (backboneFLOP + head) / 1e9))
    let input = Tensor.randn([batch, 3, plan.imageSize, plan.imageSize], seed: 7)
    _ = model.forward(input)   // warm-up
    var total: [Double] = [], heads: [Double] = []
    for r in 0..<runs {
        let t0 = now()
        let out = model.forward(input)
        let t1 = now()
        let visual = out.visual ?? input
        let t2 = now()
        if let m = model as? RAMPlus { _ = withNoGrad { m.forward(visual: visual) } }
        else if let m = model as? RAM { _ = withNoGrad { m.forward(visual: visual) } }
        let t3 = now()
        total.append(t1 - t0); heads.append(t3 - t2)
        print(String(format: "run %d: model %.3f s (head %.3f s)", r + 1, t1 - t0, t3 - t2))
    }
    let med = median(total), medHead = median(heads)
    let gflops = (backboneFLOP + head) * Double(batch) / med / 1e9
    let headGflops = head * Double(batch) / medHead / 1e9
    print(String(format: "median: model %.3f s per batch (%.3f s per image), %.1f GFLOP/s = %.0f%% of sgemm peak", med, med / Double(batch), gflops, 100 * gflops / peak))
    print(String(format: "median: head %.3f s, %.1f GFLOP/s = %.0f%% of sgemm peak", medHead, headGflops, 100 * headGflops / peak))
    print(String(format: "peak RSS (VmHWM): %.0f MiB", peakRSSMiB()))
} catch {
    FileHandle.standardError.write("bench-ram: \(error)\n".data(using: .utf8)!)
    exit(1)
}
