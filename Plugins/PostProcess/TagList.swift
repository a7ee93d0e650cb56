import Foundation
import RAMCore

/// Errors raised while reading tag lists, threshold files and post-processing options.
public enum TagFileError: Error, CustomStringConvertible, Equatable {
    /// The file could not be read (missing, unreadable, or not UTF-8).
    case unreadable(path: String, reason: String)
    /// A line of a threshold file is not a number.
    case badThreshold(path: String, line: Int, text: String)
    /// Two lists that must describe the same classes have different lengths.
    /// `against` names the list whose length is expected (the tag list's file), when known.
    case lengthMismatch(what: String, path: String, expected: Int, found: Int, against: String? = nil)
    /// An option has a value outside what is accepted.
    case badOption(key: String, value: String, expected: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read '\(path)': \(reason)"
        case let .badThreshold(path, line, text):
            return "\(path):\(line): expected a score threshold in [0, 1] (a number such as 0.68), found '\(text)'"
        case let .lengthMismatch(what, path, expected, found, against):
            let reference = against.map { "tag_list '\($0)'" } ?? "the tag list"
            return "\(what) '\(path)' has \(found) entries, expected \(expected) (one per tag of \(reference))"
        case let .badOption(key, value, expected):
            return "\(key): invalid value '\(value)', expected \(expected)"
        }
    }
}

/// Tag-list and threshold-file readers with the reference's exact semantics.
public enum TagList {
    /// Splits text into lines as Python's `str.splitlines()` does (the reference reads tag lists
    /// with `f.read().splitlines()`): line breaks are `\n`, `\r\n`, `\r`, `\u{0B}`, `\u{0C}`,
    /// `\u{1C}`–`\u{1E}`, `\u{85}`, `\u{2028}`, `\u{2029}`; a final line break does not start an
    /// empty line; every other character (trailing spaces included) is kept.
    public static func splitLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        let scalars = Array(text.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let s = scalars[i]
            switch s.value {
            case 0x0A, 0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
                lines.append(String(current)); current = String.UnicodeScalarView()
            case 0x0D:
                lines.append(String(current)); current = String.UnicodeScalarView()
                if i + 1 < scalars.count, scalars[i + 1].value == 0x0A { i += 1 }
            default:
                current.append(s)
            }
            i += 1
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }

    static func readText(_ url: URL) throws -> String {
        let data: Data
        do { data = try regularFileData(url) } catch {
            throw TagFileError.unreadable(path: url.path, reason: readFailureReason(url.path, error))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TagFileError.unreadable(path: url.path, reason: "not valid UTF-8 text")
        }
        return text
    }

    /// Reads a tag list (one tag a line, in class-index order), keeping every string exactly.
    /// - Throws: `TagFileError.unreadable` naming the file.
    public static func load(_ url: URL) throws -> [String] {
        splitLines(try readText(url))
    }

    /// Reads a per-class threshold file: one number a line, in class-index order, surrounding
    /// whitespace ignored (the reference applies `float(s.strip())` to each line). Blank lines
    /// at the end of the file are ignored.
    /// - Throws: `TagFileError.unreadable`, or `.badThreshold` naming the file and line of a value
    ///   that is not a number in [0, 1] (scores are sigmoid outputs).
    public static func loadThresholds(_ url: URL) throws -> [Float] {
        var lines = splitLines(try readText(url))
        while let last = lines.last, last.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { lines.removeLast() }
        var values: [Float] = []
        values.reserveCapacity(lines.count)
        for (n, line) in lines.enumerated() {
            let t = line.trimmingCharacters(in: .whitespacesAndNewlines)
            // Scores are sigmoid outputs in (0, 1): 1 disables a tag (the shipped file does), 0 lets
            // it always pass; anything outside [0, 1] is a mistake in the file.
            // (a decimal number, as the reference's float() reads it: not Swift's hex floats)
            guard !t.lowercased().contains("x"), let v = Double(t), v.isFinite, v >= 0, v <= 1 else {
                throw TagFileError.badThreshold(path: url.path, line: n + 1, text: line)
            }
            values.append(Float(v))
        }
        return values
    }
}
