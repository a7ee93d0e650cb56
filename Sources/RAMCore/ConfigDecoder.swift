import Foundation

/// A config struct whose defaults come from `init()`: keys the YAML leaves out keep the value
/// `init()` gives them. Declare the struct `Codable, ConfigDefaults` with a default for every stored
/// property and let Swift synthesise the rest:
///
/// ```swift
/// struct TopKConfig: Codable, ConfigDefaults {
///     var k = 5                    // `k: 3` in the YAML overrides it; `k: three` is refused
///     var language = "en"
///     var tag_list: String? = nil  // a key whose default is null
/// }
/// ```
public protocol ConfigDefaults: Encodable {
    init()
}

extension ConfigDefaults {
    /// `init()` as a config node (every non-nil property), the base that user keys are merged onto.
    public static func defaultNode() throws -> ConfigNode {
        let data = try JSONEncoder().encode(Self())
        let text = String(decoding: data, as: UTF8.self)
        return try ConfigNode.parse(yaml: text, source: "defaults of \(Self.self)")
    }
}

/// Strict decoding of `Decodable` types from a `ConfigNode`.
///
/// - Every key present in a map must be asked for by the type (an unknown key is an error naming
///   the dotted path, listing the keys the type reads, with the nearest one as "did you mean").
/// - Numbers accept integers, decimals and arithmetic expression strings (`1.0/255.0`, `1e-8`);
///   a word where a number is expected is an error. Strings accept scalars of any kind (YAML reads
///   an unquoted `1` as a number). `null` decodes as an empty map for structs (PaddleClas's
///   `- ToCHWImage:`), as nil for optionals, and is an error for other non-optional values.
/// - `ConfigNode` properties receive the raw subtree (any value is accepted).
public enum ConfigDecoding {
    /// Decodes `type` from `node`; `path` is the dotted path of `node` for error messages.
    /// When `type` conforms to `ConfigDefaults`, its defaults are merged under `node` first.
    public static func decode<T: Decodable>(_ type: T.Type, from node: ConfigNode, path: String) throws -> T {
        let ctx = DecodeContext(rootPath: path)
        let value = try ctx.unbox(T.self, node, [])
        try ctx.checkUnknownKeys()
        return value
    }
}

final class KeyUsage {
    let path: String
    let present: [String]
    var asked: [String] = []
    init(path: String, present: [String]) {
        self.path = path
        self.present = present
    }
    func ask(_ k: String) { if !asked.contains(k) { asked.append(k) } }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        stringValue = String(intValue)
        self.intValue = intValue
    }
}

final class DecodeContext {
    let rootPath: String
    var usages: [KeyUsage] = []
    init(rootPath: String) { self.rootPath = rootPath }

    func path(_ codingPath: [CodingKey]) -> String {
        let parts = (rootPath.isEmpty ? [] : [rootPath]) + codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
        return parts.joined(separator: ".")
    }

    func checkUnknownKeys() throws {
        for u in usages {
            for k in u.present where !u.asked.contains(k) {
                throw ConfigError.unknownKey(path: u.path, key: k, valid: u.asked)
            }
        }
    }

    func found(_ node: ConfigNode) -> String {
        switch node {
        case .null, .list, .map: return node.kindDescription + (node.isNull ? "" : " \(node.shortDescription)")
        default: return node.shortDescription
        }
    }

    func number(_ node: ConfigNode, _ cp: [CodingKey]) throws -> Double {
        switch node {
        case let .int(i): return Double(i)
        case let .double(d): return d
        case let .string(s):
            if let v = evaluateArithmetic(s) { return v }
            throw ConfigError.typeMismatch(path: path(cp), expected: "a number (or an arithmetic expression such as 1.0/255.0)", found: found(node))
        default:
            throw ConfigError.typeMismatch(path: path(cp), expected: "a number", found: found(node))
        }
    }

    func integer<I: FixedWidthInteger>(_ node: ConfigNode, _ cp: [CodingKey], _: I.Type) throws -> I {
        let d: Double
        switch node {
        case let .int(i):
            guard let v = I(exactly: i) else {
                throw ConfigError.invalidValue(path: path(cp), message: "\(i) is out of range for \(I.self)")
            }
            return v
        default:
            d = try number(node, cp)
        }
        guard d.rounded() == d, let v = I(exactly: d) else {
            throw ConfigError.typeMismatch(path: path(cp), expected: "an integer", found: found(node))
        }
        return v
    }

    func bool(_ node: ConfigNode, _ cp: [CodingKey]) throws -> Bool {
        if case let .bool(b) = node { return b }
        throw ConfigError.typeMismatch(path: path(cp), expected: "true or false", found: found(node))
    }

    func string(_ node: ConfigNode, _ cp: [CodingKey]) throws -> String {
        switch node {
        case let .string(s): return s
        case let .int(i): return String(i)
        case let .double(d): return ConfigNode.format(d)
        case let .bool(b): return b ? "True" : "False"
        default: throw ConfigError.typeMismatch(path: path(cp), expected: "a string", found: found(node))
        }
    }

    func unbox<T: Decodable>(_ type: T.Type, _ node: ConfigNode, _ cp: [CodingKey]) throws -> T {
        if T.self == ConfigNode.self { return node as! T }
        if T.self == String.self { return try string(node, cp) as! T }
        if T.self == Bool.self { return try bool(node, cp) as! T }
        if T.self == Double.self { return try number(node, cp) as! T }
        if T.self == Float.self { return Float(try number(node, cp)) as! T }
        if T.self == Int.self { return try integer(node, cp, Int.self) as! T }
        if T.self == Int32.self { return try integer(node, cp, Int32.self) as! T }
        if T.self == Int64.self { return try integer(node, cp, Int64.self) as! T }
        if T.self == UInt.self { return try integer(node, cp, UInt.self) as! T }
        if T.self == UInt8.self { return try integer(node, cp, UInt8.self) as! T }
        if T.self == UInt32.self { return try integer(node, cp, UInt32.self) as! T }
        if T.self == UInt64.self { return try integer(node, cp, UInt64.self) as! T }
        var node = node
        if let d = T.self as? any ConfigDefaults.Type {
            // keys left out take the values `init()` gives them (nested config structs too)
            switch node {
            case .map, .null: node = try d.defaultNode().merged(with: node.isNull ? .map([]) : node)
            default: break
            }
        }
        do {
            return try T(from: NodeDecoder(node: node, codingPath: cp, ctx: self))
        } catch let e as DecodingError {
            throw ConfigError.invalidValue(path: path(cp), message: describe(e))
        }
    }

    func describe(_ e: DecodingError) -> String {
        switch e {
        case let .dataCorrupted(c): return c.debugDescription
        case let .typeMismatch(t, c): return "expected \(t): \(c.debugDescription)"
        case let .valueNotFound(t, c): return "missing \(t): \(c.debugDescription)"
        case let .keyNotFound(k, c): return "missing key '\(k.stringValue)': \(c.debugDescription)"
        @unknown default: return "\(e)"
        }
    }
}

struct NodeDecoder: Decoder {
    let node: ConfigNode
    let codingPath: [CodingKey]
    let ctx: DecodeContext
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let pairs: [(key: String, value: ConfigNode)]
        switch node {
        case let .map(m): pairs = m
        case .null: pairs = []
        default:
            throw ConfigError.typeMismatch(path: ctx.path(codingPath), expected: "a map of settings", found: ctx.found(node))
        }
        let usage = KeyUsage(path: ctx.path(codingPath), present: pairs.map(\.key))
        ctx.usages.append(usage)
        return KeyedDecodingContainer(NodeKeyedContainer<Key>(pairs: pairs, codingPath: codingPath, ctx: ctx, usage: usage))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        switch node {
        case let .list(l): return NodeUnkeyedContainer(items: l, codingPath: codingPath, ctx: ctx)
        case .null: return NodeUnkeyedContainer(items: [], codingPath: codingPath, ctx: ctx)
        default:
            throw ConfigError.typeMismatch(path: ctx.path(codingPath), expected: "a list", found: ctx.found(node))
        }
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer {
        NodeSingleValueContainer(node: node, codingPath: codingPath, ctx: ctx)
    }
}

struct NodeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let pairs: [(key: String, value: ConfigNode)]
    let codingPath: [CodingKey]
    let ctx: DecodeContext
    let usage: KeyUsage

    var allKeys: [Key] { pairs.compactMap { Key(stringValue: $0.key) } }

    func contains(_ key: Key) -> Bool {
        usage.ask(key.stringValue)
        return pairs.contains { $0.key == key.stringValue }
    }

    func value(_ key: Key) throws -> ConfigNode {
        usage.ask(key.stringValue)
        guard let v = pairs.first(where: { $0.key == key.stringValue })?.value else {
            throw ConfigError.missingKey(path: ctx.path(codingPath), key: key.stringValue)
        }
        return v
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        usage.ask(key.stringValue)
        return pairs.first(where: { $0.key == key.stringValue })?.value.isNull ?? true
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let v = try value(key)
        let cp = codingPath + [key]
        if v.isNull, !(T.self == ConfigNode.self) {
            // a struct may be written as `Name:` with nothing after it
            if let r = try? ctx.unbox(T.self, .map([]), cp), isStructLike(T.self) { return r }
            throw ConfigError.typeMismatch(path: ctx.path(cp), expected: "a value", found: "null")
        }
        return try ctx.unbox(T.self, v, cp)
    }

    func isStructLike<T>(_: T.Type) -> Bool {
        !(T.self == String.self || T.self == Bool.self || T.self == Double.self || T.self == Float.self
            || T.self == Int.self || T.self is any Collection.Type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try NodeDecoder(node: value(key), codingPath: codingPath + [key], ctx: ctx).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try NodeDecoder(node: value(key), codingPath: codingPath + [key], ctx: ctx).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder {
        NodeDecoder(node: .map(pairs), codingPath: codingPath, ctx: ctx)
    }

    func superDecoder(forKey key: Key) throws -> Decoder {
        NodeDecoder(node: (try? value(key)) ?? .null, codingPath: codingPath + [key], ctx: ctx)
    }
}

struct NodeUnkeyedContainer: UnkeyedDecodingContainer {
    let items: [ConfigNode]
    let codingPath: [CodingKey]
    let ctx: DecodeContext
    var currentIndex = 0

    init(items: [ConfigNode], codingPath: [CodingKey], ctx: DecodeContext) {
        self.items = items
        self.codingPath = codingPath
        self.ctx = ctx
    }

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func next() throws -> (ConfigNode, [CodingKey]) {
        guard !isAtEnd else {
            throw ConfigError.invalidValue(path: ctx.path(codingPath), message: "the list has too few items (\(items.count))")
        }
        defer { currentIndex += 1 }
        return (items[currentIndex], codingPath + [AnyKey(intValue: currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return false }
        if items[currentIndex].isNull {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (n, cp) = try next()
        return try ctx.unbox(T.self, n, cp)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (n, cp) = try next()
        return try NodeDecoder(node: n, codingPath: cp, ctx: ctx).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        let (n, cp) = try next()
        return try NodeDecoder(node: n, codingPath: cp, ctx: ctx).unkeyedContainer()
    }

    mutating func superDecoder() throws -> Decoder {
        let (n, cp) = try next()
        return NodeDecoder(node: n, codingPath: cp, ctx: ctx)
    }
}

struct NodeSingleValueContainer: SingleValueDecodingContainer {
    let node: ConfigNode
    let codingPath: [CodingKey]
    let ctx: DecodeContext

    func decodeNil() -> Bool { node.isNull }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if node.isNull, !(T.self == ConfigNode.self) {
            throw ConfigError.typeMismatch(path: ctx.path(codingPath), expected: "a value", found: "null")
        }
        return try ctx.unbox(T.self, node, codingPath)
    }
}

// MARK: - ConfigNode as a Codable value

extension ConfigNode: Codable {
    /// Outside `ConfigDecoding` (e.g. JSON), reads any JSON-like value.
    public init(from decoder: Decoder) throws {
        if let d = decoder as? NodeDecoder {
            self = d.node
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let l = try? c.decode([ConfigNode].self) { self = .list(l) }
        else if let m = try? c.decode([String: ConfigNode].self) {
            self = .map(m.keys.sorted().map { ($0, m[$0]!) })
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a config value")
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case let .bool(b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case let .int(i):
            var c = encoder.singleValueContainer()
            try c.encode(i)
        case let .double(d):
            var c = encoder.singleValueContainer()
            try c.encode(d)
        case let .string(s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case let .list(l):
            var c = encoder.unkeyedContainer()
            for x in l { try c.encode(x) }
        case let .map(m):
            var c = encoder.container(keyedBy: AnyKey.self)
            for (k, v) in m { try c.encode(v, forKey: AnyKey(stringValue: k)) }
        }
    }
}
