import Foundation

/// Everything a user can get wrong in a config, an override, a plugin or a resource name.
/// Each message names the dotted path / file / value and says what was expected.
public enum ConfigError: Error, CustomStringConvertible, LocalizedError {
    /// A YAML syntax error.
    case syntax(source: String, message: String)
    /// A key that the component or section does not have.
    case unknownKey(path: String, key: String, valid: [String])
    /// A component name that no plugin registered.
    case unknownName(kind: String, path: String, name: String, registered: [String])
    /// A component name registered twice.
    case duplicateName(kind: String, name: String)
    /// A value of the wrong kind ("expected a number, got 'abc'").
    case typeMismatch(path: String, expected: String, found: String)
    /// A required key that is absent.
    case missingKey(path: String, key: String)
    /// Any other invalid value.
    case invalidValue(path: String, message: String)
    /// A malformed `-o` override.
    case badOverride(override: String, message: String)
    /// A file that was not found in any of the places looked at.
    case fileNotFound(what: String, given: String, lookedAt: [String])
    /// A file that exists but cannot be read.
    case unreadable(file: String, reason: String)
    /// A shared library plugin that could not be loaded or registered.
    case plugin(path: String, message: String)
    /// A config text (file or `-o` value) beyond the reader's limits: nesting too deep, or
    /// aliases that expand to too many nodes (see `YAMLLimits`).
    case tooComplex(source: String, message: String)

    public var description: String {
        switch self {
        case let .syntax(source, message):
            return "\(source): YAML syntax error: \(message)"
        case let .unknownKey(path, key, valid):
            let full = path.isEmpty ? key : "\(path).\(key)"
            var s = "unknown key '\(full)'"
            if let m = nearestMatch(key, in: valid) { s += "; did you mean '\(m)'?" } else if !valid.isEmpty { s += "." }
            s += valid.isEmpty ? " (no keys are accepted here)" : " Valid keys\(path.isEmpty ? "" : " under '\(path)'"): \(valid.joined(separator: ", "))"
            return s
        case let .unknownName(kind, path, name, registered):
            var s = "unknown \(kind) '\(name)'" + (path.isEmpty ? "" : " at '\(path)'")
            if let m = nearestMatch(name, in: registered) { s += "; did you mean '\(m)'?" } else if !registered.isEmpty { s += "." }
            s += registered.isEmpty ? " (no \(kind) is registered)" : " Registered \(kind) names: \(registered.joined(separator: ", "))"
            return s
        case let .duplicateName(kind, name):
            return "\(kind) '\(name)' is already registered (names must be unique)"
        case let .typeMismatch(path, expected, found):
            return "'\(path)': expected \(expected), got \(found)"
        case let .missingKey(path, key):
            return "'\(path.isEmpty ? key : "\(path).\(key)")' is required but missing"
        case let .invalidValue(path, message):
            return "'\(path)': \(message)"
        case let .badOverride(o, message):
            return "override '-o \(abbreviated(o))': \(message)"
        case let .fileNotFound(what, given, lookedAt):
            return "\(what) '\(given)' not found; looked at: \(lookedAt.joined(separator: ", "))"
        case let .unreadable(file, reason):
            return "cannot read '\(file)': \(reason)"
        case let .plugin(path, message):
            return "plugin '\(path)': \(message)"
        case let .tooComplex(source, message):
            return "\(abbreviated(source)): \(message)"
        }
    }

    public var errorDescription: String? { description }
}

/// `text` cut to its first 120 characters, saying how long it was, when it is longer than 200
/// (a pathological `-o` value must not flood the message that names it).
func abbreviated(_ text: String) -> String {
    guard text.count > 200 else { return text }
    return String(text.prefix(120)) + "… (\(text.count) characters)"
}

/// Levenshtein distance between two strings, compared case-insensitively.
public func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.lowercased()), y = Array(b.lowercased())
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var prev = Array(0...y.count), cur = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        cur[0] = i
        for j in 1...y.count {
            let substitution: Int = prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1)
            let insertDelete: Int = Swift.min(prev[j] + 1, cur[j - 1] + 1)
            cur[j] = Swift.min(substitution, insertDelete)
        }
        swap(&prev, &cur)
    }
    return prev[y.count]
}

/// The candidate nearest to `word` ("did you mean"), or nil when none is reasonably close:
/// a case-insensitive match, a prefix of either, or an edit distance of at most
/// max(2, a third of the word's length).
public func nearestMatch(_ word: String, in candidates: [String]) -> String? {
    guard !candidates.isEmpty else { return nil }
    if let exact = candidates.first(where: { $0.lowercased() == word.lowercased() }) { return exact }
    var best: (name: String, distance: Int)? = nil
    for c in candidates {
        let d = editDistance(word, c)
        if let b = best, b.distance < d || (b.distance == d && b.name <= c) { continue }
        best = (c, d)
    }
    if let b = best, b.distance <= Swift.max(2, word.count / 3) { return b.name }
    let lw = word.lowercased()
    if word.count >= 3 {
        for c in candidates {
            let lc = c.lowercased()
            if lc.hasPrefix(lw) || (c.count >= 3 && lw.hasPrefix(lc)) { return c }
        }
    }
    return nil
}

/// Why `path` could not be read, in words a user can act on: "it is a directory, not a file",
/// the system's reason ("Permission denied", "No such file or directory"), or else `error`'s own
/// description (Foundation's read errors on Linux say only "The operation could not be completed").
public func readFailureReason(_ path: String, _ error: Error) -> String {
    if let reason = nonRegularFileReason(path) { return reason }
    let fd = open(path, O_RDONLY)
    if fd < 0 { return String(cString: strerror(errno)) }
    close(fd)
    return error.localizedDescription
}
