import Foundation

/// A named set of factories for one kind of component (`Arch`, `Transform`, `PostProcess`, ...).
///
/// A config picks a component by name (`Arch.name: ram_plus`, `- ResizeImage: {...}`); the
/// registry finds the factory registered under that name and hands it the component's
/// `ComponentConfig`, whose `decode(_:)` reads the factory's own typed parameters strictly.
public final class Registry<Component> {
    /// The kind's name in messages ("arch", "transform", ...).
    public let kind: String

    private struct Entry {
        let summary: String
        let factory: (ComponentConfig) throws -> Component
    }
    private var entries: [String: Entry] = [:]

    public init(kind: String) {
        self.kind = kind
    }

    /// Adds a component.
    /// - Parameters:
    ///   - name: the name configs use (case-sensitive, unique within this kind).
    ///   - summary: one line for `ram list`.
    ///   - factory: decodes its parameters from the `ComponentConfig` and builds the component.
    /// - Throws: `ConfigError.duplicateName` when `name` is already registered.
    public func register(_ name: String, summary: String,
                         _ factory: @escaping (ComponentConfig) throws -> Component) throws {
        guard entries[name] == nil else { throw ConfigError.duplicateName(kind: kind, name: name) }
        guard !name.isEmpty else { throw ConfigError.invalidValue(path: kind, message: "a component name cannot be empty") }
        entries[name] = Entry(summary: summary, factory: factory)
    }

    /// Builds the component registered as `name`.
    /// - Throws: `ConfigError.unknownName` (listing the registered names, with "did you mean")
    ///   when nothing is registered as `name`; whatever the factory throws otherwise.
    public func build(_ name: String, _ config: ComponentConfig) throws -> Component {
        guard let e = entries[name] else {
            throw ConfigError.unknownName(kind: kind, path: config.path, name: name, registered: names)
        }
        return try e.factory(config)
    }

    /// Every registered name, sorted.
    public var names: [String] { entries.keys.sorted() }

    /// The one-line description given at registration, or nil when `name` is not registered.
    public func summary(for name: String) -> String? { entries[name]?.summary }

    /// Whether `name` is registered.
    public func contains(_ name: String) -> Bool { entries[name] != nil }
}

/// What a component factory receives: where it is in the config, its YAML subtree, and the
/// registries (to build sub-components, e.g. an arch building its backbone by name).
public struct ComponentConfig {
    /// Dotted path of the component in the YAML, for error messages ("Infer.transforms.1.ResizeImage").
    public var path: String
    /// The component's parameters (for `name:`-style sections the `name` key is already removed;
    /// `null` when the YAML gives none, as in `- ToCHWImage:`).
    public var node: ConfigNode
    /// All registries, to build sub-components.
    public var registries: Registries
    /// The folder of the config file, the second place relative paths are looked for (nil: none).
    public var baseDirectory: URL?

    public init(path: String, node: ConfigNode, registries: Registries, baseDirectory: URL? = nil) {
        self.path = path
        self.node = node
        self.registries = registries
        self.baseDirectory = baseDirectory
    }

    /// Decodes the component's parameters strictly (see `ConfigDecoding`): an unknown key is an
    /// error naming the dotted path with "did you mean"; a word where a number is expected is refused.
    /// Types conforming to `ConfigDefaults` get their `init()` values for keys left out.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try ConfigDecoding.decode(type, from: node, path: path)
    }

    /// A sub-config for a child at `key` (path extended with `.key`).
    public func child(_ key: String, node: ConfigNode) -> ComponentConfig {
        ComponentConfig(path: path.isEmpty ? key : "\(path).\(key)", node: node, registries: registries,
                        baseDirectory: baseDirectory)
    }

    /// Resolves a path from the config: as given when absolute; else relative to the working
    /// directory, then to the config file's folder; then, for a file name that the package ships
    /// (PaddleClas's `ppcls/utils/ram/ram_tag_list.txt`), the shipped resource (logged).
    /// - Throws: `ConfigError.fileNotFound` naming every place looked at.
    public func resolvePath(_ path: String) throws -> URL {
        try PathResolver.resolve(path, what: "file", baseDirectory: baseDirectory, allowResourceFallback: true)
    }

    /// `resolvePath(path)` when a path is given, else the shipped resource `defaultResource`
    /// (e.g. `"ram_tag_list.txt"`).
    public func resolvePath(_ path: String?, defaultResource: String) throws -> URL {
        if let path, !path.isEmpty { return try resolvePath(path) }
        return try RAMResources.url(for: defaultResource)
    }
}

/// One typed registry per kind of component.
public final class Registries {
    public let arch = Registry<any TaggingModel>(kind: "arch")
    public let backbone = Registry<any Backbone>(kind: "backbone")
    public let transform = Registry<any Transform>(kind: "transform")
    public let postProcess = Registry<any PostProcess>(kind: "postprocess")
    public let loss = Registry<any Loss>(kind: "loss")
    public let optimizer = Registry<any Optimizer>(kind: "optimizer")
    public let lrScheduler = Registry<any LRScheduler>(kind: "lr scheduler")
    public let dataset = Registry<any Dataset>(kind: "dataset")
    public let sampler = Registry<any Sampler>(kind: "sampler")
    public let metric = Registry<any Metric>(kind: "metric")

    /// The shared libraries loaded into these registries (absolute paths), in load order.
    public internal(set) var loadedPlugins: [String] = []
    /// The error a shared-library plugin's entry point reported (see `ramkitRegister(_:_:)`).
    var pendingPluginError: Error?

    public init() {}

    /// The kinds as `ram list` shows them: (kind name, names with summaries).
    public var listing: [(kind: String, entries: [(name: String, summary: String)])] {
        func rows<C>(_ r: Registry<C>) -> (kind: String, entries: [(name: String, summary: String)]) {
            (r.kind, r.names.map { ($0, r.summary(for: $0) ?? "") })
        }
        return [rows(arch), rows(backbone), rows(transform), rows(postProcess), rows(loss),
                rows(optimizer), rows(lrScheduler), rows(dataset), rows(sampler), rows(metric)]
    }

    /// Every kind name accepted by `ram list KIND`.
    public static let kindNames = ["arch", "backbone", "transform", "postprocess", "loss", "optimizer",
                                   "lr scheduler", "dataset", "sampler", "metric"]
}

/// A module that adds components to the registries. Each plugin module exposes exactly one
/// `public enum <Name>Plugin: RAMPlugin`; registering has no side effect other than the calls
/// it makes on `registries` (nothing happens at import time).
public protocol RAMPlugin {
    /// Registers every component of the module.
    /// - Throws: `ConfigError.duplicateName` when a name is taken.
    static func register(into registries: Registries) throws
}
