import Foundation
import RAMImage
import XCTest

/// `cv2.resize` parity: Resources/cv2_resize_cases.bin is written by
/// scripts/make_cv2_resize_cases.py with opencv-python-headless 5.0 (IPP off, i.e. OpenCV's own
/// resize.cpp code): records `mode:u8 w:u16 h:u16` + `w·h·3` bytes, mode 255 = a source image.
final class CV2ResizeTests: XCTestCase {
    static let modes: [UInt8: CV2Interpolation] = [0: .nearest, 1: .bilinear, 2: .bicubic, 3: .area, 4: .lanczos]

    /// Checks every record of a cases file; returns how many outputs each mode had.
    func checkRecords(_ data: [UInt8], name: String) throws -> [CV2Interpolation: Int] {
        var offset = 0
        var source: Image?
        var checked: [CV2Interpolation: Int] = [:]
        var worst: [CV2Interpolation: Int] = [:]
        while offset < data.count {
            let mode = data[offset]
            let w = Int(data[offset + 1]) | Int(data[offset + 2]) << 8
            let h = Int(data[offset + 3]) | Int(data[offset + 4]) << 8
            offset += 5
            let bytes = Array(data[offset..<(offset + w * h * 3)])
            offset += w * h * 3
            if mode == 255 {
                source = Image(width: w, height: h, channels: 3, bytes: bytes)
                continue
            }
            let src = try XCTUnwrap(source)
            let m = try XCTUnwrap(Self.modes[mode])
            let out = try resizeCV2(src, width: w, height: h, interpolation: m)
            XCTAssertEqual([out.width, out.height], [w, h])
            let d = byteDiff(out.bytes ?? [], bytes)
            XCTAssertEqual(d.count, 0, "\(name): \(m) \(src.width)x\(src.height) -> \(w)x\(h): \(d.count) values differ (max \(d.max))")
            checked[m, default: 0] += 1
            worst[m] = max(worst[m] ?? 0, d.max)
        }
        XCTAssertEqual(offset, data.count)
        for (m, n) in checked.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            print("\(name): \(m): \(n) resizes, max difference \(worst[m] ?? 0)")
        }
        return checked
    }

    func testCV2ModesEqualOpenCV() throws {
        let checked = try checkRecords(resourceBytes("cv2_resize_cases.bin"), name: "cv2_resize_cases.bin")
        XCTAssertEqual(checked[.bicubic], 17)
        XCTAssertEqual(checked[.area], 17)
        XCTAssertEqual(checked[.lanczos], 17)
        XCTAssertEqual(checked[.bilinear], 17)
    }

    /// Optional: random sizes written by the script with `--sweep FILE N` (not committed); run
    /// with `CV2_SWEEP_FILE=FILE`.
    func testCV2RandomSweep() throws {
        guard let file = ProcessInfo.processInfo.environment["CV2_SWEEP_FILE"] else {
            throw XCTSkip("set CV2_SWEEP_FILE to the --sweep output of make_cv2_resize_cases.py")
        }
        _ = try checkRecords([UInt8](try Data(contentsOf: URL(fileURLWithPath: file))), name: file)
    }

    /// Optional: the photo cases the script writes with `--photo-dir DIR` (not committed); run
    /// with `CV2_PHOTO_DIR=DIR`. Prints the max difference per case; asserts exactness against
    /// OpenCV's own code and ≤ 1 against the wheel's default IPP cubic (`bicubic-ipp_*`).
    func testCV2ModesOnAPhoto() throws {
        guard let dir = ProcessInfo.processInfo.environment["CV2_PHOTO_DIR"] else {
            throw XCTSkip("set CV2_PHOTO_DIR to the --photo-dir of make_cv2_resize_cases.py")
        }
        let base = URL(fileURLWithPath: dir)
        let dims = try String(contentsOf: base.appendingPathComponent("source.txt"), encoding: .utf8)
            .split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
        let src = Image(width: dims[0], height: dims[1], channels: 3,
                        bytes: [UInt8](try Data(contentsOf: base.appendingPathComponent("source.rgb"))))
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".rgb") && $0 != "source.rgb" }.sorted()
        for f in files {
            let stem = f.dropLast(4)
            let parts = stem.split(separator: "_")
            let size = parts[1].split(separator: "x").compactMap { Int($0) }
            let ipp = parts[0].hasSuffix("-ipp")
            let m = try XCTUnwrap(CV2Interpolation(rawValue: String(parts[0].replacingOccurrences(of: "-ipp", with: ""))))
            let expected = [UInt8](try Data(contentsOf: base.appendingPathComponent(f)))
            let out = try resizeCV2(src, width: size[0], height: size[1], interpolation: m)
            let d = byteDiff(out.bytes ?? [], expected)
            print("photo \(src.width)x\(src.height) \(parts[0]) -> \(size[0])x\(size[1]): max diff \(d.max), \(d.count) of \(expected.count) values differ")
            XCTAssertLessThanOrEqual(d.max, ipp ? 1 : 0, f)
        }
    }

    func testCV2AreaByHand() throws {
        // 3x1 -> 1x1 INTER_AREA (fast path, scale 3): (10 + 20 + 31) / 3 = 20.33 -> 20
        let row = Image(width: 3, height: 1, channels: 1, bytes: [10, 20, 31])
        XCTAssertEqual(try resizeCV2(row, width: 1, height: 1, interpolation: .area).bytes, [20])
        // 2x1 -> 1x1: scale (2, 1), not 2x2, so sum·(1/2) rounded half to even: (10 + 21)/2 = 15.5 -> 16
        let two = Image(width: 2, height: 1, channels: 1, bytes: [10, 21])
        XCTAssertEqual(try resizeCV2(two, width: 1, height: 1, interpolation: .area).bytes, [16])
        let two2 = Image(width: 2, height: 1, channels: 1, bytes: [10, 19])
        XCTAssertEqual(try resizeCV2(two2, width: 1, height: 1, interpolation: .area).bytes, [14], "14.5 rounds to even")
        // 3 -> 2 (scale 1.5, the fractional path): cells [0, 1.5) and [1.5, 3):
        // (a + b/2) / 1.5 and (b/2 + c) / 1.5 = (30 + 30)/1.5 = 40, (30 + 90)/1.5 = 80
        let frac = Image(width: 3, height: 1, channels: 1, bytes: [30, 60, 90])
        XCTAssertEqual(try resizeCV2(frac, width: 2, height: 1, interpolation: .area).bytes, [40, 80])
    }

    func testCV2CubicAndLanczosByHand() throws {
        // a constant image stays constant (weights sum to 2048 in 11-bit fixed point)
        let flat = Image(width: 5, height: 4, channels: 3, bytes: [UInt8](repeating: 77, count: 60))
        for m in [CV2Interpolation.bicubic, .lanczos, .area] {
            for (w, h) in [(9, 7), (2, 3), (3, 2)] {
                XCTAssertEqual(try resizeCV2(flat, width: w, height: h, interpolation: m).bytes,
                               [UInt8](repeating: 77, count: w * h * 3), "\(m) \(w)x\(h)")
            }
        }
        // 2 -> 4 along x with cubic: x = -0.25, 0.25, 0.75, 1.25 over [0, 200] with replicated borders
        // -0.25: sx = -1, f = 0.75: taps -2,-1,0,1 -> 0,0,0,200 with weights (c0..c3 of 0.75)
        // c3(0.75) = 1 - c0 - c1 - c2 = -0.10546875 -> round(-216.0) = -216 -> 200·(-216)/2048 = -21.1 -> 0
        let row = Image(width: 2, height: 1, channels: 1, bytes: [0, 200])
        let up = try resizeCV2(row, width: 4, height: 1, interpolation: .bicubic).bytes ?? []
        // 0.25: taps -1,0,1,2 -> 0,0,200,200; weights c(0.25) = (-0.10546875, 0.87890625, 0.26171875, -0.03515625)
        // -> 11-bit (-216, 1800, 536, -72): 200·(536 - 72) = 92800 / 2048 = 45.3 -> 45
        // 1.25: taps 0,1,2,3 -> 0,200,200,200 with c(0.25): 200·(1800 + 536 − 72)/2048 = 221.1 -> 221
        // (the cubic overshoots past the replicated border, as OpenCV does)
        XCTAssertEqual(up, [0, 45, 155, 221])
    }
}
