import Foundation
import RAMCore
import RAMImage
import RAMTransforms
import XCTest

final class TransformTests: XCTestCase {
    var registries: Registries!

    override func setUpWithError() throws {
        registries = Registries()
        try TransformsPlugin.register(into: registries)
    }

    /// Builds a transform list from YAML, as the engine does.
    func build(_ yaml: String) throws -> [any Transform] {
        let node = try ConfigNode.parse(yaml: yaml, source: "test")
        return try RunConfig.buildList(registries.transform, node: node, path: "Infer.transforms", registries: registries,
                                      baseDirectory: nil)
    }

    func run(_ transforms: [any Transform], path: String) throws -> Sample {
        var s = Sample(path: path)
        for t in transforms { try t.apply(&s) }
        return s
    }

    func errorText(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }

    func testRegistersPaddleClasNames() {
        XCTAssertEqual(registries.transform.names, ["CropImage", "DecodeImage", "NormalizeImage", "RandCropImage",
                                                     "RandFlipImage", "RandomResizedCrop", "ResizeImage", "ToCHWImage"])
        XCTAssertThrowsError(try TransformsPlugin.register(into: registries), "registering twice is a duplicate")
    }

    /// The reference RAM pipeline (Resize((S,S)) bilinear + ToTensor + Normalize) reproduces the
    /// reference's input tensor bit for bit.
    func testReferencePipelineEqualsReferenceInputTensor() throws {
        let st = try TestSafetensors(requireShared("fixtures/ram_swin_tiny_384.expected.safetensors"))
        let list = try build("""
            - DecodeImage: {to_rgb: True, channel_first: False, exif_transpose: False}
            - ResizeImage: {size: [384, 384], backend: pil, interpolation: bilinear}
            - NormalizeImage: {scale: 1.0/255.0, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], order: ''}
            - ToCHWImage:
            """)
        for name in ["whl_demo", "alpha", "gray", "demo4"] {
            let file = name == "alpha" ? "alpha.png" : "\(name).jpg"
            let s = try run(list, path: requireShared("images/\(file)").path)
            let img = try XCTUnwrap(s.image)
            XCTAssertEqual(img.layout, .chw)
            XCTAssertEqual(img.shape, [3, 384, 384])
            let expected = try st.float32("\(name).input")
            XCTAssertEqual(expected.shape, [1, 3, 384, 384])
            let got = try XCTUnwrap(img.floats)
            var maxDiff: Float = 0
            for i in 0..<got.count { maxDiff = max(maxDiff, abs(got[i] - expected.values[i])) }
            XCTAssertEqual(maxDiff, 0, "\(name): float input differs from the reference's by \(maxDiff)")
        }
    }

    /// PaddleClas's Infer pipeline (cv2 short-side resize + center crop) within 1 of the fixture.
    func testPaddleClasInferPipeline() throws {
        let st = try TestSafetensors(requireShared("fixtures/preprocess.safetensors"))
        let list = try build("""
            - DecodeImage: {to_rgb: True, channel_first: False, exif_transpose: false}
            - ResizeImage: {resize_short: 384}
            - CropImage: {size: 384}
            """)
        for name in ["whl_demo", "openset_example"] {
            let s = try run(list, path: requireShared("images/\(name).jpg").path)
            let expected = try st.uint8("\(name).cv2_short384_crop384")
            XCTAssertLessThanOrEqual(byteDiff(s.image?.bytes ?? [], expected.values).max, 1, name)
            XCTAssertNil(s.bytes, "DecodeImage frees the encoded bytes")
        }
    }

    func testNormalizeByHand() throws {
        let img = Image(width: 2, height: 1, channels: 3, bytes: [0, 128, 255, 255, 51, 0])
        let out = try normalize(img, scale: 1.0 / 255.0, mean: [0.5, 0.5, 0.5], std: [0.5, 0.25, 2])
        let f = try XCTUnwrap(out.floats)
        XCTAssertEqual(f[0], -1)                                  // (0 - .5) / .5
        XCTAssertEqual(f[1], (Float(128) / 255 - 0.5) / 0.25)      // float32, divided by 255
        XCTAssertEqual(f[2], 0.25)                                // (1 - .5) / 2
        XCTAssertEqual(f[3], 1)
        XCTAssertEqual(f[4], (Float(0.2) - 0.5) / 0.25, accuracy: 1e-7)
        XCTAssertEqual(f[5], -0.25)
        // CHW input: the channel is the leading axis
        let chw = toCHW(img)
        XCTAssertEqual(chw.bytes, [0, 255, 128, 51, 255, 0])
        let n2 = try normalize(chw, scale: 1.0 / 255.0, mean: [0.5, 0.5, 0.5], std: [0.5, 0.25, 2])
        XCTAssertEqual(n2.floats, [f[0], f[3], f[1], f[4], f[2], f[5]])
    }

    func testToCHWAndDecodeOptions() throws {
        let list = try build("""
            - DecodeImage: {to_rgb: false, channel_first: true}
            """)
        let jpeg = try encodeJPEG(pattern(width: 4, height: 2), quality: 100)
        var s = Sample(path: "p.jpg", bytes: jpeg)
        try list[0].apply(&s)
        let rgb = try decodeImage(jpeg)
        let img = try XCTUnwrap(s.image)
        XCTAssertEqual(img.layout, .chw)
        // channel 0 of BGR CHW is the blue plane
        let px = try XCTUnwrap(img.bytes), src = try XCTUnwrap(rgb.bytes)
        for p in 0..<8 { XCTAssertEqual(px[p], src[p * 3 + 2]); XCTAssertEqual(px[16 + p], src[p * 3]) }
    }

    func testConfigErrorsAreClear() throws {
        XCTAssertTrue(errorText { _ = try self.build("- ResizeImage: {interpolation: bilinear}") }
            .contains("'size'"))
        XCTAssertTrue(errorText { _ = try self.build("- ResizeImage: {size: 384, backend: pil, interpolation: bilinar}") }
            .contains("bilinar"))
        XCTAssertTrue(errorText { _ = try self.build("- ResizeImage: {size: 384, backend: skimage}") }
            .contains("skimage"))
        XCTAssertTrue(errorText { _ = try self.build("- ResizeImage: {size: [1, 2, 3]}") }
            .contains("Infer.transforms.0.ResizeImage.size"))
        XCTAssertTrue(errorText { _ = try self.build("- CropImage: {sise: 3}") }.contains("sise"))
        XCTAssertTrue(errorText { _ = try self.build("- NormalizeImage: {order: nhwc}") }.contains("nhwc"))
        XCTAssertTrue(errorText { _ = try self.build("- RandFlipImage: {flip_code: 2}") }.contains("flip_code"))
        XCTAssertTrue(errorText { _ = try self.build("- DecodeImage: {max_pixels: -1}") }.contains("max_pixels"))
    }

    /// NaN / infinite normalisation values are refused naming the key (QA: `scale=.nan` was
    /// accepted and every image got no tags).
    func testNormalizeImageRefusesNonFiniteValues() throws {
        for v in [".nan", ".inf", "-.inf"] {
            XCTAssertEqual(errorText { _ = try self.build("- NormalizeImage: {scale: \(v)}") },
                           "'Infer.transforms.0.NormalizeImage.scale': expected a finite number (such as 1.0/255.0), got \(v)")
        }
        XCTAssertEqual(errorText { _ = try self.build("- NormalizeImage: {mean: [0.5, .nan, 0.5]}") },
                       "'Infer.transforms.0.NormalizeImage.mean.1': expected a finite number, got .nan")
        XCTAssertEqual(errorText { _ = try self.build("- NormalizeImage: {std: [0.2, 0.2, .inf]}") },
                       "'Infer.transforms.0.NormalizeImage.std.2': expected a finite number, got .inf")
        // Finite values, the expression form included, are still read.
        let op = try XCTUnwrap(try build("- NormalizeImage: {scale: 1.0/127.5, mean: [0.5, 0.5, 0.5], std: [2, 2, 2]}").first
                               as? NormalizeImageOp)
        XCTAssertEqual(op.scale, 1.0 / 127.5)
        XCTAssertEqual(op.mean, [0.5, 0.5, 0.5]); XCTAssertEqual(op.std, [2, 2, 2])
    }

    func testRuntimeErrorsNameTheFile() throws {
        let list = try build("""
            - DecodeImage:
            - CropImage: {size: 500}
            """)
        let url = try temporaryFile("small.png", try encodePNG(rows: pattern(width: 20, height: 10).bytes ?? [],
                                                               width: 20, height: 10, colorType: .rgb, bitDepth: 8))
        let e = errorText { _ = try self.run(list, path: url.path) }
        XCTAssertTrue(e.contains("small.png") && e.contains("500x500"), e)
        // NormalizeImage's default order (chw) on an HWC image
        let n = try build("""
            - DecodeImage:
            - NormalizeImage:
            """)
        XCTAssertTrue(errorText { _ = try self.run(n, path: url.path) }.contains("order"))
        // no DecodeImage first
        XCTAssertTrue(errorText { _ = try self.run(try self.build("- ToCHWImage:"), path: url.path) }.contains("DecodeImage"))
    }

    func testRandomOperators() throws {
        let img = pattern(width: 40, height: 30)
        let flipped = try flip(img, code: 1)
        let list = try build("- RandFlipImage: {seed: 7}")
        var seen = Set<Bool>()
        for _ in 0..<32 {
            var s = Sample(image: img)
            try list[0].apply(&s)
            XCTAssertTrue(s.image == img || s.image == flipped)
            seen.insert(s.image == flipped)
        }
        XCTAssertEqual(seen, [true, false], "both outcomes within 32 draws")
        XCTAssertEqual(try flip(flipped, code: 1), img)
        XCTAssertEqual(try flip(img, code: 0).bytes?[0..<3], img.bytes?[(29 * 40) * 3..<(29 * 40) * 3 + 3])

        for yaml in ["- RandCropImage: {size: 16, seed: 3, backend: pil, interpolation: bilinear}",
                     "- RandomResizedCrop: {size: [16, 12], seed: 3}"] {
            let op = try build(yaml)[0]
            for _ in 0..<20 {
                var s = Sample(image: img)
                try op.apply(&s)
                let out = try XCTUnwrap(s.image)
                XCTAssertEqual([out.width, out.height], yaml.contains("[16, 12]") ? [16, 12] : [16, 16], yaml)
            }
        }
        // same seed, same crops
        let a = try build("- RandCropImage: {size: 8, seed: 11}")[0], b = try build("- RandCropImage: {size: 8, seed: 11}")[0]
        var sa = Sample(image: img), sb = Sample(image: img)
        try a.apply(&sa); try b.apply(&sb)
        XCTAssertEqual(sa.image, sb.image)
    }

    /// Every cv2 mode by its PaddleClas name runs the OpenCV-exact resize.
    func testResizeImageCV2Modes() throws {
        let img = pattern(width: 37, height: 23)
        for (name, mode) in [("nearest", CV2Interpolation.nearest), ("bilinear", .bilinear), ("bicubic", .bicubic),
                             ("area", .area), ("lanczos", .lanczos)] {
            for size in ["[20, 11]", "[50, 30]"] {
                let op = try build("- ResizeImage: {size: \(size), interpolation: \(name)}")[0]
                var s = Sample(image: img)
                try op.apply(&s)
                let wh = size.dropFirst().dropLast().split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                XCTAssertEqual(s.image, try resizeCV2(img, width: wh[0], height: wh[1], interpolation: mode), "\(name) \(size)")
            }
        }
    }

    /// `interpolation: random` is PaddleClas's choice between bilinear and bicubic per image; a
    /// seed makes the sequence reproducible.
    func testResizeImageRandomInterpolation() throws {
        let img = pattern(width: 37, height: 23)
        for backend in ["cv2", "pil"] {
            let bilinear = backend == "cv2" ? try resizeCV2(img, width: 20, height: 11, interpolation: .bilinear)
                                            : try resizePIL(img, width: 20, height: 11, filter: .bilinear)
            let bicubic = backend == "cv2" ? try resizeCV2(img, width: 20, height: 11, interpolation: .bicubic)
                                           : try resizePIL(img, width: 20, height: 11, filter: .bicubic)
            XCTAssertNotEqual(bilinear, bicubic)
            func choices(seed: Int) throws -> [Bool] {
                let op = try build("- ResizeImage: {size: [20, 11], interpolation: random, backend: \(backend), seed: \(seed)}")[0]
                return try (0..<40).map { _ in
                    var s = Sample(image: img)
                    try op.apply(&s)
                    XCTAssertTrue(s.image == bilinear || s.image == bicubic, backend)
                    return s.image == bicubic
                }
            }
            let a = try choices(seed: 5)
            XCTAssertEqual(a, try choices(seed: 5), "same seed, same choices")
            XCTAssertNotEqual(a, try choices(seed: 6), "another seed, other choices")
            let n = a.filter { $0 }.count
            XCTAssertTrue(n > 5 && n < 35, "about half bicubic: \(n) of 40")
        }
        // RandCropImage: the crops do not depend on the interpolation (random draws its own stream)
        let big = pattern(width: 40, height: 30)
        let r1 = try build("- RandCropImage: {size: 8, seed: 11, interpolation: random}")[0]
        let r2 = try build("- RandCropImage: {size: 8, seed: 11, interpolation: bilinear}")[0]
        var sawBicubic = false
        for _ in 0..<12 {
            var s1 = Sample(image: big), s2 = Sample(image: big)
            try r1.apply(&s1); try r2.apply(&s2)
            if s1.image != s2.image { sawBicubic = true }
        }
        XCTAssertTrue(sawBicubic)
        XCTAssertTrue(errorText { _ = try self.build("- ResizeImage: {size: 8, interpolation: cubic}") }.contains("random"))
    }

    func testShortSideSizeUsesPythonRounding() {
        XCTAssertEqual(shortSideSize(width: 650, height: 647, short: 384).width, 386)   // 385.78
        XCTAssertEqual(shortSideSize(width: 650, height: 647, short: 384).height, 384)
        // 5 * 1.5 = 7.5 rounds to even (8); 3 * 1.5 = 4.5 rounds to 4
        XCTAssertEqual(shortSideSize(width: 5, height: 2, short: 3).width, 8)
        XCTAssertEqual(shortSideSize(width: 3, height: 2, short: 3).width, 4)
    }

    func testLoadBatchKeepsOrderAndReportsBadFiles() throws {
        let good = try temporaryFile("good.png", try encodePNG(rows: pattern(width: 30, height: 20).bytes ?? [],
                                                              width: 30, height: 20, colorType: .rgb, bitDepth: 8))
        let bad = try temporaryFile("bad.jpg", Array("not an image".utf8))
        let list = try build("""
            - DecodeImage:
            - ResizeImage: {size: [8, 6], backend: pil, interpolation: bilinear}
            """)
        let paths = [good.path, bad.path, good.path, "/nonexistent/none.png", good.path]
        let results = loadBatch(paths: paths, transforms: list, threads: 2)
        XCTAssertEqual(results.count, 5)
        for (i, r) in results.enumerated() {
            switch r {
            case .success(let s):
                XCTAssertEqual(s.path, paths[i])
                XCTAssertEqual(s.image?.shape, [6, 8, 3])
                XCTAssertTrue([0, 2, 4].contains(i))
            case .failure(let e):
                XCTAssertTrue([1, 3].contains(i))
                XCTAssertTrue("\(e)".contains(i == 1 ? "bad.jpg" : "none.png"), "\(e)")
            }
        }
    }
}
