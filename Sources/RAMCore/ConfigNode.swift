import Foundation
import Yams

/// One node of a parsed configuration: the YAML data model with maps kept in file order.
///
/// Scalars are resolved as YAML 1.1 plain scalars are (PyYAML and therefore PaddleClas do the
/// same for the forms that occur in configs): `True`/`false`/`yes` → `bool`, `120` → `int`,
/// `0.68` / `1e-8` → `double`, `null`/`~`/empty → `null`; quoted scalars are always strings.
public enum ConfigNode: Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([ConfigNode])
    /// Key/value pairs in file order (keys unique).
    case map([(key: String, value: ConfigNode)])

    public static func == (lhs: ConfigNode, rhs: ConfigNode) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.double(a), .double(b)): return a == b || (a.isNaN && b.isNaN)
        case let (.string(a), .string(b)): return a == b
        case let (.list(a), .list(b)): return a == b
        case let (.map(a), .map(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// A short name of the node's kind for error messages ("a number", "a list", ...).
    public var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a bool"
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .list: return "a list"
        case .map: return "a map"
        }
    }

    /// The value as one line of text, for error messages.
    public var shortDescription: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .double(d): return ConfigNode.format(d)
        case let .string(s): return "'\(s)'"
        case let .list(l): return "[" + l.map(\.shortDescription).joined(separator: ", ") + "]"
        case let .map(m): return "{" + m.map { "\($0.key): \($0.value.shortDescription)" }.joined(separator: ", ") + "}"
        }
    }

    static func format(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d > 0 ? ".inf" : "-.inf" }
        return "\(d)"
    }

    // MARK: access

    /// The map's pairs, or nil when the node is not a map.
    public var mapPairs: [(key: String, value: ConfigNode)]? {
        if case let .map(m) = self { return m }
        return nil
    }

    /// The map's keys in order (empty when not a map).
    public var keys: [String] { mapPairs?.map(\.key) ?? [] }

    /// `map[key]`, or nil when the node is not a map or has no such key.
    public subscript(key: String) -> ConfigNode? {
        get { mapPairs?.first(where: { $0.key == key })?.value }
        set {
            guard case var .map(m) = self else { return }
            if let i = m.firstIndex(where: { $0.key == key }) {
                if let v = newValue { m[i].value = v } else { m.remove(at: i) }
            } else if let v = newValue {
                m.append((key, v))
            }
            self = .map(m)
        }
    }

    /// The string value, or nil when the node is not a string.
    public var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// Returns the map without `key` (used to drop `name:` before decoding a component's parameters).
    public func removing(key: String) -> ConfigNode {
        var copy = self
        copy[key] = nil
        return copy
    }

    /// `overlay` merged onto `self`: maps merge key by key (recursively, keeping `self`'s order
    /// and appending new keys); anything else is replaced by `overlay`.
    public func merged(with overlay: ConfigNode) -> ConfigNode {
        guard case var .map(base) = self, case let .map(top) = overlay else { return overlay }
        for (k, v) in top {
            if let i = base.firstIndex(where: { $0.key == k }) {
                base[i].value = base[i].value.merged(with: v)
            } else {
                base.append((k, v))
            }
        }
        return .map(base)
    }
}

// MARK: - YAML reading

extension ConfigNode {
    /// Parses one YAML (or JSON) document. An empty document is `.null`.
    /// - Parameter source: names the text in error messages (a file path or "-o Global.epochs").
    /// - Throws: `ConfigError.syntax` with the line and column of the problem;
    ///   `ConfigError.tooComplex` naming `source` when collections nest more than
    ///   `YAMLLimits.maxDepth` levels (checked before parsing) or the document, aliases expanded,
    ///   has more than `YAMLLimits.maxNodes` nodes.
    public static func parse(yaml text: String, source: String) throws -> ConfigNode {
        try YAMLLimits.checkNesting(text, source: source)
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            throw ConfigError.syntax(source: source, message: "\(e)")
        } catch {
            throw ConfigError.syntax(source: source, message: "\(error)")
        }
        guard let node else { return .null }
        var budget = YAMLLimits.maxNodes
        if !countWithin(node, budget: &budget) {
            throw ConfigError.tooComplex(source: source, message:
                "the document has more than \(YAMLLimits.maxNodes) nodes once its aliases (*name) are expanded; "
                + "the limit is \(YAMLLimits.maxNodes) (do aliases refer to lists of aliases?)")
        }
        return try ConfigNode(yams: node, source: source, path: [])
    }

    /// Counts `node`'s nodes (aliases expanded: Yams resolves an alias to a copy of its
    /// anchor's node, so the tree can be far larger than the text) against `budget`, without
    /// building anything. - Returns: false as soon as the count exceeds the budget.
    static func countWithin(_ node: Node, budget: inout Int) -> Bool {
        budget -= 1
        if budget < 0 { return false }
        switch node {
        case .scalar: return true
        case let .sequence(seq):
            for n in seq where !countWithin(n, budget: &budget) { return false }
        case let .mapping(m):
            for (k, v) in m where !countWithin(k, budget: &budget) || !countWithin(v, budget: &budget) { return false }
        }
        return true
    }

    /// Reads and parses a YAML or JSON file.
    /// - Throws: `ConfigError.fileNotFound` / `.unreadable` naming the file, `.syntax`, or
    ///   `.tooComplex` (see `parse(yaml:source:)`).
    public static func load(file url: URL) throws -> ConfigNode {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ConfigError.fileNotFound(what: "config file", given: url.path, lookedAt: [url.path])
        }
        let data: Data
        do { data = try regularFileData(url) } catch {
            throw ConfigError.unreadable(file: url.path, reason: readFailureReason(url.path, error))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError.unreadable(file: url.path, reason: "not UTF-8 text")
        }
        return try parse(yaml: text, source: url.path)
    }

    /// Converts a composed Yams node (whose size `parse` has checked with `countWithin`).
    init(yams node: Node, source: String, path: [String]) throws {
        switch node {
        case let .scalar(s):
            self = ConfigNode.resolve(scalar: s)
        case let .sequence(seq):
            var items: [ConfigNode] = []
            for (i, n) in seq.enumerated() {
                items.append(try ConfigNode(yams: n, source: source, path: path + [String(i)]))
            }
            self = .list(items)
        case let .mapping(m):
            var pairs: [(key: String, value: ConfigNode)] = []
            var seen = Set<String>()
            for (k, v) in m {
                guard case let .scalar(ks) = k else {
                    throw ConfigError.syntax(source: source,
                                             message: "a key under '\(path.joined(separator: "."))' is not a plain scalar")
                }
                let key = ks.string
                if !seen.insert(key).inserted {
                    let where_ = (path + [key]).joined(separator: ".")
                    throw ConfigError.syntax(source: source, message: "duplicate key '\(where_)'")
                }
                pairs.append((key, try ConfigNode(yams: v, source: source, path: path + [key])))
            }
            self = .map(pairs)
        }
    }

    static func resolve(scalar s: Node.Scalar) -> ConfigNode {
        let tag = Node.scalar(s).tag.description
        switch tag {
        case Tag.Name.null.rawValue: return .null
        case Tag.Name.bool.rawValue: return Bool.construct(from: s).map { .bool($0) } ?? .string(s.string)
        case Tag.Name.int.rawValue:
            if let i = Int.construct(from: s) { return .int(i) }
            return Double.construct(from: s).map { .double($0) } ?? .string(s.string)
        case Tag.Name.float.rawValue: return Double.construct(from: s).map { .double($0) } ?? .string(s.string)
        default: return .string(s.string)
        }
    }

    /// How a plain (unquoted) YAML scalar with this text would be read.
    static func resolvePlain(_ text: String) -> ConfigNode {
        resolve(scalar: Node.Scalar(text))
    }
}

// MARK: - YAML writing

extension ConfigNode {
    /// The node as block-style YAML that parses back to an equal node (maps in order, lists of
    /// scalars in flow style, strings quoted only when a plain scalar would read differently).
    public func yamlText() -> String {
        var out = ""
        switch self {
        case .map(let m) where !m.isEmpty: emitMap(m, indent: 0, into: &out)
        case .list(let l) where !l.isEmpty && !l.allSatisfy(\.isScalar): emitList(l, indent: 0, into: &out)
        default: out = inlineText + "\n"
        }
        return out
    }

    var isScalar: Bool {
        switch self {
        case .list, .map: return false
        default: return true
        }
    }

    var inlineText: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .double(d):
            let t = ConfigNode.format(d)
            return t
        case let .string(s): return ConfigNode.quoteIfNeeded(s)
        case let .list(l): return "[" + l.map(\.inlineText).joined(separator: ", ") + "]"
        case let .map(m): return "{" + m.map { "\(ConfigNode.quoteIfNeeded($0.key)): \($0.value.inlineText)" }.joined(separator: ", ") + "}"
        }
    }

    static func quoteIfNeeded(_ s: String) -> String {
        let special = CharacterSet(charactersIn: ":#{}[],&*!|>'\"%@`\n\t\\")
        let plainOK = !s.isEmpty
            && s.rangeOfCharacter(from: special) == nil
            && s.first != " " && s.last != " " && s.first != "-" && s.first != "?"
            && resolvePlain(s) == .string(s)
        if plainOK { return s }
        if s.contains("\n") || s.contains("\t") || s.contains("\\") {
            var e = "\""
            for ch in s.unicodeScalars {
                switch ch {
                case "\n": e += "\\n"
                case "\t": e += "\\t"
                case "\\": e += "\\\\"
                case "\"": e += "\\\""
                default: e.unicodeScalars.append(ch)
                }
            }
            return e + "\""
        }
        return "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
    }

    private func emitMap(_ m: [(key: String, value: ConfigNode)], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for (k, v) in m {
            let key = ConfigNode.quoteIfNeeded(k)
            switch v {
            case .map(let sub) where !sub.isEmpty:
                out += "\(pad)\(key):\n"
                emitMap(sub, indent: indent + 2, into: &out)
            case .list(let l) where !l.isEmpty && !l.allSatisfy(\.isScalar):
                out += "\(pad)\(key):\n"
                emitList(l, indent: indent + 2, into: &out)
            default:
                out += "\(pad)\(key): \(v.inlineText)\n"
            }
        }
    }

    private func emitList(_ l: [ConfigNode], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for item in l {
            switch item {
            case .map(let sub) where !sub.isEmpty:
                // first pair on the dash line, the rest aligned under it
                var first = ""
                emitMap([sub[0]], indent: indent + 2, into: &first)
                out += pad + "- " + first.dropFirst(indent + 2)
                if sub.count > 1 { emitMap(Array(sub.dropFirst()), indent: indent + 2, into: &out) }
            case .list(let sub) where !sub.isEmpty && !sub.allSatisfy(\.isScalar):
                out += "\(pad)-\n"
                emitList(sub, indent: indent + 2, into: &out)
            default:
                out += "\(pad)- \(item.inlineText)\n"
            }
        }
    }
}
