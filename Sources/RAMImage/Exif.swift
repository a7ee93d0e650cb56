/// EXIF orientation: reading the tag and applying it.

/// The orientation tag (0x0112) of an EXIF block (the TIFF structure after `"Exif\0\0"`);
/// 1 when absent or unreadable (a broken EXIF block never fails a decode).
public func exifOrientation(_ tiff: [UInt8]) -> Int {
    guard tiff.count >= 8 else { return 1 }
    let little: Bool
    if tiff[0] == 0x49 && tiff[1] == 0x49 { little = true }
    else if tiff[0] == 0x4D && tiff[1] == 0x4D { little = false }
    else { return 1 }
    func u16(_ o: Int) -> Int? {
        guard o >= 0, o + 2 <= tiff.count else { return nil }
        return little ? Int(tiff[o]) | Int(tiff[o + 1]) << 8 : Int(tiff[o]) << 8 | Int(tiff[o + 1])
    }
    func u32(_ o: Int) -> Int? {
        guard let a = u16(o), let b = u16(o + 2) else { return nil }
        return little ? a | b << 16 : a << 16 | b
    }
    guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd) else { return 1 }
    for i in 0..<count {
        let e = ifd + 2 + i * 12
        guard let tag = u16(e) else { return 1 }
        if tag == 0x0112 {
            guard let type = u16(e + 2) else { return 1 }
            let value: Int?
            switch type {
            case 3: value = u16(e + 8)       // SHORT (the standard type)
            case 4: value = u32(e + 8)       // LONG (seen in the wild)
            default: value = nil
            }
            if let v = value, (1...8).contains(v) { return v }
            return 1
        }
    }
    return 1
}

/// Applies an EXIF orientation (1–8) the way PIL's `ImageOps.exif_transpose` does:
/// 2 FLIP_LEFT_RIGHT, 3 ROTATE_180, 4 FLIP_TOP_BOTTOM, 5 TRANSPOSE, 6 ROTATE_270 (90° clockwise),
/// 7 TRANSVERSE, 8 ROTATE_90 (90° counter-clockwise). Orientations 5–8 swap width and height.
/// - Parameter image: `[H, W, C]` uint8.
public func applyOrientation(_ image: Image, _ orientation: Int) throws -> Image {
    let src = try image.requireBytesHWC("EXIF orientation")
    let h = image.height, w = image.width, c = image.channels
    guard (1...8).contains(orientation) else {
        throw ImageError.invalidArgument("EXIF orientation must be 1...8, got \(orientation)")
    }
    if orientation == 1 { return image }
    let swap = orientation >= 5
    let ow = swap ? h : w, oh = swap ? w : h
    var dst = [UInt8](repeating: 0, count: src.count)
    src.withUnsafeBufferPointer { s in
        dst.withUnsafeMutableBufferPointer { d in
            for r in 0..<oh {
                for col in 0..<ow {
                    // (sy, sx): the source pixel of output (r, col)
                    let sy: Int, sx: Int
                    switch orientation {
                    case 2: sy = r; sx = w - 1 - col
                    case 3: sy = h - 1 - r; sx = w - 1 - col
                    case 4: sy = h - 1 - r; sx = col
                    case 5: sy = col; sx = r
                    case 6: sy = h - 1 - col; sx = r
                    case 7: sy = h - 1 - col; sx = w - 1 - r
                    default: sy = col; sx = w - 1 - r   // 8
                    }
                    let si = (sy * w + sx) * c, di = (r * ow + col) * c
                    for k in 0..<c { d[di + k] = s[si + k] }
                }
            }
        }
    }
    return Image(width: ow, height: oh, channels: c, bytes: dst)
}
