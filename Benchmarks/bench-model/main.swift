// bench-model: speed and memory of the image encoders (and, later, the whole RAM++ model) on this
// machine, against the cblas_sgemm peak measured in the same run.
//
//   swift run -c release bench-model [--what ram_plus|backbone] [--runs N]
//                                    [--backbone swin_l|swin_b|base|large] [--size 384|224]
//
// Default: the whole RAM++ model with Swin-L at 384 (the official checkpoint's architecture:
// 4,585 tags × 51 descriptions, the 2-layer Query2Label head), batch 1, random weights.
// `--what backbone` times the image encoder alone. Run one kind per process: peak RSS is the
// process's high-water mark.
//
// Prints: sgemm peak GFLOP/s; per-run latency; median latency; the model's GFLOP per image
// (counted from the architecture, multiply-add = 2 FLOP); achieved GFLOP/s and its fraction of
// the peak; peak RSS (VmHWM from /proc/self/status).
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

/// Process CPU seconds (all threads). On a shared machine, GFLOP per CPU-second compares fairly
/// with the sgemm peak per CPU-second measured the same way.
func cpuNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
        .joined(separator: " ") ?? "?"
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

/// Best-of-5 GFLOP/s of a square-ish sgemm shaped like the encoder's largest linears: per
/// wall-clock second and per CPU-second.
func sgemmPeak() -> (wall: Double, cpu: Double) {
    let m = 2304, k = 1536, n = 1536
    var a = [Float](repeating: 0, count: m * k), b = [Float](repeating: 0, count: k * n)
    for i in 0..<a.count { a[i] = Float(i % 13) * 0.01 }
    for i in 0..<b.count { b[i] = Float(i % 7) * 0.01 }
    var c = [Float](repeating: 0, count: m * n)
    var best = 0.0, bestCPU = 0.0
    let flop = 2 * Double(m) * Double(k) * Double(n)
    for _ in 0..<5 {
        let t0 = now(), c0 = cpuNow()
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1,
                    a, Int32(k), b, Int32(k), 0, &c, Int32(n))
        let dt = now() - t0, dc = cpuNow() - c0
        best = max(best, flop / dt / 1e9)
        bestCPU = max(bestCPU, flop / dc / 1e9)
    }
    return (best, bestCPU)
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

/// FLOP per image of RAM++ after the backbone (2 per multiply-add): `image_proj` (1+L)·C·512,
/// the description reweighting (cls · label_embedᵀ and the weighted sum, N·51·512 each),
/// `wordvec_proj` N·512·H, and per tagging-head layer (cross-attention + feed-forward, no
/// self-attention): query and output projections N·H², key/value projections 2·(1+L)·512·H,
/// attention 2·N·(1+L)·H, feed-forward 2·N·H·I; then `fc` N·H.
func ramPlusHeadFLOP(tokens: Int, width: Int, numTags: Int, descriptions: Int, hidden: Int,
                     intermediate: Int, layers: Int) -> Double {
    let t = Double(tokens), c = Double(width), n = Double(numTags), d = Double(descriptions)
    let h = Double(hidden), i = Double(intermediate)
    var flop = 2 * t * c * 512                      // image_proj
    flop += 2 * (2 * n * d * 512)                   // reweighting
    flop += 2 * n * 512 * h                         // wordvec_proj
    let layer = 2 * (2 * n * h * h) + 2 * (2 * t * 512 * h) + 2 * (2 * n * t * h) + 2 * (2 * n * h * i)
    flop += Double(layers) * layer
    flop += 2 * n * h                               // fc
    return flop
}

var what = "ram_plus"
var runs = 5
var backboneName = "swin_l"
var size = 384
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--what": what = args.popFirst() ?? what
    case "--runs": runs = Int(args.popFirst() ?? "") ?? runs
    case "--backbone": backboneName = args.popFirst() ?? backboneName
    case "--size": size = Int(args.popFirst() ?? "") ?? size
    default:
        FileHandle.standardError.write("usage: bench-model [--what ram_plus|backbone] [--runs N] [--backbone NAME] [--size S]\n".data(using: .utf8)!)
        exit(2)
    }
}

print("bench-model: \(Parallel.threads) threads; load average at start: \(loadAverage())")
let peakAtStart = sgemmPeak()
print(String(format: "cblas_sgemm peak (2304x1536x1536, best of 5): %.1f GFLOP/s [%.1f GFLOP per CPU-second]",
             peakAtStart.wall, peakAtStart.cpu))

let input = Tensor.randn([1, 3, size, size], std: 1, seed: 7)
var times: [Double] = []
var cpuTimes: [Double] = []
let flop: Double
let label: String

func time(_ body: () -> [Int]) {
    withNoGrad {
        _ = body()  // warm-up
        for i in 0..<runs {
            let t0 = now(), c0 = cpuNow()
            let shape = body()
            let dt = now() - t0, dc = cpuNow() - c0
            times.append(dt)
            cpuTimes.append(dc)
            print(String(format: "  run %d: %.3f s wall, %.3f CPU-s  (output %@)", i + 1, dt, dc, "\(shape)"))
        }
    }
}

do {
    switch what {
    case "backbone":
        let backbone = try BackboneFactory.make(name: backboneName, imageSize: size, seed: 1)
        if let swin = backbone as? SwinTransformer { flop = swinFLOP(swin.config) }
        else if let vit = backbone as? VisionTransformer { flop = vitFLOP(vit.config) }
        else { flop = .nan }
        label = "\(backboneName)/\(size) backbone"
        print(String(format: "%@, batch 1, random weights: %.1f GFLOP per image", label, flop / 1e9))
        time { backbone.forward(input).shape }
    case "ram_plus":
        let registries = try DefaultPlugins.registries()
        if !registries.backbone.contains(backboneName) { try BackbonesPlugin.register(into: registries) }
        let node = ConfigNode.map([(key: "vit", value: .string(backboneName)), (key: "image_size", value: .int(size))])
        let model = try registries.arch.build("ram_plus", ComponentConfig(path: "Arch", node: node, registries: registries))
        model.eval()
        guard let plus = model as? RAMPlus else { throw BackboneConfigError("ram_plus did not build a RAMPlus") }
        let backboneFLOP: Double
        let tokens: Int
        if let swin = plus.visual_encoder as? SwinTransformer {
            backboneFLOP = swinFLOP(swin.config); tokens = 1 + swin.config.numTokens
        } else if let vit = plus.visual_encoder as? VisionTransformer {
            backboneFLOP = vitFLOP(vit.config); tokens = 1 + vit.config.numPatches
        } else { backboneFLOP = .nan; tokens = 0 }
        let q2l = try BertConfig.load(try RAMResources.url(for: "reference-configs/q2l_config.json"))
        let head = ramPlusHeadFLOP(tokens: tokens, width: plus.visual_encoder.outputDim, numTags: plus.numTags,
                                   descriptions: plus.descriptionsPerTag, hidden: q2l.hidden_size,
                                   intermediate: q2l.intermediate_size, layers: q2l.num_hidden_layers)
        flop = backboneFLOP + head
        let params = plus.namedParameters().reduce(0) { $0 + $1.1.value.count }
        label = "RAM++ \(backboneName)/\(size)"
        print(String(format: "%@, batch 1, random weights, %d parameters: %.1f GFLOP per image "
                     + "(backbone %.1f, head %.1f)", label, params, flop / 1e9, backboneFLOP / 1e9, head / 1e9))
        time { plus.forward(input).logits.shape }
    default:
        throw BackboneConfigError("--what must be ram_plus or backbone, got '\(what)'")
    }
} catch {
    print("error: \(error)")
    exit(1)
}
// The peak again after the runs (the machine may be shared): the better of the two.
let peakAtEnd = sgemmPeak()
let peak = (wall: max(peakAtStart.wall, peakAtEnd.wall), cpu: max(peakAtStart.cpu, peakAtEnd.cpu))
print(String(format: "cblas_sgemm peak after the runs: %.1f GFLOP/s [%.1f GFLOP per CPU-second]",
             peakAtEnd.wall, peakAtEnd.cpu))
let med = median(times), medCPU = median(cpuTimes)
let achieved = flop / med / 1e9, achievedCPU = flop / medCPU / 1e9
print(String(format: "%@: median %.3f s wall over %d runs; %.1f GFLOP/s = %.0f%% of the sgemm peak "
             + "[%.1f GFLOP per CPU-second = %.0f%% of the peak per CPU-second]; peak RSS %.0f MiB; "
             + "load average at end: %@",
             label, med, runs, achieved, 100 * achieved / peak.wall, achievedCPU, 100 * achievedCPU / peak.cpu,
             peakRSSMiB(), loadAverage()))
