import Foundation
import RAMImage
import XCTest

/// The files under Resources/ were made by make_test_images.py with Pillow; `X.rgb` is PIL's
/// `Image.open(X).convert("RGB")` (see the script for the one documented exception).
func resource(_ name: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/\(name)")
}

func resourceBytes(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: resource(name)))
}

/// A smooth RGB test pattern, `[h, w, 3]`.
func pattern(width: Int, height: Int) -> Image {
    var b = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
        for x in 0..<width {
            b[(y * width + x) * 3] = UInt8((x * 255) / max(width - 1, 1))
            b[(y * width + x) * 3 + 1] = UInt8((y * 255) / max(height - 1, 1))
            b[(y * width + x) * 3 + 2] = UInt8(((x + y) * 7) % 256)
        }
    }
    return Image(width: width, height: height, channels: 3, bytes: b)
}

func temporaryFile(_ name: String, _ contents: [UInt8]) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ramimage-tests-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try Data(contents).write(to: url)
    return url
}

/// CRC-32 (PNG chunks), for hand-made PNG headers.
func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
    return ~c
}

final class DecodeTests: XCTestCase {
    func assertMatchesPIL(_ name: String, mode: String, width: Int, height: Int,
                          file: StaticString = #filePath, line: UInt = #line) throws {
        let (img, info) = try decodeImageWithInfo(resourceBytes(name), file: name)
        XCTAssertEqual(info.mode, mode, name, file: file, line: line)
        XCTAssertEqual([img.width, img.height, img.channels], [width, height, 3], name, file: file, line: line)
        let expected = try resourceBytes(name + ".rgb")
        let d = byteDiff(img.bytes ?? [], expected)
        XCTAssertEqual(d.count, 0, "\(name): \(d.count) values differ from PIL (max \(d.max))", file: file, line: line)
    }

    func testCMYKJPEGConvertsAsPIL() throws {
        try assertMatchesPIL("cmyk.jpg", mode: "CMYK", width: 16, height: 12)
    }

    func testPalettePNGWithTransparencyDropsAlpha() throws {
        try assertMatchesPIL("palette_trns.png", mode: "P", width: 14, height: 10)
    }

    func testGrayAlphaPNGReplicatesGrayAndDropsAlpha() throws {
        try assertMatchesPIL("gray_alpha.png", mode: "LA", width: 11, height: 9)
    }

    func testTwoBitGrayPNGScalesLikePIL() throws {
        try assertMatchesPIL("gray2bit.png", mode: "L", width: 9, height: 5)
        // 2-bit levels 0..3 become 0, 85, 170, 255
        let img = try decodeImage(resourceBytes("gray2bit.png"))
        XCTAssertTrue(Set(img.bytes ?? []).isSubset(of: [0, 85, 170, 255]))
    }

    func testSixteenBitRGBPNGTakesTheHighByteLikePIL() throws {
        try assertMatchesPIL("rgb16.png", mode: "RGB", width: 7, height: 6)
    }

    /// PIL clips 16-bit gray (mode I;16) to white in convert("RGB"); we scale by the high byte.
    func testSixteenBitGrayPNGIsScaledNotClipped() throws {
        let (img, info) = try decodeImageWithInfo(resourceBytes("gray16.png"))
        XCTAssertEqual(info.mode, "I;16")
        XCTAssertEqual(info.bitDepth, 16)
        // gray16.png holds v = 811·i + 37 for i = 0..<80; we expect v >> 8, replicated.
        let bytes = img.bytes ?? []
        for i in 0..<80 {
            let v = 811 * i + 37
            XCTAssertEqual(Int(bytes[i * 3]), v >> 8, "pixel \(i)")
            XCTAssertEqual(bytes[i * 3], bytes[i * 3 + 1])
            XCTAssertEqual(bytes[i * 3], bytes[i * 3 + 2])
        }
        XCTAssertEqual(bytes, try resourceBytes("gray16.png.rgb"))
    }

    func testProgressiveJPEG() throws {
        try assertMatchesPIL("progressive.jpg", mode: "RGB", width: 24, height: 20)
    }

    func testEXIFOrientation6BothModes() throws {
        let bytes = try resourceBytes("orient6.jpg")
        // as stored (reference behaviour)
        let (stored, info) = try decodeImageWithInfo(bytes, options: DecodeOptions(exifTranspose: false))
        XCTAssertEqual(info.orientation, 6)
        XCTAssertEqual([stored.width, stored.height], [10, 6])
        XCTAssertEqual(stored.bytes, try resourceBytes("orient6.jpg.rgb"))
        // as shown (default): rotated 90° clockwise, like PIL's ImageOps.exif_transpose
        let shown = try decodeImage(bytes)
        XCTAssertEqual([shown.width, shown.height], [6, 10])
        XCTAssertEqual(shown.bytes, try resourceBytes("orient6.jpg.transposed.rgb"))
        // the stored image's bottom-left pixel is the shown image's top-left one
        let s = stored.bytes ?? [], t = shown.bytes ?? []
        XCTAssertEqual(Array(t[0..<3]), Array(s[(5 * 10) * 3..<(5 * 10) * 3 + 3]))
    }

    func testEveryOrientationByHand() throws {
        // 3 wide, 2 high, one channel: a b c / d e f
        let img = Image(width: 3, height: 2, channels: 1, bytes: [1, 2, 3, 4, 5, 6])
        let expected: [Int: (Int, Int, [UInt8])] = [
            1: (3, 2, [1, 2, 3, 4, 5, 6]),
            2: (3, 2, [3, 2, 1, 6, 5, 4]),       // mirror left-right
            3: (3, 2, [6, 5, 4, 3, 2, 1]),       // rotate 180
            4: (3, 2, [4, 5, 6, 1, 2, 3]),       // mirror top-bottom
            5: (2, 3, [1, 4, 2, 5, 3, 6]),       // transpose
            6: (2, 3, [4, 1, 5, 2, 6, 3]),       // rotate 90 clockwise
            7: (2, 3, [6, 3, 5, 2, 4, 1]),       // transverse
            8: (2, 3, [3, 6, 2, 5, 1, 4]),       // rotate 90 counter-clockwise
        ]
        for (o, (w, h, px)) in expected {
            let out = try applyOrientation(img, o)
            XCTAssertEqual([out.width, out.height], [w, h], "orientation \(o)")
            XCTAssertEqual(out.bytes, px, "orientation \(o)")
        }
        XCTAssertThrowsError(try applyOrientation(img, 9))
    }

    func testEXIFParserReadsBothByteOrders() {
        // II: little endian, IFD at 8, one entry: tag 0x0112 SHORT count 1 value 8
        let le: [UInt8] = [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0]
        XCTAssertEqual(exifOrientation(le), 8)
        let be: [UInt8] = [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 3, 0, 0, 0, 0, 0, 0]
        XCTAssertEqual(exifOrientation(be), 3)
        XCTAssertEqual(exifOrientation(Array(le.prefix(12))), 1, "cut EXIF block: orientation 1, no crash")
        XCTAssertEqual(exifOrientation([1, 2, 3]), 1)
    }

    func testInterlacedAndPlainPNGRoundTrip() throws {
        let img = pattern(width: 13, height: 11)
        for interlace in [false, true] {
            let png = try encodePNG(rows: img.bytes ?? [], width: 13, height: 11, colorType: .rgb, bitDepth: 8,
                                    interlace: interlace)
            XCTAssertEqual(try decodeImage(png), img, "interlace \(interlace)")
        }
        // RGBA: alpha dropped, not composited
        var rgba = [UInt8]()
        var expectedRGB = [UInt8]()
        for i in 0..<(4 * 3) {
            let r = UInt8(i * 20), g = UInt8(200 - i * 10), a = UInt8(i * 21)
            rgba += [r, g, 7, a]
            expectedRGB += [r, g, 7]
        }
        let png = try encodePNG(rows: rgba, width: 4, height: 3, colorType: .rgba, bitDepth: 8)
        let out = try decodeImage(png)
        XCTAssertEqual(out.bytes, expectedRGB)
    }

    func testTruncatedJPEGIsAClearError() throws {
        let jpeg = try encodeJPEG(pattern(width: 64, height: 48), quality: 90)
        let cut = Array(jpeg.prefix(jpeg.count * 6 / 10))
        XCTAssertThrowsError(try decodeImage(cut, file: "cut.jpg")) { error in
            guard case ImageError.truncated(let f, _) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(f, "cut.jpg")
            XCTAssertTrue("\(error)".contains("cut.jpg"))
            XCTAssertTrue("\(error)".contains("truncated"))
        }
        // cut inside the header, and a cut progressive file
        XCTAssertThrowsError(try decodeImage(Array(jpeg.prefix(40)), file: "head.jpg")) { error in
            guard case ImageError.truncated = error else { return XCTFail("got \(error)") }
        }
        let prog = try encodeJPEG(pattern(width: 64, height: 48), quality: 90, progressive: true)
        XCTAssertThrowsError(try decodeImage(Array(prog.prefix(prog.count / 2)), file: "prog.jpg")) { error in
            guard case ImageError.truncated = error else { return XCTFail("got \(error)") }
        }
        // the complete file decodes; without its EOI marker it is truncated (PIL agrees:
        // "image file is truncated")
        XCTAssertNoThrow(try decodeImage(jpeg))
        XCTAssertThrowsError(try decodeImage(Array(jpeg.dropLast(2))))
    }

    func testTruncatedPNGIsAClearError() throws {
        let png = try encodePNG(rows: pattern(width: 40, height: 30).bytes ?? [], width: 40, height: 30,
                                colorType: .rgb, bitDepth: 8)
        XCTAssertThrowsError(try decodeImage(Array(png.prefix(png.count / 2)), file: "cut.png")) { error in
            guard case ImageError.truncated(let f, _) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(f, "cut.png")
        }
    }

    func testZeroByteFile() throws {
        let url = try temporaryFile("empty.jpg", [])
        XCTAssertThrowsError(try decodeImage(contentsOf: url)) { error in
            XCTAssertEqual(error as? ImageError, .emptyFile(file: url.path))
            XCTAssertTrue("\(error)".contains("empty.jpg"))
        }
    }

    func testTextFileNamedJPG() throws {
        let url = try temporaryFile("notes.jpg", Array("hello, this is not a photo\n".utf8))
        XCTAssertThrowsError(try decodeImage(contentsOf: url)) { error in
            guard case ImageError.unknownFormat(let f, let detail) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(f, url.path)
            XCTAssertTrue(detail.contains("hello, this is n"), detail)
        }
    }

    func testOtherFormatsAndGarbageAreClearErrors() throws {
        XCTAssertThrowsError(try decodeImage(Array("GIF89a....".utf8), file: "a.gif")) { error in
            guard case ImageError.unknownFormat(_, let d) = error else { return XCTFail("got \(error)") }
            XCTAssertTrue(d.contains("GIF"))
        }
        // a JPEG signature followed by garbage: the decoder's own message, no crash
        var garbage: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0]
        for i in 0..<500 { garbage.append(UInt8((i * 73 + 11) % 251)) }
        XCTAssertThrowsError(try decodeImage(garbage, file: "garbage.jpg")) { error in
            XCTAssertTrue("\(error)".contains("garbage.jpg"), "\(error)")
        }
        // a PNG signature with a broken IHDR
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]
        png += Array("IHDR".utf8) + [UInt8](repeating: 0xAB, count: 17)
        XCTAssertThrowsError(try decodeImage(png, file: "broken.png")) { error in
            XCTAssertTrue("\(error)".contains("broken.png"), "\(error)")
        }
        XCTAssertThrowsError(try decodeImage(contentsOf: URL(fileURLWithPath: "/nonexistent/x.jpg"))) { error in
            guard case ImageError.unreadable(let f, _) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(f, "/nonexistent/x.jpg")
        }
    }

    func testPixelLimit() throws {
        let jpeg = try encodeJPEG(pattern(width: 100, height: 80), quality: 80)
        XCTAssertNoThrow(try decodeImage(jpeg, options: DecodeOptions(maxPixels: 8000)))
        XCTAssertThrowsError(try decodeImage(jpeg, file: "big.jpg", options: DecodeOptions(maxPixels: 7999))) { error in
            XCTAssertEqual(error as? ImageError, .tooManyPixels(file: "big.jpg", width: 100, height: 80, limit: 7999))
        }
        XCTAssertNoThrow(try decodeImage(jpeg, options: DecodeOptions(maxPixels: nil)))
        // A bomb: a JPEG whose SOF claims 60000 x 60000 (3.6 gigapixels) is refused from the
        // header at the default limit, before any pixel memory is allocated.
        var bomb = jpeg
        var i = 2
        while i + 9 < bomb.count {
            if bomb[i] == 0xFF && (bomb[i + 1] == 0xC0 || bomb[i + 1] == 0xC2) {
                bomb[i + 5] = 0xEA; bomb[i + 6] = 0x60; bomb[i + 7] = 0xEA; bomb[i + 8] = 0x60
                break
            }
            i += 1
        }
        XCTAssertThrowsError(try decodeImage(bomb, file: "bomb.jpg")) { error in
            XCTAssertEqual(error as? ImageError, .tooManyPixels(file: "bomb.jpg", width: 60000, height: 60000,
                                                                limit: DecodeOptions.defaultMaxPixels))
        }
        // the same for PNG: an IHDR of 50000 x 50000 with a valid CRC
        var ihdr = Array("IHDR".utf8)
        for v in [50000, 50000] { ihdr += [UInt8(v >> 24), UInt8((v >> 16) & 255), UInt8((v >> 8) & 255), UInt8(v & 255)] }
        ihdr += [8, 2, 0, 0, 0]
        let crc = crc32(ihdr)
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + ihdr
        png += [UInt8(crc >> 24), UInt8((crc >> 16) & 255), UInt8((crc >> 8) & 255), UInt8(crc & 255)]
        XCTAssertThrowsError(try decodeImage(png, file: "bomb.png")) { error in
            XCTAssertEqual(error as? ImageError, .tooManyPixels(file: "bomb.png", width: 50000, height: 50000,
                                                                limit: DecodeOptions.defaultMaxPixels))
        }
        // 0xFFFFFFFF x 0xFFFFFFFF (beyond PNG's 2^31 - 1): refused without overflowing
        var huge = png
        for k in 16..<24 { huge[k] = 0xFF }
        XCTAssertThrowsError(try decodeImage(huge, file: "huge.png")) { error in
            guard case ImageError.tooManyPixels = error else { return XCTFail("got \(error)") }
        }
    }

    /// YCCK (Adobe transform 2) decodes to the same pixels as plain CMYK of the same ink, give or
    /// take JPEG's rounding; both go through Pillow's CMYK conversion. Flat images: YCCK
    /// subsamples its chroma, so edges would differ.
    func testYCCKJPEGDecodesLikeCMYK() throws {
        // stored (Adobe-inverted) values and the R, G, B that Pillow's cmyk2rgb gives for them:
        // ink = 255 - stored; nk = 255 - K_ink; out = nk - round(ink·nk/255)
        let cases: [([UInt8], [Int])] = [
            ([40, 200, 90, 230], [36, 180, 81]),     // nk = 230: 230-194, 230-50, 230-149
            ([255, 255, 255, 255], [255, 255, 255]), // no ink: white
            ([128, 64, 0, 100], [50, 25, 0]),        // nk = 100: 100-50, 100-75, 100-100
        ]
        for (stored, rgb) in cases {
            let img = Image(width: 16, height: 16, channels: 4, bytes: Array([[UInt8]](repeating: stored, count: 256).joined()))
            let a = try decodeImageWithInfo(encodeJPEG(img, quality: 100))
            let b = try decodeImageWithInfo(encodeJPEG(img, quality: 100, ycck: true))
            XCTAssertEqual(a.info.mode, "CMYK")
            XCTAssertEqual(b.info.mode, "CMYK")
            XCTAssertLessThanOrEqual(byteDiff(a.image.bytes ?? [], b.image.bytes ?? []).max, 3, "\(stored)")
            for ch in 0..<3 {
                XCTAssertLessThanOrEqual(abs(Int(a.image.bytes?[ch] ?? 0) - rgb[ch]), 2, "\(stored) channel \(ch)")
                XCTAssertLessThanOrEqual(abs(Int(b.image.bytes?[ch] ?? 0) - rgb[ch]), 3, "YCCK \(stored) channel \(ch)")
            }
        }
    }

    func testGrayAndCMYKRoundTripThroughOwnEncoder() throws {
        // gray JPEG: replicated into 3 equal channels
        var g = [UInt8](repeating: 0, count: 16 * 8)
        for i in 0..<g.count { g[i] = UInt8(i * 2) }
        let gj = try encodeJPEG(Image(width: 16, height: 8, channels: 1, bytes: g), quality: 100)
        let (gi, info) = try decodeImageWithInfo(gj)
        XCTAssertEqual(info.mode, "L")
        let b = gi.bytes ?? []
        for p in 0..<(16 * 8) {
            XCTAssertEqual(b[p * 3], b[p * 3 + 1]); XCTAssertEqual(b[p * 3], b[p * 3 + 2])
            XCTAssertLessThanOrEqual(abs(Int(b[p * 3]) - Int(g[p])), 2)
        }
    }
}

/// Corrupted files never crash: 400 deterministic mutations (byte flips, cuts, duplicated
/// ranges) of small JPEGs and PNGs each either decode to a well-formed RGB image or throw an
/// `ImageError` naming the file.
final class CorruptionTests: XCTestCase {
    func testMutatedFilesDecodeOrThrowCleanly() throws {
        let base = pattern(width: 24, height: 17)
        let seeds: [[UInt8]] = [
            try encodeJPEG(base, quality: 80),
            try encodeJPEG(base, quality: 80, progressive: true),
            try encodePNG(rows: base.bytes ?? [], width: 24, height: 17, colorType: .rgb, bitDepth: 8),
            try encodePNG(rows: base.bytes ?? [], width: 24, height: 17, colorType: .rgb, bitDepth: 8, interlace: true),
        ]
        var state: UInt64 = 0x5EED
        func rand(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(max(n, 1)))
        }
        var decoded = 0, failed = 0
        for i in 0..<400 {
            var b = seeds[i % seeds.count]
            switch i % 4 {
            case 0: for _ in 0..<(1 + rand(8)) { b[rand(b.count)] = UInt8(rand(256)) }
            case 1: b = Array(b.prefix(rand(b.count)))
            case 2: let s = rand(b.count), e = min(b.count, s + rand(64)); b.insert(contentsOf: b[s..<e], at: rand(b.count))
            default: b[8 + rand(b.count - 8)] ^= UInt8(1 << rand(8))
            }
            do {
                let img = try decodeImage(b, file: "mutant\(i)")
                XCTAssertEqual(img.channels, 3)
                XCTAssertEqual(img.bytes?.count, img.width * img.height * 3)
                decoded += 1
            } catch let e as ImageError {
                XCTAssertTrue("\(e)".contains("mutant\(i)"), "\(e)")
                failed += 1
            }
        }
        XCTAssertEqual(decoded + failed, 400)
        print("mutations: \(decoded) decoded, \(failed) refused with an error")
    }
}
