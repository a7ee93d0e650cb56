import Foundation

/// The output size of PaddleClas's `ResizeImage(resize_short=S)`
/// (`ppcls/data/preprocess/ops/operators.py`): `percent = S / min(w, h)`,
/// `w' = round(w·percent)`, `h' = round(h·percent)` with Python's `round` (half to even).
public func shortSideSize(width: Int, height: Int, short: Int) -> (width: Int, height: Int) {
    let percent = Double(short) / Double(min(width, height))
    let w = (Double(width) * percent).rounded(.toNearestOrEven)
    let h = (Double(height) * percent).rounded(.toNearestOrEven)
    return (Int(w), Int(h))
}

/// Crops the region `x ..< x+width`, `y ..< y+height`.
/// - Parameter image: `[H, W, C]` uint8. - Returns: `[height, width, C]` uint8.
/// - Throws: `ImageError.invalidArgument` when the region is not inside the image.
public func crop(_ image: Image, x: Int, y: Int, width: Int, height: Int) throws -> Image {
    let src = try image.requireBytesHWC("crop")
    guard width >= 1, height >= 1, x >= 0, y >= 0, x + width <= image.width, y + height <= image.height else {
        throw ImageError.invalidArgument(
            "crop: region x=\(x) y=\(y) \(width)x\(height) is not inside the \(image.width)x\(image.height) image")
    }
    let c = image.channels
    var out = [UInt8](repeating: 0, count: width * height * c)
    out.withUnsafeMutableBufferPointer { d in
        src.withUnsafeBufferPointer { s in
            for r in 0..<height {
                let so = ((y + r) * image.width + x) * c
                let dst = UnsafeMutableRawPointer(d.baseAddress! + r * width * c)
                dst.copyMemory(from: s.baseAddress! + so, byteCount: width * c)
            }
        }
    }
    return Image(width: width, height: height, channels: c, bytes: out)
}

/// PaddleClas `CropImage`: the centred `width × height` region, starting at
/// `((W - width) // 2, (H - height) // 2)`.
/// - Throws: `ImageError.invalidArgument` when the image is smaller than the crop (PaddleClas
///   raises too).
public func centerCrop(_ image: Image, width: Int, height: Int) throws -> Image {
    guard image.width >= width, image.height >= height else {
        throw ImageError.invalidArgument(
            "CropImage: the crop \(width)x\(height) is larger than the \(image.width)x\(image.height) image; "
                + "check the size of ResizeImage before it")
    }
    return try crop(image, x: (image.width - width) / 2, y: (image.height - height) / 2, width: width, height: height)
}

/// Mirrors an image as `cv2.flip(img, flipCode)`: 1 horizontal (left-right), 0 vertical
/// (top-bottom), -1 both.
public func flip(_ image: Image, code: Int) throws -> Image {
    let src = try image.requireBytesHWC("flip")
    guard [-1, 0, 1].contains(code) else {
        throw ImageError.invalidArgument("flip: flip_code must be -1, 0 or 1, got \(code)")
    }
    let w = image.width, h = image.height, c = image.channels
    var out = [UInt8](repeating: 0, count: src.count)
    for y in 0..<h {
        let sy = (code == 0 || code == -1) ? h - 1 - y : y
        for x in 0..<w {
            let sx = (code == 1 || code == -1) ? w - 1 - x : x
            for k in 0..<c { out[(y * w + x) * c + k] = src[(sy * w + sx) * c + k] }
        }
    }
    return Image(width: w, height: h, channels: c, bytes: out)
}

/// Reverses the channel order (RGB ↔ BGR), 8-bit HWC.
public func swapRB(_ image: Image) throws -> Image {
    var b = try image.requireBytesHWC("to_rgb")
    let c = image.channels
    guard c >= 3 else { return image }
    for i in stride(from: 0, to: b.count, by: c) { b.swapAt(i, i + 2) }
    return Image(width: image.width, height: image.height, channels: c, bytes: b)
}

/// HWC → CHW (PaddleClas `ToCHWImage`, `img.transpose((2, 0, 1))`), for uint8 or float32.
/// A CHW image is returned unchanged.
public func toCHW(_ image: Image) -> Image {
    if image.layout == .chw { return image }
    let h = image.height, w = image.width, c = image.channels
    func transpose<T>(_ s: [T], zero: T) -> [T] {
        var d = [T](repeating: zero, count: s.count)
        for y in 0..<h {
            for x in 0..<w {
                for k in 0..<c { d[(k * h + y) * w + x] = s[(y * w + x) * c + k] }
            }
        }
        return d
    }
    switch image.pixels {
    case .uint8(let s): return Image(width: w, height: h, channels: c, layout: .chw, pixels: .uint8(transpose(s, zero: 0)))
    case .float32(let s): return Image(width: w, height: h, channels: c, layout: .chw, pixels: .float32(transpose(s, zero: 0)))
    }
}

/// Normalises pixels to float32: `(x·scale − mean[c]) / std[c]` per channel, keeping the
/// layout (PaddleClas `NormalizeImage`; torchvision `ToTensor` + `Normalize`).
///
/// Float32 rounding follows torchvision, which the reference RAM pipeline uses: when `scale` is
/// the reciprocal of an integer `n` (1/255), `x·scale` is computed as the float32 division
/// `x / n` (torchvision's `ToTensor` divides by 255) rather than a multiplication by a rounded
/// reciprocal (PaddleClas's numpy, which can differ by 1 ulp); then `(v − mean) / std` in float32.
/// - Parameters:
///   - image: uint8 or float32, HWC or CHW, `channels == mean.count == std.count`.
/// - Returns: the same layout, float32.
/// - Throws: `ImageError.invalidArgument` on a channel-count mismatch or a zero std.
public func normalize(_ image: Image, scale: Double, mean: [Double], std: [Double]) throws -> Image {
    let c = image.channels
    guard mean.count == c, std.count == c else {
        throw ImageError.invalidArgument(
            "NormalizeImage: mean (\(mean.count) values) and std (\(std.count) values) must have one value per channel (\(c))")
    }
    guard std.allSatisfy({ $0 != 0 }) else {
        throw ImageError.invalidArgument("NormalizeImage: std must not contain 0, got \(std)")
    }
    let m = mean.map { Float($0) }, s = std.map { Float($0) }
    let recip = 1.0 / scale
    let divisor: Float? = (abs(recip - recip.rounded()) < 1e-9 * max(1, abs(recip)) && recip.rounded() != 0)
        ? Float(recip.rounded()) : nil
    let fscale = Float(scale)
    let hw = image.width * image.height
    let n = hw * c
    var out = [Float](repeating: 0, count: n)
    func channelOf(_ i: Int) -> Int { image.layout == .hwc ? i % c : i / hw }
    switch image.pixels {
    case .uint8(let src):
        // 256-entry lookup per channel: identical values, cheaper.
        var lut = [Float](repeating: 0, count: 256 * c)
        for ch in 0..<c {
            for v in 0..<256 {
                let x: Float = divisor.map { Float(v) / $0 } ?? Float(v) * fscale
                lut[ch * 256 + v] = (x - m[ch]) / s[ch]
            }
        }
        for i in 0..<n { out[i] = lut[channelOf(i) * 256 + Int(src[i])] }
    case .float32(let src):
        for i in 0..<n {
            let ch = channelOf(i)
            let x: Float = divisor.map { src[i] / $0 } ?? src[i] * fscale
            out[i] = (x - m[ch]) / s[ch]
        }
    }
    return Image(width: image.width, height: image.height, channels: c, layout: image.layout, pixels: .float32(out))
}

/// The most pixels an operation may produce: the decoder's default limit
/// (`DecodeOptions.defaultMaxPixels`), so that a small, very long image (1,000,000 × 2, a few KB
/// of PNG) cannot be resized by the short side (`resize_short: 224`: 112,000,000 × 224) into
/// tens of GB.
public let maxOutputPixels = DecodeOptions.defaultMaxPixels

/// - Throws: `ImageError.invalidArgument` when `width × height` is over `maxOutputPixels`, naming
///   the operation and the input's size.
func checkOutputPixels(width: Int, height: Int, of image: Image, op: String) throws {
    let (n, overflow) = width.multipliedReportingOverflow(by: height)
    if overflow || n > maxOutputPixels {
        throw ImageError.invalidArgument("\(op): the \(image.width)x\(image.height) image would become \(width)x\(height), over the limit of \(maxOutputPixels) pixels")
    }
}
