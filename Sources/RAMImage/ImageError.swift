/// Errors thrown by RAMImage. Every case names the file (or `"<memory>"` for bytes without a
/// path) and says what was expected.
public enum ImageError: Error, CustomStringConvertible, Equatable {
    /// The file has zero bytes.
    case emptyFile(file: String)
    /// The bytes are not a JPEG or PNG; `detail` says what they look like.
    case unknownFormat(file: String, detail: String)
    /// The data ends before the image does.
    case truncated(file: String, detail: String)
    /// The decoder rejected the data.
    case corrupt(file: String, detail: String)
    /// `width × height` is over the configured pixel limit (decompression-bomb guard).
    case tooManyPixels(file: String, width: Int, height: Int, limit: Int)
    /// The file could not be read.
    case unreadable(file: String, detail: String)
    /// An operation got arguments it cannot work with (sizes, crops, layouts).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .emptyFile(let f):
            return "\(f): the file is empty (0 bytes); expected a JPEG or PNG image"
        case .unknownFormat(let f, let d):
            return "\(f): not a JPEG or PNG image (\(d))"
        case .truncated(let f, let d):
            return "\(f): the image file is truncated: \(d)"
        case .corrupt(let f, let d):
            return "\(f): cannot decode the image: \(d)"
        case .tooManyPixels(let f, let w, let h, let limit):
            return "\(f): \(w)x\(h) = \(w * h) pixels is over the limit of \(limit) pixels "
                + "(a guard against decompression bombs; raise DecodeImage.max_pixels to allow it)"
        case .unreadable(let f, let d):
            return "\(f): cannot read the file: \(d)"
        case .invalidArgument(let m):
            return m
        }
    }
}
