// Implementation-only: the C glue is private to RAMImage (no C type appears in a public or stored
// declaration), so modules and plugins built against RAMImage do not need CImageGlue's headers.
@_implementationOnly import CImageGlue
import Foundation

/// Encodes an 8-bit HWC image as JPEG (libjpeg-turbo). 1 channel is written as grayscale,
/// 3 as YCbCr, 4 as Adobe CMYK, or YCCK with `ycck: true` (the values are written as given:
/// Adobe files store inverted ink).
/// - Parameters:
///   - quality: 1...100. - progressive: write a progressive JPEG.
///   - exif: a TIFF-structured EXIF block (written as APP1 `"Exif\0\0" + exif`), or nil.
/// - Throws: `ImageError.invalidArgument` for other layouts / channel counts, `.corrupt` when
///   libjpeg fails.
public func encodeJPEG(_ image: Image, quality: Int = 95, progressive: Bool = false,
                       exif: [UInt8]? = nil, ycck: Bool = false) throws -> [UInt8] {
    let px = try image.requireBytesHWC("encodeJPEG")
    let color: Int32
    switch image.channels {
    case 1: color = Int32(RAMIMG_GRAY)
    case 3: color = Int32(RAMIMG_RGB)
    case 4: color = ycck ? Int32(RAMIMG_YCCK) : Int32(RAMIMG_CMYK)
    default: throw ImageError.invalidArgument("encodeJPEG: 1, 3 or 4 channels expected, got \(image.channels)")
    }
    guard (1...100).contains(quality) else {
        throw ImageError.invalidArgument("encodeJPEG: quality must be 1...100, got \(quality)")
    }
    var out: UnsafeMutablePointer<UInt8>?
    var size = 0
    var message = [CChar](repeating: 0, count: 200)
    let exifBytes = exif ?? []
    let code = px.withUnsafeBufferPointer { p in
        exifBytes.withUnsafeBufferPointer { e in
            ramimg_encode_jpeg(p.baseAddress, Int32(image.width), Int32(image.height), color, Int32(quality),
                               progressive ? 1 : 0, exif == nil ? nil : e.baseAddress, exifBytes.count,
                               &out, &size, &message, message.count)
        }
    }
    defer { ramimg_free_buffer(out) }
    guard code == Int32(RAMIMG_OK), let buffer = out else {
        throw ImageError.corrupt(file: "<encoder>", detail: "JPEG encoding failed: " + String(cString: message))
    }
    return Array(UnsafeBufferPointer(start: buffer, count: size))
}

/// PNG colour types (the PNG specification's numbers).
public enum PNGColorType: Int32, Sendable {
    case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6
}

/// Encodes raw PNG rows (libpng): `rows` holds `height` rows packed exactly as PNG stores them
/// (bit depths below 8 packed MSB first, 16-bit big endian), without filter bytes.
/// - Parameters:
///   - palette: RGB triples for `.palette`; `transparency`: one alpha per palette entry (tRNS).
///   - interlace: write Adam7.
/// - Throws: `ImageError.corrupt` when libpng rejects the parameters.
public func encodePNG(rows: [UInt8], width: Int, height: Int, colorType: PNGColorType, bitDepth: Int,
                      interlace: Bool = false, palette: [UInt8] = [], transparency: [UInt8] = []) throws -> [UInt8] {
    let channels: Int
    switch colorType {
    case .gray, .palette: channels = 1
    case .grayAlpha: channels = 2
    case .rgb: channels = 3
    case .rgba: channels = 4
    }
    let stride = (width * channels * bitDepth + 7) / 8
    guard rows.count == stride * height else {
        throw ImageError.invalidArgument("encodePNG: expected \(stride * height) bytes of rows, got \(rows.count)")
    }
    var out: UnsafeMutablePointer<UInt8>?
    var size = 0
    var message = [CChar](repeating: 0, count: 200)
    let code = rows.withUnsafeBufferPointer { r in
        palette.withUnsafeBufferPointer { p in
            transparency.withUnsafeBufferPointer { t in
                ramimg_encode_png(r.baseAddress, Int32(width), Int32(height), colorType.rawValue, Int32(bitDepth),
                                  interlace ? 1 : 0, p.baseAddress, Int32(palette.count / 3),
                                  transparency.isEmpty ? nil : t.baseAddress, Int32(transparency.count),
                                  &out, &size, &message, message.count)
            }
        }
    }
    defer { ramimg_free_buffer(out) }
    guard code == Int32(RAMIMG_OK), let buffer = out else {
        throw ImageError.corrupt(file: "<encoder>", detail: "PNG encoding failed: " + String(cString: message))
    }
    return Array(UnsafeBufferPointer(start: buffer, count: size))
}
