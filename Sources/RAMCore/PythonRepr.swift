import Foundation

/// Python 3's `repr()` of a `str`, as PaddleClas prints strings (RamOutPut's `language: all`
/// labels, `ram infer`'s text records): single quotes unless the text contains `'` and no `"`,
/// then double quotes; backslash, the chosen quote and control characters escaped (`\n`, `\r`,
/// `\t`, else `\xNN`), so one record stays one line. Other characters (CJK included) as they are.
///
/// - Parameter s: any text.
/// - Returns: the quoted literal, e.g. `it's` → `"it's"`, `a\nb` → `'a\nb'`.
public func pythonRepr(_ s: String) -> String {
    let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
    var out = String(quote)
    for u in s.unicodeScalars {
        switch u {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if Character(u) == quote { out += "\\" + String(quote) }
            else if u.value < 0x20 || u.value == 0x7f { out += String(format: "\\x%02x", u.value) }
            else { out.unicodeScalars.append(u) }
        }
    }
    out.append(quote)
    return out
}
