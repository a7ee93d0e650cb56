/// An image in memory: `height × width × channels` pixels, 8-bit or float32, interleaved (HWC)
/// or planar (CHW).
public struct Image: Sendable, Equatable {
    public enum Layout: Sendable, Equatable { case hwc, chw }
    public enum Pixels: Sendable, Equatable {
        case uint8([UInt8])
        case float32([Float])
    }

    public var width: Int
    public var height: Int
    public var channels: Int
    public var layout: Layout
    public var pixels: Pixels

    public init(width: Int, height: Int, channels: Int, layout: Layout = .hwc, pixels: Pixels) {
        self.width = width
        self.height = height
        self.channels = channels
        self.layout = layout
        self.pixels = pixels
    }
}

extension Image {
    /// An 8-bit interleaved image: `bytes` holds `height × width × channels` values, row-major.
    public init(width: Int, height: Int, channels: Int, bytes: [UInt8]) {
        self.init(width: width, height: height, channels: channels, layout: .hwc, pixels: .uint8(bytes))
    }

    /// The 8-bit pixels, or nil when the image holds floats.
    public var bytes: [UInt8]? {
        if case .uint8(let b) = pixels { return b }
        return nil
    }

    /// The float pixels, or nil when the image holds bytes.
    public var floats: [Float]? {
        if case .float32(let f) = pixels { return f }
        return nil
    }

    /// `[height, width, channels]` for HWC, `[channels, height, width]` for CHW.
    public var shape: [Int] {
        layout == .hwc ? [height, width, channels] : [channels, height, width]
    }

    /// The 8-bit HWC pixels, or an error naming `operation` when the image is not 8-bit HWC.
    func requireBytesHWC(_ operation: String) throws -> [UInt8] {
        guard layout == .hwc, case .uint8(let b) = pixels else {
            throw ImageError.invalidArgument(
                "\(operation): expected an 8-bit HWC image (before NormalizeImage / ToCHWImage), "
                    + "got \(layout == .hwc ? "HWC" : "CHW") \(floats != nil ? "float32" : "uint8") \(shape)")
        }
        return b
    }
}
