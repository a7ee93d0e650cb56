import Foundation
import RAMImage
import XCTest

final class ResizeTests: XCTestCase {
    /// Resources/resize_cases.bin (made by make_test_images.py with Pillow 13): every PIL filter,
    /// up- and down-scaling, and both pass orders, equal pixel for pixel.
    func testEveryPILFilterEqualsPillow() throws {
        let data = try resourceBytes("resize_cases.bin")
        let src = Image(width: 19, height: 13, channels: 3, bytes: Array(data[0..<(19 * 13 * 3)]))
        var offset = 19 * 13 * 3
        let filters: [ResampleFilter] = [.nearest, .box, .bilinear, .hamming, .bicubic, .lanczos]
        let sizes = [(8, 8), (30, 20), (19, 5), (7, 25), (17, 2)]
        for f in filters {
            for (w, h) in sizes {
                let n = w * h * 3
                let expected = Array(data[offset..<(offset + n)])
                offset += n
                let out = try resizePIL(src, width: w, height: h, filter: f)
                let d = byteDiff(out.bytes ?? [], expected)
                XCTAssertEqual(d.count, 0, "\(f) \(w)x\(h): \(d.count) values differ (max \(d.max))")
            }
        }
        XCTAssertEqual(offset, data.count)
    }

    func testResizeByHand() throws {
        // 2x1 -> 1x1 bilinear: support 2 → both pixels weigh 1/2: (10 + 21) / 2 = 15.5 → 16
        let img = Image(width: 2, height: 1, channels: 1, bytes: [10, 21])
        XCTAssertEqual(try resizePIL(img, width: 1, height: 1, filter: .bilinear).bytes, [16])
        XCTAssertEqual(try resizePIL(img, width: 1, height: 1, filter: .box).bytes, [16])
        // same size: unchanged; bad sizes: errors
        XCTAssertEqual(try resizePIL(img, width: 2, height: 1, filter: .bicubic), img)
        XCTAssertThrowsError(try resizePIL(img, width: 0, height: 1, filter: .bilinear))
        XCTAssertThrowsError(try resizeCV2(img, width: 3, height: 0, interpolation: .bilinear))
        let f = try normalize(img, scale: 1, mean: [0], std: [1])
        XCTAssertThrowsError(try resizePIL(f, width: 1, height: 1, filter: .bilinear), "float images are refused")
    }

    /// A very long, small image (1,000,000 × 2) resized by its short side to 224 would be
    /// 112,000,000 × 224 (75 GB): refused before anything is allocated, by both backends.
    func testOutputOverThePixelLimitIsRefused() throws {
        let img = Image(width: 1_000_000, height: 2, channels: 3, bytes: [UInt8](repeating: 7, count: 6_000_000))
        let (w, h) = shortSideSize(width: img.width, height: img.height, short: 224)
        XCTAssertEqual(w, 112_000_000)
        XCTAssertEqual(h, 224)
        for op in ["pil", "cv2"] {
            XCTAssertThrowsError(op == "pil" ? try resizePIL(img, width: w, height: h, filter: .bilinear)
                                             : try resizeCV2(img, width: w, height: h, interpolation: .bilinear)) { e in
                XCTAssertEqual("\(e)", "ResizeImage (\(op)): the 1000000x2 image would become 112000000x224, over the limit of 178956970 pixels")
            }
        }
        // 1 pixel over the limit is refused before anything is allocated; a small output is not
        // (the limit itself is not tried: it would allocate 179 M pixels)
        XCTAssertThrowsError(try resizeCV2(Image(width: 1, height: 1, channels: 1, bytes: [1]), width: maxOutputPixels + 1, height: 1, interpolation: .nearest))
        XCTAssertEqual(try resizeCV2(Image(width: 1, height: 1, channels: 1, bytes: [5]), width: 3, height: 2, interpolation: .nearest).bytes, [5, 5, 5, 5, 5, 5])
    }

    func testCV2BilinearByHand() throws {
        // 4 -> 2 is OpenCV's exact 2x case (the 2x2 average): (0 + 10 + 1) / 2 ... per pair
        let img = Image(width: 4, height: 2, channels: 1, bytes: [0, 10, 20, 31, 2, 12, 22, 33])
        // (0 + 10 + 2 + 12 + 2) >> 2 = 26 >> 2 = 6; (20 + 31 + 22 + 33 + 2) >> 2 = 108 >> 2 = 27
        XCTAssertEqual(try resizeCV2(img, width: 2, height: 1, interpolation: .bilinear).bytes, [6, 27])
        // upscaling 2 -> 4 along x: source x = (dx + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25
        // weights (clamped at the borders): 0 | 0.75·a + 0.25·b | 0.25·a + 0.75·b | b
        let row = Image(width: 2, height: 1, channels: 1, bytes: [0, 200])
        XCTAssertEqual(try resizeCV2(row, width: 4, height: 1, interpolation: .bilinear).bytes, [0, 50, 150, 200])
        XCTAssertEqual(try resizeCV2(row, width: 4, height: 1, interpolation: .nearest).bytes, [0, 0, 200, 200])
    }
}
