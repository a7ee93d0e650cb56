import Foundation

/// Bounds on what a config text may ask of the YAML reader, so that a hostile or broken file
/// gets an error instead of exhausting the stack (the parser recurses once per nesting level)
/// or memory (aliases referring to aliases expand exponentially: "billion laughs").
public enum YAMLLimits {
    /// The deepest nesting of collections accepted (flow `[`/`{` and block indentation levels
    /// together). Real configs nest fewer than 10 levels.
    public static let maxDepth = 100
    /// The most nodes a document may have once its aliases are expanded.
    public static let maxNodes = 1_000_000

    /// The nesting depth of `text`, counted without parsing it: open flow brackets outside
    /// quoted scalars and comments, plus block-style levels (each deeper indentation, and each
    /// compact `- ` / `? ` entry on a line). Block scalars (`|`, `>`) are skipped. The count is
    /// an upper-bound estimate of the parser's recursion for well-formed YAML; it stops counting
    /// once it exceeds `limit` and returns the first value above it.
    /// - Returns: the depth (at most `limit + 1`), and the 1-based line where it was reached.
    public static func nestingDepth(of text: String, limit: Int = maxDepth) -> (depth: Int, line: Int) {
        var bytes = Array(text.utf8)
        bytes.append(UInt8(ascii: "\n"))
        let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t"), cr = UInt8(ascii: "\r"), nl = UInt8(ascii: "\n")
        func isBlank(_ c: UInt8) -> Bool { c == space || c == tab || c == cr }

        var indents: [Int] = []        // block levels: the column of each open block node
        var flow = 0                   // open flow collections
        var quote: UInt8 = 0           // the open quote character, or 0
        var blockScalarParent: Int? = nil
        var deepest = 0, deepestLine = 1
        var line = 1
        var i = 0
        let n = bytes.count

        func note(_ depth: Int) {
            if depth > deepest { deepest = depth; deepestLine = line }
        }

        while i < n {
            // One line: [i, end).
            var end = i
            while bytes[end] != nl { end += 1 }
            defer { i = end + 1; line += 1 }
            var p = i
            if quote == 0 && flow == 0 {
                var col = 0
                while p < end && bytes[p] == space { p += 1; col += 1 }
                let blank = p == end || bytes[p...].prefix(end - p).allSatisfy(isBlank)
                if let parent = blockScalarParent {
                    if blank || col > parent { continue }
                    blockScalarParent = nil
                }
                if blank || bytes[p] == UInt8(ascii: "#") { continue }
                // Indentation: close deeper levels, open this one.
                while let top = indents.last, top > col { indents.removeLast() }
                if indents.last != col { indents.append(col) }
                // Compact nested entries on one line: `- - a`, `- key: v`, `? key`.
                while p < end, bytes[p] == UInt8(ascii: "-") || bytes[p] == UInt8(ascii: "?"),
                      p + 1 == end || isBlank(bytes[p + 1]) {
                    p += 1
                    while p < end && isBlank(bytes[p]) { p += 1 }
                    if p == end || bytes[p] == UInt8(ascii: "#") { break }
                    indents.append(p - i)
                }
                note(indents.count)
                if deepest > limit { return (deepest, deepestLine) }
            }
            // The rest of the line, character by character.
            var valueStart = true
            while p < end {
                let c = bytes[p]
                if quote == UInt8(ascii: "\"") {
                    if c == UInt8(ascii: "\\") { p += 2; continue }
                    if c == quote { quote = 0; valueStart = false }
                    p += 1; continue
                }
                if quote == UInt8(ascii: "'") {
                    if c == quote {
                        if p + 1 < end && bytes[p + 1] == quote { p += 2; continue }
                        quote = 0; valueStart = false
                    }
                    p += 1; continue
                }
                switch c {
                case space, tab, cr:
                    break
                case UInt8(ascii: "#") where p == i || isBlank(bytes[p - 1]):
                    p = end; continue
                case UInt8(ascii: "\""), UInt8(ascii: "'"):
                    if valueStart { quote = c } else { valueStart = false }
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    if valueStart || flow > 0 {
                        flow += 1
                        valueStart = true
                        note(indents.count + flow)
                        if deepest > limit { return (deepest, deepestLine) }
                    }
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    if flow > 0 { flow -= 1 }
                    valueStart = false
                case UInt8(ascii: ","):
                    if flow > 0 { valueStart = true }
                case UInt8(ascii: ":"):
                    if flow > 0 || p + 1 == end || isBlank(bytes[p + 1]) { valueStart = true }
                case UInt8(ascii: "|"), UInt8(ascii: ">"):
                    if valueStart && flow == 0 {
                        blockScalarParent = indents.last ?? 0
                        p = end; continue
                    }
                    valueStart = false
                case UInt8(ascii: "&"), UInt8(ascii: "!"), UInt8(ascii: "*"):
                    if valueStart {
                        // An anchor, tag or alias token: skip it (an alias ends the value).
                        let alias = c == UInt8(ascii: "*")
                        while p < end && !isBlank(bytes[p]) && !(flow > 0 && ",[]{}".utf8.contains(bytes[p])) { p += 1 }
                        if alias { valueStart = false }
                        continue
                    }
                    valueStart = false
                default:
                    valueStart = false
                }
                p += 1
            }
        }
        return (deepest, deepestLine)
    }

    /// Throws when `text` nests deeper than `maxDepth` (see `nestingDepth`).
    /// - Throws: `ConfigError.tooComplex` naming `source`, the line and the limit.
    public static func checkNesting(_ text: String, source: String) throws {
        let (depth, line) = nestingDepth(of: text, limit: maxDepth)
        if depth > maxDepth {
            throw ConfigError.tooComplex(source: source, message:
                "collections are nested more than \(maxDepth) levels deep (at line \(line)); the limit is \(maxDepth) levels")
        }
    }
}
