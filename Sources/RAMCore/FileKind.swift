import Glibc

/// Why `path` is not a regular file that can be read to the end, or nil when it is one.
///
/// A FIFO would block a read forever and a device (`/dev/zero`) never ends, so inputs are checked
/// before they are read. Symbolic links are followed. A path that does not exist gives nil (the
/// read reports that itself).
/// - Returns: e.g. "it is a FIFO (named pipe), not a regular file".
public func nonRegularFileReason(_ path: String) -> String? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    let kind: String
    switch st.st_mode & S_IFMT {
    case S_IFREG: return nil
    case S_IFDIR: return "it is a directory, not a file"
    case S_IFIFO: kind = "a FIFO (named pipe)"
    case S_IFCHR: kind = "a character device"
    case S_IFBLK: kind = "a block device"
    case S_IFSOCK: kind = "a socket"
    default: kind = "not a file"
    }
    return "it is \(kind), not a regular file"
}
