// Implementation-only: the C glue is private to RAMImage (no C type appears in a public or stored
// declaration), so modules and plugins built against RAMImage do not need CImageGlue's headers.
@_implementationOnly import CImageGlue
import Foundation

/// How to decode an image file. Defaults are what a user wants; `exifTranspose = false`
/// reproduces the reference (recognize-anything / PaddleClas `Image.open(...).convert("RGB")`).
public struct DecodeOptions: Sendable, Equatable {
    /// PIL's `DecompressionBombError` threshold (2 × `Image.MAX_IMAGE_PIXELS` = 2 × 89,478,485).
    public static let defaultMaxPixels = 178_956_970

    /// Rotate / mirror by the EXIF orientation tag (1–8), as PIL's `ImageOps.exif_transpose`
    /// does. Phone photos are stored sideways with orientation 6 or 8.
    public var exifTranspose: Bool
    /// Refuse images with more than this many pixels (`width × height`) before allocating
    /// anything; `nil` disables the guard.
    public var maxPixels: Int?

    public init(exifTranspose: Bool = true, maxPixels: Int? = DecodeOptions.defaultMaxPixels) {
        self.exifTranspose = exifTranspose
        self.maxPixels = maxPixels
    }
}

/// What a file held before conversion to RGB (for reports and tests).
public struct DecodedInfo: Sendable, Equatable {
    public enum Format: String, Sendable { case jpeg, png }
    public var format: Format
    /// The colour model of the file: PIL's mode names ("L", "LA", "RGB", "RGBA", "CMYK", "P").
    public var mode: String
    /// Bits per sample in the file (PNG 1–16; JPEG 8).
    public var bitDepth: Int
    /// The EXIF orientation tag (1–8), 1 when absent.
    public var orientation: Int
}

/// Decodes JPEG (baseline, progressive; gray, YCbCr, RGB, CMYK, YCCK) and PNG (every colour type,
/// bit depth and interlace) to 8-bit RGB, HWC, exactly as PIL's `Image.open(f).convert("RGB")`:
/// alpha dropped (not composited), gray replicated, palette looked up, CMYK converted with
/// Pillow's `cmyk2rgb` (Adobe-inverted CMYK, `r = 255 - k - c·(255-k)/255` rounded as Pillow does).
///
/// Deliberate difference from PIL: a 16-bit grayscale PNG (PIL mode `I;16`) is clipped to white
/// by PIL's `convert("RGB")`; here it is scaled to 8 bits by its high byte, which is what PIL
/// itself does for 16-bit RGB / RGBA / gray+alpha PNGs.
///
/// - Returns: an image `[height, width, 3]` uint8.
/// - Throws: `ImageError` naming `file`: `.emptyFile`, `.unknownFormat` (e.g. a text file named
///   `.jpg`), `.truncated`, `.corrupt`, `.tooManyPixels` (checked from the header, before any
///   pixel memory is allocated).
public func decodeImage(_ bytes: [UInt8], file: String = "<memory>",
                        options: DecodeOptions = DecodeOptions()) throws -> Image {
    try decodeImageWithInfo(bytes, file: file, options: options).image
}

/// Reads and decodes a file; see `decodeImage(_:file:options:)`.
public func decodeImage(contentsOf url: URL, options: DecodeOptions = DecodeOptions()) throws -> Image {
    try decodeImage(readImageFile(url), file: url.path, options: options)
}

/// Reads a file's bytes, with errors that name it.
public func readImageFile(_ url: URL) throws -> [UInt8] {
    let data: Data
    do {
        data = try Data(contentsOf: url)
    } catch {
        throw ImageError.unreadable(file: url.path, detail: (error as NSError).localizedDescription)
    }
    return [UInt8](data)
}

/// `decodeImage` plus what the file held.
public func decodeImageWithInfo(_ bytes: [UInt8], file: String = "<memory>",
                                options: DecodeOptions = DecodeOptions()) throws -> (image: Image, info: DecodedInfo) {
    guard !bytes.isEmpty else { throw ImageError.emptyFile(file: file) }
    let format = try sniffFormat(bytes, file: file)
    var result = ramimg_result()
    let limit = Int64(options.maxPixels ?? 0)
    // A JPEG decoding to RGB is read straight into the Swift array (no second full-size buffer).
    var direct: [UInt8]? = nil
    let code: Int32 = bytes.withUnsafeBufferPointer { buf in
        switch format {
        case .jpeg:
            var handle: OpaquePointer? = nil
            let open = ramimg_jpeg_open(buf.baseAddress, buf.count, limit, &result, &handle)
            guard open == Int32(RAMIMG_OK), let h = handle else { return open }
            let n = Int(result.width) * Int(result.height) * Int(result.channels)
            if result.channels == 3 {
                var code = Int32(RAMIMG_OK)
                direct = [UInt8](unsafeUninitializedCapacity: n) { dst, count in
                    code = ramimg_jpeg_read(h, dst.baseAddress, n, &result)
                    count = n   // UInt8 is trivial; the array is dropped when code != OK
                }
                return code
            }
            let pixels = UnsafeMutablePointer<UInt8>.allocate(capacity: max(n, 1))
            let code = ramimg_jpeg_read(h, pixels, n, &result)
            if code == Int32(RAMIMG_OK) { result.pixels = pixels } else { pixels.deallocate() }
            return code
        case .png: return ramimg_decode_png(buf.baseAddress, buf.count, limit, &result)
        }
    }
    defer {
        // pixels from the two-step JPEG path were allocated in Swift; the rest by the C glue
        if format == .jpeg, let p = result.pixels {
            p.deallocate()
            result.pixels = nil
        }
        ramimg_free(&result)
    }
    let message = withUnsafeBytes(of: result.message) { raw -> String in
        let chars = raw.prefix { $0 != 0 }
        return String(decoding: chars, as: UTF8.self)
    }
    switch Int(code) {
    case Int(RAMIMG_OK): break
    case Int(RAMIMG_TOO_LARGE):
        throw ImageError.tooManyPixels(file: file, width: Int(result.width), height: Int(result.height),
                                       limit: options.maxPixels ?? 0)
    case Int(RAMIMG_TRUNCATED):
        throw ImageError.truncated(file: file, detail: message.isEmpty ? "premature end of data" : message)
    case Int(RAMIMG_NOMEM):
        throw ImageError.corrupt(file: file, detail: "out of memory (\(message))")
    default:
        throw ImageError.corrupt(file: file, detail: "\(format.rawValue.uppercased()): \(message)")
    }
    let w = Int(result.width), h = Int(result.height), c = Int(result.channels)
    let n = w * h
    let color = Int32(result.color)
    var rgb: [UInt8]
    if let d = direct {
        rgb = d
    } else if c == 3, let p = result.pixels {
        rgb = Array(UnsafeBufferPointer(start: p, count: n * 3))   // already RGB: one copy
    } else {
        guard let p = result.pixels else {
            throw ImageError.corrupt(file: file, detail: "the decoder returned no pixels")
        }
        rgb = convertToRGB(UnsafeBufferPointer(start: p, count: n * c), pixels: n, channels: c, color: color)
    }
    var orientation = 1
    if let exif = result.exif, result.exif_size > 0 {
        orientation = exifOrientation(Array(UnsafeBufferPointer(start: exif, count: Int(result.exif_size))))
    }
    let mode: String
    switch format {
    case .jpeg:
        mode = color == Int32(RAMIMG_GRAY) ? "L" : (color == Int32(RAMIMG_CMYK) ? "CMYK" : "RGB")
    case .png:
        switch result.png_color_type {
        case 0: mode = result.bit_depth == 16 ? "I;16" : (result.bit_depth == 1 ? "1" : "L")
        case 2: mode = "RGB"
        case 3: mode = "P"
        case 4: mode = "LA"
        default: mode = "RGBA"
        }
    }
    var image = Image(width: w, height: h, channels: 3, bytes: rgb)
    if options.exifTranspose && orientation != 1 {
        image = try applyOrientation(image, orientation)
    }
    let info = DecodedInfo(format: format, mode: mode, bitDepth: Int(result.bit_depth), orientation: orientation)
    return (image, info)
}

/// PIL's `convert("RGB")` of decoded samples: gray replicated, alpha dropped, CMYK converted.
private func convertToRGB(_ src: UnsafeBufferPointer<UInt8>, pixels n: Int, channels c: Int, color: Int32) -> [UInt8] {
    var rgb = [UInt8](repeating: 0, count: n * 3)
    rgb.withUnsafeMutableBufferPointer { dst in
        switch color {
        case Int32(RAMIMG_GRAY), Int32(RAMIMG_GRAYA):
            for i in 0..<n {
                let g = src[i * c]
                dst[i * 3] = g; dst[i * 3 + 1] = g; dst[i * 3 + 2] = g
            }
        case Int32(RAMIMG_CMYK):
            // libjpeg returns the stored values; Pillow reads CMYK JPEGs as "CMYK;I" (Adobe
            // polarity: stored = 255 - ink), then convert("RGB") (Convert.c cmyk2rgb) computes
            // nk = 255 - K; out = nk - round(C·nk / 255) with Pillow's MULDIV255 rounding.
            for i in 0..<n {
                let nk = Int(src[i * 4 + 3])          // 255 - K_ink = the stored K
                for ch in 0..<3 {
                    let ink = 255 - Int(src[i * 4 + ch])
                    let t = ink * nk + 128
                    let mul = ((t >> 8) + t) >> 8
                    dst[i * 3 + ch] = UInt8(clamping: nk - mul)
                }
            }
        default: // RGB / RGBA: drop alpha
            for i in 0..<n {
                dst[i * 3] = src[i * c]; dst[i * 3 + 1] = src[i * c + 1]; dst[i * 3 + 2] = src[i * c + 2]
            }
        }
    }
    return rgb
}

/// Identifies JPEG / PNG by their signatures; anything else is a clear error.
func sniffFormat(_ b: [UInt8], file: String) throws -> DecodedInfo.Format {
    if b.count >= 3, b[0] == 0xFF, b[1] == 0xD8, b[2] == 0xFF { return .jpeg }
    if b.count >= 8, b[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
    func starts(_ s: String) -> Bool { b.starts(with: Array(s.utf8)) }
    var what: String
    if starts("GIF8") { what = "looks like a GIF, which is not supported" }
    else if starts("BM") { what = "looks like a BMP, which is not supported" }
    else if starts("RIFF") && b.count >= 12 && Array(b[8..<12]) == Array("WEBP".utf8) {
        what = "looks like a WebP, which is not supported"
    } else if starts("II*\u{0}") || starts("MM\u{0}*") { what = "looks like a TIFF, which is not supported" }
    else if b.count >= 2 && b[0] == 0xFF && b[1] == 0xD8 { what = "a JPEG start marker without a following marker" }
    else {
        let head = b.prefix(16)
        let printable = head.allSatisfy { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        if printable {
            let text = String(decoding: head, as: UTF8.self)
                .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
            what = "it starts with the text \"\(text)\""
        } else {
            what = "it starts with bytes " + head.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
        }
    }
    throw ImageError.unknownFormat(file: file, detail: what + "; " + "\(b.count) bytes")
}
