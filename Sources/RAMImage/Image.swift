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
