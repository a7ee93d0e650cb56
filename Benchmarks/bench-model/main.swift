// bench-model: speed and memory of a whole RAM / RAM++ model (random weights) or of its image
// encoder alone, built from a config exactly as `ram infer` builds it, against the cblas_sgemm
// peak measured in the same run (before and after the timed runs).
//
//   swift build -c release --product bench-model
//   .build/release/bench-model [--config configs/ram_plus_swin_large_384.yaml]
//                              [--what model|backbone] [--runs N] [--batch B] [--no-pack]
//
// Default: RAM++ Swin-L/384 (the official checkpoint's architecture: 4,585 tags × 51
// descriptions, the 2-layer Query2Label head), batch 1, 5 timed runs after one warm-up.
// `--what model` times every forward as two parts, the backbone (`visual_encoder`) and the head
// (everything after it: image_proj, label queries, tagging head, fc); their sum is the model.
// `--what backbone` builds and times the image encoder alone (less memory). Run one kind per
// process: peak RSS is the process's high-water mark.
//
// Prints: the sgemm peak (GFLOP/s per wall second and per CPU-second); per-run latency (wall and
// process CPU seconds) with the backbone/head split; medians; GFLOP per image (counted from the
// architecture, multiply-add = 2 FLOP); achieved GFLOP/s and its fraction of the peak, per wall
// second and per CPU-second (the CPU-second fraction is the steadier one on a shared machine);
// peak RSS (VmHWM from /proc/self/status).
import CBLAS
import Foundation
import RAMBackbones
import RAMCore
import RAMDefaultPlugins
import RAMModels
import RAMNN
import RAMTensor

// The BLAS thread policy RAMKit runs under (OpenBLAS workers sleep when idle instead of spinning
// on the cores our kernels use), applied before the first direct cblas call.
Parallel.configureBLAS()

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Process CPU seconds (all threads).
func cpuNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
        .joined(separator: " ") ?? "?"
}

/// VmHWM in MiB (NaN when /proc is unavailable).
func peakRSSMiB() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return .nan }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        if let kib = line.split(separator: " ").compactMap({ Double($0) }).first { return kib / 1024 }
    }
    return .nan
}

func median(_ xs: [Double]) -> Double {
    if xs.isEmpty { return .nan }
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Best-of-5 GFLOP/s (per wall second and per CPU-second) of the head's feed-forward GEMM shape
/// (4585×768 · 768×3072, B transposed as a PyTorch weight), all BLAS threads.
func sgemmPeak() -> (wall: Double, cpu: Double) {
    let m = 4585, k = 768, n = 3072
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

/// FLOP per image of a Swin encoder: patch embedding, per block qkv (2·L·C·3C) + attention
/// (4·w²·L·C) + proj (2·L·C²) + MLP (2·2·L·C·rC), patch merging (2·(L/4)·4C·2C).
func swinFLOP(_ c: SwinConfig) -> Double {
    let l0 = Double((c.imageSize / c.patchSize) * (c.imageSize / c.patchSize))
    var flop = 2 * l0 * Double(c.embedDim * c.inChannels * c.patchSize * c.patchSize)
    for i in 0..<c.depths.count {
        let r = c.resolution(stage: i)
        let l = Double(r * r), dim = Double(c.embedDim << i)
        let w = min(r, c.windowSize)
        let n = Double(w * w)
        flop += Double(c.depths[i]) * (2 * l * dim * 3 * dim + 4 * n * l * dim + 2 * l * dim * dim
                                       + 4 * l * dim * dim * c.mlpRatio)
        if i < c.depths.count - 1 { flop += 2 * (l / 4) * 4 * dim * 2 * dim }
    }
    return flop
}

/// FLOP per image of a ViT encoder (N = patches + class token).
func vitFLOP(_ c: ViTConfig) -> Double {
    let l = Double(c.numPatches), n = l + 1, dim = Double(c.embedDim)
    var flop = 2 * l * dim * Double(c.inChannels * c.patchSize * c.patchSize)
    flop += Double(c.depth) * (2 * n * dim * 3 * dim + 4 * n * n * dim + 2 * n * dim * dim
                                + 4 * n * dim * dim * c.mlpRatio)
    return flop
}

/// FLOP per image after the backbone (T = 1+L tokens of width C, N tags, H hidden, I
/// intermediate): image_proj 2·T·C·512; RAM++ only: the description reweighting (scores and the
/// weighted sum, 2·N·D·512 each); wordvec_proj 2·N·512·H; per tagging-head layer query and
/// output projections 2·2·N·H², key/value 2·2·T·512·H, attention 2·2·N·T·H, feed-forward
/// 2·2·N·H·I; fc 2·N·H.
func headFLOP(tokens: Int, width: Int, plus: Bool, numTags: Int, descriptions: Int, q2l: BertConfig) -> Double {
    let t = Double(tokens), c = Double(width), n = Double(numTags), d = Double(descriptions)
    let h = Double(q2l.hidden_size), i = Double(q2l.intermediate_size)
    var f = 2 * t * c * 512
    if plus { f += 2 * (2 * n * d * 512) }
    f += 2 * n * 512 * h
    let layer = 2 * (2 * n * h * h) + 2 * (2 * t * 512 * h) + 2 * (2 * n * t * h) + 2 * (2 * n * h * i)
    f += Double(q2l.num_hidden_layers) * layer + 2 * n * h
    return f
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write("bench-model: \(message)\n".data(using: .utf8)!)
    exit(2)
}

var configPath = "configs/ram_plus_swin_large_384.yaml"
var what = "model"
/// Pack the linear weights for inference, as `ram infer` does (`--no-pack`: leave them as loaded).
var pack = true
var runs = 5, batch = 1
var args = ArraySlice(CommandLine.arguments.dropFirst())
while let a = args.popFirst() {
    switch a {
    case "--config": configPath = args.popFirst() ?? configPath
    case "--what": what = args.popFirst() ?? what
    case "--runs": runs = max(1, Int(args.popFirst() ?? "") ?? runs)
    case "--batch": batch = max(1, Int(args.popFirst() ?? "") ?? batch)
    case "--no-pack": pack = false
    default:
        fail("usage: bench-model [--config FILE] [--what model|backbone] [--runs N] [--batch B] [--no-pack]")
    }
}
guard what == "model" || what == "backbone" else { fail("--what must be model or backbone, got '\(what)'") }

print("bench-model: \(Parallel.threads) threads; load average at start: \(loadAverage())")
let peakAtStart = sgemmPeak()
print(String(format: "cblas_sgemm peak (4585x768 · 768x3072, best of 5): %.1f GFLOP/s [%.1f GFLOP per CPU-second]",
             peakAtStart.wall, peakAtStart.cpu))

// Per run: (backbone wall, backbone CPU, head wall, head CPU).
var rows: [(bw: Double, bc: Double, hw: Double, hc: Double)] = []
var backboneFLOP = Double.nan, headFLOPs = 0.0
var label = ""
do {
    let config = try RunConfig.load(path: configPath)
    let registries = try DefaultPlugins.registries()
    let archNode = config.node(at: "Arch") ?? .map([])
    let archName = archNode["name"]?.stringValue ?? ""
    let plan = try RAMArchPlan(arch: archName, config:
        ComponentConfig(path: "Arch", node: archNode.removing(key: "name"), registries: registries,
                        baseDirectory: config.baseDirectory))
    let encoder: any Backbone
    let root: Module   // what is timed: the encoder, or the whole model
    var head: ((Tensor) -> Tensor)? = nil
    if what == "backbone" {
        // The encoder as the model builds it: image_size and vision_config (inline or a path) of Arch.
        var pairs: [(key: String, value: ConfigNode)] = [(key: "image_size", value: .int(plan.imageSize))]
        if let v = archNode["vision_config"] { pairs.append((key: "vision_config", value: v)) }
        encoder = try BackboneFactory.make(name: plan.vit, config: ComponentConfig(
            path: "Arch", node: .map(pairs), registries: registries, baseDirectory: config.baseDirectory))
        label = "\(plan.vit)/\(plan.imageSize) backbone"
        root = encoder
    } else {
        let model = try config.buildNamed(registries.arch, at: "Arch", registries: registries)
        model.eval()
        root = model
        if let m = model as? RAMPlus {
            encoder = m.visual_encoder
            head = { m.forward(visual: $0).logits }
        } else if let m = model as? RAM {
            encoder = m.visual_encoder
            head = { m.forward(visual: $0).logits }
        } else { fail("\(configPath): Arch '\(archName)' is not ram or ram_plus") }
        label = "\(archName == "ram_plus" ? "RAM++" : "RAM") \(plan.vit)/\(plan.imageSize)"
    }
    let tPack = now()
    let packedLayers = pack ? root.packLinearLayersForInference() : 0
    let packSeconds = now() - tPack
    let tokens: Int
    if let swin = encoder as? SwinTransformer { backboneFLOP = swinFLOP(swin.config); tokens = 1 + swin.config.numTokens }
    else if let vit = encoder as? VisionTransformer { backboneFLOP = vitFLOP(vit.config); tokens = 1 + vit.config.numPatches }
    else { tokens = 0 }
    if head != nil {
        headFLOPs = headFLOP(tokens: tokens, width: encoder.outputDim, plus: archName == "ram_plus",
                             numTags: plan.numTags, descriptions: 51, q2l: plan.q2l)
    }
    let params = RAMArchSpec.uniqueParameterCount(arch: plan.arch, vision: plan.vision, q2l: plan.q2l,
                                                  med: plan.med, numTags: plan.numTags)
    print("\(configPath): \(label), \(plan.numTags) tags, \(params) parameters (model), batch \(batch), random weights, "
          + (pack ? String(format: "%d linear layers packed for inference as `ram infer` packs them for 16 images or more (%.3f s)",
                        packedLayers, packSeconds)
                : "linear layers not packed (--no-pack)"))
    print(String(format: "GFLOP per image: backbone %.1f + head %.1f = %.1f",
                 backboneFLOP / 1e9, headFLOPs / 1e9, (backboneFLOP + headFLOPs) / 1e9))
    let input = Tensor.randn([batch, 3, plan.imageSize, plan.imageSize], std: 1, seed: 7)
    withNoGrad {
        for r in 0...runs {   // run 0 is the warm-up
            let t0 = now(), c0 = cpuNow()
            let visual = encoder.forward(input)
            let t1 = now(), c1 = cpuNow()
            let out = head.map { $0(visual) } ?? visual
            let t2 = now(), c2 = cpuNow()
            if r == 0 {
                print(String(format: "  warm-up: %.3f s wall, %.3f CPU-s", t2 - t0, c2 - c0))
                continue
            }
            rows.append((t1 - t0, c1 - c0, t2 - t1, c2 - c1))
            print(String(format: "  run %d: %.3f s wall, %.3f CPU-s (backbone %.3f s / %.3f CPU-s, head %.3f s / %.3f CPU-s); output %@",
                         r, t2 - t0, c2 - c0, t1 - t0, c1 - c0, t2 - t1, c2 - c1, "\(out.shape)"))
        }
    }
} catch {
    fail("\(error)")
}

let peakAtEnd = sgemmPeak()
print(String(format: "cblas_sgemm peak after the runs: %.1f GFLOP/s [%.1f GFLOP per CPU-second]",
             peakAtEnd.wall, peakAtEnd.cpu))
// The machine may be shared: the better of the two measurements is the ceiling.
let peak = (wall: max(peakAtStart.wall, peakAtEnd.wall), cpu: max(peakAtStart.cpu, peakAtEnd.cpu))
let n = Double(batch)

/// One summary line: median wall and CPU seconds, GFLOP/s and the fractions of the peak.
func report(_ name: String, flop: Double, wall: [Double], cpu: [Double]) {
    let w = median(wall), c = median(cpu)
    let g = flop * n / w / 1e9, gc = flop * n / c / 1e9
    print(String(format: "%@: median %.3f s wall (%.3f s per image), %.3f CPU-s; %.1f GFLOP/s = %.0f%% of the sgemm peak "
                 + "[%.1f GFLOP per CPU-second = %.0f%% of the peak per CPU-second]",
                 name, w, w / n, c, g, 100 * g / peak.wall, gc, 100 * gc / peak.cpu))
}
let withHead = headFLOPs > 0
if withHead {
    report(label, flop: backboneFLOP + headFLOPs, wall: rows.map { $0.bw + $0.hw }, cpu: rows.map { $0.bc + $0.hc })
}
report(withHead ? "  backbone" : label, flop: backboneFLOP, wall: rows.map { $0.bw }, cpu: rows.map { $0.bc })
if withHead { report("  head", flop: headFLOPs, wall: rows.map { $0.hw }, cpu: rows.map { $0.hc }) }
print(String(format: "%d runs; peak RSS (VmHWM) %.0f MiB; load average at end: %@", rows.count, peakRSSMiB(), loadAverage()))
