// Transforms: PaddleClas's data-pipeline operators (ppcls/data/preprocess/ops/operators.py),
// registered by their names, with their option names and semantics, on RAMImage.
import Foundation
import RAMCore
import RAMImage

/// Registers `DecodeImage`, `ResizeImage`, `CropImage`, `RandCropImage`, `RandomResizedCrop`,
/// `RandFlipImage`, `NormalizeImage`, `ToCHWImage`.
public enum TransformsPlugin: RAMPlugin {
    public static func register(into registries: Registries) throws {
        let r = registries.transform
        try r.register("DecodeImage", summary: "decode JPEG/PNG bytes to 8-bit RGB (EXIF orientation applied unless exif_transpose: false)") {
            try DecodeImageOp($0)
        }
        try r.register("ResizeImage", summary: "resize to size [w, h] or by the short side (resize_short); backend pil (antialiased, PIL-exact) or cv2 (OpenCV-exact); interpolation random = bilinear or bicubic per image") {
            try ResizeImageOp($0)
        }
        try r.register("CropImage", summary: "center crop to size [w, h]") { try CropImageOp($0) }
        try r.register("RandCropImage", summary: "training: random area/aspect crop, then resize to size (PaddleClas)") {
            try RandCropImageOp($0)
        }
        try r.register("RandomResizedCrop", summary: "training: torchvision-style random resized crop (10 tries, center-crop fallback)") {
            try RandomResizedCropOp($0)
        }
        try r.register("RandFlipImage", summary: "training: flip with probability 1/2 (flip_code 1 horizontal, 0 vertical, -1 both)") {
            try RandFlipImageOp($0)
        }
        try r.register("NormalizeImage", summary: "(x·scale − mean) / std to float32, order '' (HWC) or 'chw'") {
            try NormalizeImageOp($0)
        }
        try r.register("ToCHWImage", summary: "HWC → CHW") { try ToCHWImageOp($0) }
    }
}

// MARK: - helpers

/// `size: 384` or `size: [w, h]` (PaddleClas order: width first).
func parseSize(_ node: ConfigNode?, path: String) throws -> (w: Int, h: Int)? {
    guard let node, !node.isNull else { return nil }
    func positive(_ n: ConfigNode) -> Int? {
        switch n {
        case let .int(i) where i > 0: return i
        case let .double(d) where d > 0 && d.rounded() == d: return Int(d)
        default: return nil
        }
    }
    if let v = positive(node) { return (v, v) }
    if case let .list(l) = node, l.count == 2, let w = positive(l[0]), let h = positive(l[1]) { return (w, h) }
    throw ConfigError.invalidValue(path: path, message: "expected a positive integer or a list [width, height] of two, got \(node.shortDescription)")
}

/// Re-throws an image error with the sample's file named, unless it already names it.
func named(_ sample: Sample, _ body: () throws -> Void) throws {
    do { try body() } catch let e as ImageError {
        if case .invalidArgument(let m) = e, let p = sample.path { throw ImageError.invalidArgument("\(p): \(m)") }
        throw e
    }
}

/// A small thread-safe random source (SplitMix64) for the training operators; seeded by the
/// operator's `seed` option (not a PaddleClas key) or from the system when absent.
final class OpRandom: @unchecked Sendable {
    private var state: UInt64
    private let lock = NSLock()
    init(seed: Int?) { state = seed.map { UInt64(bitPattern: Int64($0)) } ?? UInt64.random(in: 0...UInt64.max) }
    func next() -> UInt64 {
        lock.lock(); defer { lock.unlock() }
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [a, b] (Python's random.uniform).
    func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * Double(next() >> 11) / Double(1 << 53) }
    /// Uniform integer in [a, b] inclusive (Python's random.randint).
    func randint(_ a: Int, _ b: Int) -> Int { b <= a ? a : a + Int(next() % UInt64(b - a + 1)) }
}

/// A resize by name for one backend, as PaddleClas's `UnifiedResize`
/// (ppcls/data/preprocess/ops/operators.py).
///
/// cv2: nearest, bilinear, area, bicubic, lanczos (OpenCV-exact, see `resizeCV2`); pil:
/// nearest, bilinear, bicubic, box, lanczos, hamming (Pillow-exact, see `resizePIL`).
/// `random` is PaddleClas's `('random': (INTER_LINEAR, INTER_CUBIC))` /
/// `(BILINEAR, BICUBIC)`: each image is resized with bilinear or bicubic, picked with
/// probability 1/2 (Python's `random.choice` there; here our SplitMix64 `OpRandom` seeded by
/// `seed`, or from the system when `seed` is absent — so with a seed the sequence of choices is
/// reproducible for images applied one after the other).
struct UnifiedResize {
    enum Kind { case pil(ResampleFilter), cv2(CV2Interpolation), randomPIL, randomCV2 }
    let kind: Kind
    /// The generator of `random`'s choices (nil for a fixed interpolation).
    let random: OpRandom?

    /// - Parameters: interpolation: nil = the backend's default (cv2: bilinear, pil: bicubic, as
    ///   `Image.resize(size, None)`); backend: "cv2" or "pil" (any case); seed: the seed of
    ///   `random`'s choices (nil: from the system).
    init(interpolation: String?, backend: String, path: String, seed: Int? = nil) throws {
        let b = backend.lowercased()
        let name = interpolation?.lowercased()
        switch b {
        case "pil":
            let filters: [String: ResampleFilter] = ["nearest": .nearest, "bilinear": .bilinear, "bicubic": .bicubic,
                                                     "box": .box, "lanczos": .lanczos, "hamming": .hamming]
            guard let n = name else { kind = .pil(.bicubic); random = nil; return }
            if n == "random" { kind = .randomPIL; random = OpRandom(seed: seed); return }
            guard let f = filters[n] else {
                throw ConfigError.invalidValue(path: "\(path).interpolation",
                                               message: "unknown interpolation '\(n)' for backend pil; expected one of \((filters.keys.sorted() + ["random"]).joined(separator: ", "))")
            }
            kind = .pil(f)
        case "cv2":
            let modes: [String: CV2Interpolation] = ["nearest": .nearest, "bilinear": .bilinear, "area": .area,
                                                     "bicubic": .bicubic, "lanczos": .lanczos]
            guard let n = name else { kind = .cv2(.bilinear); random = nil; return }
            if n == "random" { kind = .randomCV2; random = OpRandom(seed: seed); return }
            guard let m = modes[n] else {
                throw ConfigError.invalidValue(path: "\(path).interpolation",
                                               message: "unknown interpolation '\(n)' for backend cv2; expected one of \((modes.keys.sorted() + ["random"]).joined(separator: ", "))")
            }
            kind = .cv2(m)
        default:
            throw ConfigError.invalidValue(path: "\(path).backend", message: "expected 'cv2' or 'pil', got '\(backend)'")
        }
        random = nil
    }

    /// The next choice of `random`: false = bilinear, true = bicubic (one draw per image).
    func nextIsBicubic() -> Bool { (random?.randint(0, 1) ?? 0) == 1 }

    func callAsFunction(_ image: Image, width: Int, height: Int) throws -> Image {
        switch kind {
        case .pil(let f): return try resizePIL(image, width: width, height: height, filter: f)
        case .cv2(let m): return try resizeCV2(image, width: width, height: height, interpolation: m)
        case .randomPIL:
            return try resizePIL(image, width: width, height: height, filter: nextIsBicubic() ? .bicubic : .bilinear)
        case .randomCV2:
            return try resizeCV2(image, width: width, height: height, interpolation: nextIsBicubic() ? .bicubic : .bilinear)
        }
    }
}

func requireImage(_ s: Sample, _ op: String) throws -> Image {
    guard let img = s.image else {
        throw ConfigError.invalidValue(path: op, message: "\(s.path ?? "sample"): no image to work on (put DecodeImage first in the list)")
    }
    return img
}

// MARK: - operators

/// PaddleClas `DecodeImage`: encoded bytes → 8-bit image, HWC RGB (BGR with `to_rgb: false`;
/// CHW with `channel_first: true`). Reads `sample.bytes`, or the file at `sample.path` when
/// there are none; frees the bytes afterwards.
///
/// Keys: `to_rgb` (true), `to_np` (true; accepted), `channel_first` (false), `backend` ("cv2" or
/// "pil": both decode identically here, as PIL's `convert("RGB")`), `exif_transpose` (true:
/// apply the EXIF orientation; false reproduces the reference exactly), `max_pixels`
/// (178,956,970, PIL's bomb limit; 0 or null disables it).
/// Errors name the file: truncated, empty, non-image, over the pixel limit.
public final class DecodeImageOp: Transform {
    struct Config: Codable, ConfigDefaults {
        var to_rgb = true
        var to_np = true
        var channel_first = false
        var backend = "cv2"
        var exif_transpose = true
        var max_pixels: Int? = DecodeOptions.defaultMaxPixels
    }
    public let toRGB: Bool
    public let channelFirst: Bool
    public let options: DecodeOptions

    public init(_ c: ComponentConfig) throws {
        let cfg = try c.decode(Config.self)
        guard ["cv2", "pil"].contains(cfg.backend.lowercased()) else {
            throw ConfigError.invalidValue(path: "\(c.path).backend", message: "expected 'cv2' or 'pil', got '\(cfg.backend)'")
        }
        if let m = cfg.max_pixels, m < 0 {
            throw ConfigError.invalidValue(path: "\(c.path).max_pixels", message: "expected a pixel count ≥ 0 (0 = no limit), got \(m)")
        }
        toRGB = cfg.to_rgb
        channelFirst = cfg.channel_first
        options = DecodeOptions(exifTranspose: cfg.exif_transpose, maxPixels: (cfg.max_pixels ?? 0) > 0 ? cfg.max_pixels : nil)
    }

    public init(toRGB: Bool = true, channelFirst: Bool = false, options: DecodeOptions = DecodeOptions()) {
        self.toRGB = toRGB
        self.channelFirst = channelFirst
        self.options = options
    }

    public func apply(_ sample: inout Sample) throws {
        let file = sample.path ?? "<memory>"
        let bytes: [UInt8]
        if let b = sample.bytes { bytes = b } else if let p = sample.path {
            bytes = try readImageFile(URL(fileURLWithPath: p))
        } else {
            throw ImageError.invalidArgument("DecodeImage: the sample has neither bytes nor a path")
        }
        var img = try decodeImage(bytes, file: file, options: options)
        if !toRGB { img = try swapRB(img) }
        if channelFirst { img = toCHW(img) }
        sample.image = img
        sample.bytes = nil
    }
}

/// PaddleClas `ResizeImage`: `size` (an integer or `[w, h]`) or `resize_short` (the short side
/// becomes S, the other `round(side·S/short)` with Python's round), `interpolation`, `backend`
/// (`cv2` default as PaddleClas; `pil` for PIL's antialiased resampling, exact to the pixel),
/// `return_numpy` (accepted), `seed` (ours: seeds `interpolation: random`, which picks bilinear
/// or bicubic per image as PaddleClas does; see `UnifiedResize`). The reference RAM pipeline is `{size: [S, S], backend: pil,
/// interpolation: bilinear}`.
public final class ResizeImageOp: Transform {
    struct Config: Codable, ConfigDefaults {
        var size: ConfigNode? = nil
        var resize_short: Int? = nil
        var interpolation: String? = nil
        var backend = "cv2"
        var return_numpy = true
        var seed: Int? = nil
    }
    public let size: (w: Int, h: Int)?
    public let resizeShort: Int?
    let resize: UnifiedResize

    public init(_ c: ComponentConfig) throws {
        let cfg = try c.decode(Config.self)
        if let s = cfg.resize_short, s > 0 {
            resizeShort = s
            size = nil
        } else if let s = try parseSize(cfg.size, path: "\(c.path).size") {
            resizeShort = nil
            size = s
        } else {
            throw ConfigError.invalidValue(path: c.path, message: "give 'size' (an integer or [width, height]) or 'resize_short' (a positive integer)")
        }
        resize = try UnifiedResize(interpolation: cfg.interpolation, backend: cfg.backend, path: c.path, seed: cfg.seed)
    }

    public func apply(_ sample: inout Sample) throws {
        let img = try requireImage(sample, "ResizeImage")
        let (w, h): (Int, Int)
        if let s = resizeShort {
            (w, h) = shortSideSize(width: img.width, height: img.height, short: s)
        } else if let s = size {
            (w, h) = s
        } else { return }
        try named(sample) { sample.image = try resize(img, width: max(w, 1), height: max(h, 1)) }
    }
}

/// PaddleClas `CropImage`: the centred `size` (`[w, h]` or an integer) region; an image smaller
/// than the crop is an error, as in PaddleClas.
public final class CropImageOp: Transform {
    struct Config: Codable, ConfigDefaults { var size: ConfigNode? = nil }
    public let size: (w: Int, h: Int)

    public init(_ c: ComponentConfig) throws {
        let cfg = try c.decode(Config.self)
        guard let s = try parseSize(cfg.size, path: "\(c.path).size") else {
            throw ConfigError.missingKey(path: c.path, key: "size")
        }
        size = s
    }

    public func apply(_ sample: inout Sample) throws {
        let img = try requireImage(sample, "CropImage")
        try named(sample) { sample.image = try centerCrop(img, width: size.w, height: size.h) }
    }
}

/// PaddleClas `RandCropImage` (training): aspect `sqrt(uniform(ratio))`, area
/// `uniform(scale)` of the image (bounded so the crop fits), a uniformly placed crop, then a
/// resize to `size` with `interpolation` / `backend`. Keys: size, scale ([0.08, 1]),
/// ratio ([3/4, 4/3]), interpolation, use_log_aspect (false), backend ("cv2"), seed (ours).
public final class RandCropImageOp: Transform {
    struct Config: Codable, ConfigDefaults {
        var size: ConfigNode? = nil
        var scale: [Double]? = nil
        var ratio: [Double]? = nil
        var interpolation: String? = nil
        var use_log_aspect = false
        var backend = "cv2"
        var seed: Int? = nil
    }
    let size: (w: Int, h: Int)
    let scale: [Double], ratio: [Double]
    let useLogAspect: Bool
    let resize: UnifiedResize
    let random: OpRandom

    public init(_ c: ComponentConfig) throws {
        let cfg = try c.decode(Config.self)
        guard let s = try parseSize(cfg.size, path: "\(c.path).size") else { throw ConfigError.missingKey(path: c.path, key: "size") }
        size = s
        scale = try cropRange(cfg.scale, default: [0.08, 1.0], path: "\(c.path).scale")
        ratio = try cropRange(cfg.ratio, default: [3.0 / 4.0, 4.0 / 3.0], path: "\(c.path).ratio")
        useLogAspect = cfg.use_log_aspect
        // `interpolation: random` draws from its own stream (seed + 1), so a seed gives the same
        // crops whatever the interpolation.
        resize = try UnifiedResize(interpolation: cfg.interpolation, backend: cfg.backend, path: c.path,
                                   seed: cfg.seed.map { $0 &+ 1 })
        random = OpRandom(seed: cfg.seed)
    }

    public func apply(_ sample: inout Sample) throws {
        let img = try requireImage(sample, "RandCropImage")
        let aspect = useLogAspect ? exp(random.uniform(log(ratio[0]), log(ratio[1])))
                                  : sqrt(random.uniform(ratio[0], ratio[1]))
        let wf = aspect, hf = 1 / aspect
        let iw = Double(img.width), ih = Double(img.height)
        let bound = min((iw / ih) / (wf * wf), (ih / iw) / (hf * hf))
        let smax = min(scale[1], bound), smin = min(scale[0], bound)
        let target = (iw * ih * random.uniform(smin, smax)).squareRoot()
        let w = max(1, min(img.width, Int(target * wf))), h = max(1, min(img.height, Int(target * hf)))
        let x = random.randint(0, img.width - w), y = random.randint(0, img.height - h)
        try named(sample) {
            sample.image = try resize(crop(img, x: x, y: y, width: w, height: h), width: size.w, height: size.h)
        }
    }
}

/// `RandomResizedCrop` as torchvision / Paddle define it (training): up to 10 tries of an area
/// fraction `uniform(scale)` and a log-uniform aspect in `ratio`; the first crop that fits is
/// taken at a uniform position; otherwise a center crop clamped to `ratio`. Then a resize to
/// `size`. Keys: size, scale ([0.08, 1]), ratio ([3/4, 4/3]), interpolation, backend ("cv2"),
/// seed (ours).
public final class RandomResizedCropOp: Transform {
    struct Config: Codable, ConfigDefaults {
        var size: ConfigNode? = nil
        var scale: [Double]? = nil
        var ratio: [Double]? = nil
        var interpolation: String? = nil
        var backend = "cv2"
        var seed: Int? = nil
    }
    let size: (w: Int, h: Int)
    let scale: [Double], ratio: [Double]
    let resize: UnifiedResize
    let random: OpRandom

    public init(_ c: ComponentConfig) throws {
        let cfg = try c.decode(Config.self)
        guard let s = try parseSize(cfg.size, path: "\(c.path).size") else { throw ConfigError.missingKey(path: c.path, key: "size") }
        size = s
        scale = try cropRange(cfg.scale, default: [0.08, 1.0], path: "\(c.path).scale")
        ratio = try cropRange(cfg.ratio, default: [3.0 / 4.0, 4.0 / 3.0], path: "\(c.path).ratio")
        // `interpolation: random` draws from its own stream (seed + 1), so a seed gives the same
        // crops whatever the interpolation.
        resize = try UnifiedResize(interpolation: cfg.interpolation, backend: cfg.backend, path: c.path,
                                   seed: cfg.seed.map { $0 &+ 1 })
        random = OpRandom(seed: cfg.seed)
    }

    func cropBox(width: Int, height: Int) -> (x: Int, y: Int, w: Int, h: Int) {
        let area = Double(width * height)
        for _ in 0..<10 {
            let target = area * random.uniform(scale[0], scale[1])
            let aspect = exp(random.uniform(log(ratio[0]), log(ratio[1])))
            let w = Int((target * aspect).squareRoot().rounded())
            let h = Int((target / aspect).squareRoot().rounded())
            if w > 0 && h > 0 && w <= width && h <= height {
                return (random.randint(0, width - w), random.randint(0, height - h), w, h)
            }
        }
        let inRatio = Double(width) / Double(height)
        var w = width, h = height
        if inRatio < ratio[0] { h = Int((Double(w) / ratio[0]).rounded()) }
        else if inRatio > ratio[1] { w = Int((Double(h) * ratio[1]).rounded()) }
        w = max(1, min(w, width)); h = max(1, min(h, height))
        return ((width - w) / 2, (height - h) / 2, w, h)
    }

    public func apply(_ sample: inout Sample) throws {
        let img = try requireImage(sample, "RandomResizedCrop")
        let b = cropBox(width: img.width, height: img.height)
        try named(sample) {
            sample.image = try resize(crop(img, x: b.x, y: b.y, width: b.w, height: b.h), width: size.w, height: size.h)
        }
    }
}

/// PaddleClas `RandFlipImage` (training): with probability 1/2, `cv2.flip(img, flip_code)`
/// (1 horizontal, 0 vertical, -1 both). Keys: flip_code (1), seed (ours).
public final class RandFlipImageOp: Transform {
    struct Config: Codable, ConfigDefaults {
        var flip_code = 1
        var seed: Int? = nil
    }
    let flipCode: Int
    let random: OpRandom

    public init(_ c: ComponentConfig) throws {
        let cfg = try c.decode(Config.self)
        guard [-1, 0, 1].contains(cfg.flip_code) else {
            throw ConfigError.invalidValue(path: "\(c.path).flip_code", message: "expected -1, 0 or 1, got \(cfg.flip_code)")
        }
        flipCode = cfg.flip_code
        random = OpRandom(seed: cfg.seed)
    }

    public func apply(_ sample: inout Sample) throws {
        let img = try requireImage(sample, "RandFlipImage")
        if random.randint(0, 1) == 1 {
            try named(sample) { sample.image = try flip(img, code: flipCode) }
        }
    }
}

/// PaddleClas `NormalizeImage`: `(x·scale − mean) / std` per channel, to float32.
/// Keys: `scale` (a number or an expression such as `1.0/255.0`; default 1/255), `mean`
/// (ImageNet's), `std` (ImageNet's), `order` (`chw`, PaddleClas's default: the image must be CHW;
/// `''` or `hwc`: HWC), `output_fp16` (only false), `channel_num` (3; 4 adds a zero channel, not
/// implemented yet). `scale` and every `mean` / `std` entry must be finite (NaN or infinity is a
/// `ConfigError.invalidValue` naming the key). Float rounding follows torchvision (`x / 255` when scale = 1/255); see
/// `RAMImage.normalize`.
public final class NormalizeImageOp: Transform {
    struct Config: Codable, ConfigDefaults {
        var scale: Double? = nil
        var mean: [Double]? = nil
        var std: [Double]? = nil
        var order = "chw"
        var output_fp16 = false
        var channel_num = 3
    }
    public let scale: Double
    public let mean: [Double], std: [Double]
    public let chw: Bool

    public init(_ c: ComponentConfig) throws {
        let cfg = try c.decode(Config.self)
        scale = cfg.scale ?? 1.0 / 255.0
        mean = cfg.mean ?? [0.485, 0.456, 0.406]
        std = cfg.std ?? [0.229, 0.224, 0.225]
        switch cfg.order.lowercased() {
        case "chw": chw = true
        case "", "hwc": chw = false
        default: throw ConfigError.invalidValue(path: "\(c.path).order", message: "expected 'chw' or '' (HWC), got '\(cfg.order)'")
        }
        if cfg.output_fp16 {
            throw ConfigError.invalidValue(path: "\(c.path).output_fp16", message: "float16 output is not implemented yet (the models take float32)")
        }
        guard cfg.channel_num == 3 else {
            throw ConfigError.invalidValue(path: "\(c.path).channel_num", message: "only 3 is implemented yet, got \(cfg.channel_num)")
        }
        if !scale.isFinite {
            throw ConfigError.invalidValue(path: "\(c.path).scale", message: "expected a finite number (such as 1.0/255.0), got \(ConfigNode.double(scale).shortDescription)")
        }
        for (key, values) in [("mean", mean), ("std", std)] {
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                throw ConfigError.invalidValue(path: "\(c.path).\(key).\(i)", message: "expected a finite number, got \(ConfigNode.double(values[i]).shortDescription)")
            }
        }
        guard mean.count == 3, std.count == 3, std.allSatisfy({ $0 != 0 }) else {
            throw ConfigError.invalidValue(path: c.path, message: "mean and std must have 3 values each and std no zero; got mean \(mean), std \(std)")
        }
    }

    public init(scale: Double = 1.0 / 255.0, mean: [Double] = [0.485, 0.456, 0.406],
                std: [Double] = [0.229, 0.224, 0.225], chw: Bool = false) {
        self.scale = scale; self.mean = mean; self.std = std; self.chw = chw
    }

    public func apply(_ sample: inout Sample) throws {
        let img = try requireImage(sample, "NormalizeImage")
        if chw != (img.layout == .chw) {
            throw ImageError.invalidArgument(
                "\(sample.path ?? "sample"): NormalizeImage has order '\(chw ? "chw" : "")' but the image is \(img.layout == .chw ? "CHW" : "HWC"); "
                    + "use order: '' before ToCHWImage (as PaddleClas's RAM configs do) or order: chw after it")
        }
        try named(sample) { sample.image = try normalize(img, scale: scale, mean: mean, std: std) }
    }
}

/// PaddleClas `ToCHWImage`: HWC → CHW (uint8 or float32). No keys.
public final class ToCHWImageOp: Transform {
    struct Config: Codable, ConfigDefaults {}
    public init(_ c: ComponentConfig) throws { _ = try c.decode(Config.self) }
    public init() {}
    public func apply(_ sample: inout Sample) throws {
        let img = try requireImage(sample, "ToCHWImage")
        sample.image = toCHW(img)
    }
}

// MARK: - batches

/// Reads, decodes and transforms many files in parallel with memory bounded by the workers
/// (each worker holds one full-size decode at a time; results are the transformed images).
/// This is what the engine should call for a batch of `Infer.infer_imgs`.
/// - Parameters:
///   - paths: the batch's files, in order. - transforms: the built list (starting with DecodeImage).
///   - threads: worker threads (2 on this project's machines).
/// - Returns: one result per path, in order; a failing file is an `.failure` naming it.
public func loadBatch(paths: [String], transforms: [any Transform], threads: Int = 2) -> [Result<Sample, Error>] {
    parallelMap(paths, threads: threads) { path in
        var s = Sample(path: path)
        for t in transforms { try t.apply(&s) }
        return s
    }
}

/// A random-crop `[min, max]` range (`scale` or `ratio`), `default` when not given.
/// - Throws: `ConfigError.invalidValue` naming `path` unless it has two values with 0 < min ≤ max.
func cropRange(_ given: [Double]?, default dflt: [Double], path: String) throws -> [Double] {
    let r = given ?? dflt
    guard r.count == 2, r[0] > 0, r[0] <= r[1] else {
        throw ConfigError.invalidValue(path: path, message: "expected [min, max] with 0 < min ≤ max, got \(r)")
    }
    return r
}
