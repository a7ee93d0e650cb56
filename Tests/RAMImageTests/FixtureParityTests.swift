import Foundation
import RAMImage
import XCTest

/// Parity with `../shared/fixtures/preprocess.safetensors` (PIL / cv2 outputs of the reference
/// environment) and the manifest's decoded-RGB hashes.
final class FixtureParityTests: XCTestCase {
    struct Entry { let name: String; let file: String; let sha: String; let width: Int; let height: Int }

    func manifestImages() throws -> [Entry] {
        let url = try requireShared("fixtures/manifest.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        let images = json?["images"] as? [String: [String: Any]] ?? [:]
        let entries = images.compactMap { (k, v) -> Entry? in
            guard let f = v["file"] as? String, let s = v["rgb_sha256"] as? String,
                  let w = v["width"] as? Int, let h = v["height"] as? Int else { return nil }
            return Entry(name: k, file: f, sha: s, width: w, height: h)
        }.sorted { $0.name < $1.name }
        XCTAssertEqual(entries.count, 7, "manifest lists 7 images")
        return entries
    }

    /// Decoded as the reference does (no EXIF transpose), hashed like numpy's `tobytes()`.
    func decodeReference(_ e: Entry) throws -> Image {
        let url = try requireShared("images/\(e.file)")
        return try decodeImage(contentsOf: url, options: DecodeOptions(exifTranspose: false))
    }

    func testDecodedRGBHashesMatchManifest() throws {
        for e in try manifestImages() {
            let img = try decodeReference(e)
            XCTAssertEqual(img.width, e.width, e.name)
            XCTAssertEqual(img.height, e.height, e.name)
            XCTAssertEqual(img.channels, 3)
            XCTAssertEqual(sha256Hex(img.bytes ?? []), e.sha, "\(e.name): decoded RGB differs from PIL's")
        }
    }

    func testAlphaPNGEqualsWhlDemoPixels() throws {
        let a = try decodeImage(contentsOf: requireShared("images/alpha.png"))
        let b = try decodeImage(contentsOf: requireShared("images/whl_demo.jpg"))
        XCTAssertEqual(a, b)
    }

    func testPILResizesEqualFixture() throws {
        let st = try TestSafetensors(requireShared("fixtures/preprocess.safetensors"))
        for e in try manifestImages() {
            let img = try decodeReference(e)
            let cases: [(String, Int, ResampleFilter)] = [
                ("pil_bilinear_384", 384, .bilinear), ("pil_bicubic_384", 384, .bicubic), ("pil_bilinear_224", 224, .bilinear),
            ]
            for (key, s, f) in cases {
                let expected = try st.uint8("\(e.name).\(key)")
                XCTAssertEqual(expected.shape, [s, s, 3])
                let out = try resizePIL(img, width: s, height: s, filter: f)
                let d = byteDiff(out.bytes ?? [], expected.values)
                XCTAssertEqual(d.count, 0, "\(e.name).\(key): \(d.count) values differ, max \(d.max)")
            }
        }
    }

    func testShortSideResizeAndCenterCropEqualFixture() throws {
        let st = try TestSafetensors(requireShared("fixtures/preprocess.safetensors"))
        for e in try manifestImages() {
            let img = try decodeReference(e)
            let size = shortSideSize(width: img.width, height: img.height, short: 384)
            // PIL (bilinear): exact.
            let pil = try centerCrop(resizePIL(img, width: size.width, height: size.height, filter: .bilinear),
                                     width: 384, height: 384)
            let pe = try st.uint8("\(e.name).pil_short384_crop384")
            let dp = byteDiff(pil.bytes ?? [], pe.values)
            XCTAssertEqual(dp.count, 0, "\(e.name) pil_short384_crop384: \(dp.count) differ, max \(dp.max)")
            // cv2 INTER_LINEAR: within 1 (OpenCV's SIMD and scalar paths round differently).
            let cv = try centerCrop(resizeCV2(img, width: size.width, height: size.height, interpolation: .bilinear),
                                    width: 384, height: 384)
            let ce = try st.uint8("\(e.name).cv2_short384_crop384")
            let dc = byteDiff(cv.bytes ?? [], ce.values)
            XCTAssertLessThanOrEqual(dc.max, 1, "\(e.name) cv2_short384_crop384: max diff \(dc.max)")
            print("\(e.name): cv2 resize+crop differs from the fixture in \(dc.count) of \(ce.values.count) values (max \(dc.max))")
        }
    }
}
