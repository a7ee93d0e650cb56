import Foundation

/// Evaluates a plain arithmetic expression such as PaddleClas's `1.0/255.0` (`NormalizeImage.scale`).
///
/// Grammar: numbers (`12`, `0.5`, `.5`, `1e-8`, `5e-7`), `+ - * /`, unary `+`/`-`, parentheses.
/// Nothing else: no names, no function calls, no general eval. Returns nil when `text` is not such
/// an expression (or divides by zero).
public func evaluateArithmetic(_ text: String) -> Double? {
    var p = ArithmeticParser(Array(text.unicodeScalars))
    guard let v = p.parseExpression() else { return nil }
    p.skipSpaces()
    guard p.pos == p.chars.count, v.isFinite else { return nil }
    return v
}

private struct ArithmeticParser {
    let chars: [Unicode.Scalar]
    var pos = 0
    var depth = 0
    init(_ c: [Unicode.Scalar]) { chars = c }

    mutating func skipSpaces() {
        while pos < chars.count, chars[pos] == " " || chars[pos] == "\t" { pos += 1 }
    }

    mutating func peek() -> Unicode.Scalar? {
        skipSpaces()
        return pos < chars.count ? chars[pos] : nil
    }

    mutating func parseExpression() -> Double? {
        guard var lhs = parseTerm() else { return nil }
        while let c = peek(), c == "+" || c == "-" {
            pos += 1
            guard let rhs = parseTerm() else { return nil }
            lhs = c == "+" ? lhs + rhs : lhs - rhs
        }
        return lhs
    }

    mutating func parseTerm() -> Double? {
        guard var lhs = parseFactor() else { return nil }
        while let c = peek(), c == "*" || c == "/" {
            pos += 1
            guard let rhs = parseFactor() else { return nil }
            if c == "/" {
                if rhs == 0 { return nil }
                lhs /= rhs
            } else {
                lhs *= rhs
            }
        }
        return lhs
    }

    mutating func parseFactor() -> Double? {
        guard let c = peek() else { return nil }
        if c == "-" || c == "+" {
            pos += 1
            guard let v = parseFactor() else { return nil }
            return c == "-" ? -v : v
        }
        if c == "(" {
            depth += 1
            if depth > 64 { return nil }
            pos += 1
            guard let v = parseExpression(), peek() == ")" else { return nil }
            pos += 1
            depth -= 1
            return v
        }
        return parseNumber()
    }

    mutating func parseNumber() -> Double? {
        skipSpaces()
        let start = pos
        func digits() -> Int {
            let s = pos
            while pos < chars.count, ("0"..."9").contains(chars[pos]) { pos += 1 }
            return pos - s
        }
        var n = digits()
        if pos < chars.count, chars[pos] == "." {
            pos += 1
            n += digits()
        }
        guard n > 0 else { pos = start; return nil }
        if pos < chars.count, chars[pos] == "e" || chars[pos] == "E" {
            let save = pos
            pos += 1
            if pos < chars.count, chars[pos] == "+" || chars[pos] == "-" { pos += 1 }
            if digits() == 0 { pos = save }
        }
        var s = ""
        s.unicodeScalars.append(contentsOf: chars[start..<pos])
        return Double(s)
    }
}
