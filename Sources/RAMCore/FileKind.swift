import Foundation
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

/// `path` with `.` and empty components dropped and each `..` taking off the component before
/// it, as text only: symbolic links are kept as written (Foundation's `standardizedFileURL`
/// resolves them when it meets a `..`, so `work/../link/x` and `link/x` came out differently).
/// An absolute path stays absolute (`/..` is `/`); a relative one keeps its leading `..`s.
public func lexicallyNormalizedPath(_ path: String) -> String {
    let absolute = path.hasPrefix("/")
    var parts: [Substring] = []
    for c in path.split(separator: "/", omittingEmptySubsequences: true) {
        if c == "." { continue }
        if c == ".." {
            if let last = parts.last, last != ".." { parts.removeLast() } else if !absolute { parts.append(c) }
            continue
        }
        parts.append(c)
    }
    let joined = parts.joined(separator: "/")
    return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
}

/// The bytes of the regular file at `url`. A FIFO or a device is refused before it is opened
/// (a read would block or never end); `readFailureReason` then names what it is.
/// - Throws: the read's error, or `CocoaError(.fileReadUnknown)` for a file that is not regular.
public func regularFileData(_ url: URL) throws -> Data {
    if nonRegularFileReason(url.path) != nil { throw CocoaError(.fileReadUnknown) }
    return try Data(contentsOf: url)
}

/// Writes `text` to standard error, ignoring a failure: a closed stderr (`2>&1 | head` after the
/// reader has gone, with SIGPIPE ignored) must not end the process, as `FileHandle`'s write,
/// which traps on an error, would.
public func writeToStandardError(_ text: String) {
    _ = fputs(text, stderr)
    _ = fflush(stderr)
}

/// The URL to use for `path`, an existing file or folder given with `..`s: its text-normalised
/// form (`lexicallyNormalizedPath`, symbolic links kept as written) when that names the same
/// file (same device and inode); otherwise — a `..` after a symbolic link leads into the link's
/// target's parent, as the shell resolves it — the path with its links resolved.
public func existingPathURL(_ path: String) -> URL {
    let lexical = lexicallyNormalizedPath(path)
    var a = stat(), b = stat()
    if stat(lexical, &a) == 0, stat(path, &b) == 0, a.st_dev == b.st_dev, a.st_ino == b.st_ino {
        return URL(fileURLWithPath: lexical)
    }
    return URL(fileURLWithPath: path).resolvingSymlinksInPath()
}

/// Whether `path` names an existing file or folder, asking the system as it is written (each
/// `..` taken physically, after a symbolic link too; FileManager tidies the text first).
public func pathExists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0
}

/// The bytes of an input file (an image, a sample), refusing what cannot be read to its end.
/// - Throws: `ConfigError.unreadable` naming the file: a FIFO or device; a name that is not
///   UTF-8 (a folder walk hands it over with U+FFFD in place of its bytes, and that name does not
///   exist); or the read's own failure.
public func readInputFileBytes(_ path: String) throws -> [UInt8] {
    if path.contains("\u{FFFD}") && !pathExists(path) {
        throw ConfigError.unreadable(file: path, reason: "the file name is not valid UTF-8 (shown with \u{FFFD}), which RAMKit cannot open; rename the file")
    }
    do {
        return [UInt8](try regularFileData(URL(fileURLWithPath: path)))
    } catch {
        throw ConfigError.unreadable(file: path, reason: readFailureReason(path, error))
    }
}

/// Why `path` is a symbolic link that leads nowhere (a loop, or a target that does not exist),
/// or nil (no link there, or one that works).
public func brokenLinkReason(_ path: String) -> String? {
    var l = stat(), st = stat()
    guard lstat(path, &l) == 0, l.st_mode & S_IFMT == S_IFLNK else { return nil }
    if stat(path, &st) == 0 { return nil }
    return errno == ELOOP ? "it is a loop of symbolic links" : "it is a symbolic link to a file that does not exist"
}
