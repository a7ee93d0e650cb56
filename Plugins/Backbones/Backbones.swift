import Foundation
import RAMCore

/// The image encoders by the names RAM configs use (`Arch.vit`): `swin_b`, `swin_l` (Swin
/// Transformer) and `base`, `large` (ViT).
public enum BackboneFactory {
    /// The registered names.
    public static let names = ["swin_b", "swin_l", "base", "large"]

    /// Whether `name` is a Swin preset.
    public static func isSwin(_ name: String) -> Bool { name == "swin_b" || name == "swin_l" }

    /// Builds an encoder with random weights.
    /// - Parameters:
    ///   - name: `swin_b`, `swin_l`, `base` or `large`.
    ///   - imageSize: S, the square input size (`Arch.image_size`).
    ///   - visionConfig: overrides of the preset in the reference's format (inline map, or the
    ///     contents of a JSON such as `config_swinL_384.json` / `vit_tiny.json`), or nil. When it
    ///     gives `image_res` it must agree with `imageSize` (the reference asserts the same).
    ///   - source: where `visionConfig` came from, for error messages.
    /// - Throws: `BackboneConfigError` for an unknown name, an invalid override or an
    ///   `image_res` ≠ `imageSize`.
    public static func make(name: String, imageSize: Int, visionConfig: BackboneConfigValue? = nil,
                            source: String = "vision_config", seed: UInt64 = 0) throws -> any Backbone {
        if let v = visionConfig {
            let reader = try ConfigReader(v, source: source)
            for key in ["image_res", "image_size"] {
                if let given = try reader.int(key), given != imageSize {
                    throw BackboneConfigError("\(source).\(key) is \(given) but the model's image_size is "
                                              + "\(imageSize); they must agree")
                }
            }
        }
        switch name {
        case "swin_b", "swin_l":
            var config: SwinConfig
            if let v = visionConfig {
                // Start from the preset at a size it has, so a vision_config can describe any size.
                let base = try SwinConfig.preset(name, imageSize: imageSize == 384 ? 384 : 224)
                var start = base
                start.imageSize = imageSize
                config = try start.overridden(by: v, source: source)
                if config.imageSize != imageSize {
                    throw BackboneConfigError("\(source).image_res is \(config.imageSize) but image_size is "
                                              + "\(imageSize); they must agree")
                }
            } else {
                config = try SwinConfig.preset(name, imageSize: imageSize)
            }
            return try SwinTransformer(config: config, seed: seed)
        case "base", "large":
            var config = try ViTConfig.preset(name, imageSize: imageSize)
            if let v = visionConfig {
                config = try config.overridden(by: v, source: source)
                if config.imageSize != imageSize {
                    throw BackboneConfigError("\(source).image_res is \(config.imageSize) but image_size is "
                                              + "\(imageSize); they must agree")
                }
            }
            return try VisionTransformer(config: config, seed: seed)
        default:
            let suggestion = names.min(by: { editDistance($0, name) < editDistance($1, name) }) ?? "swin_l"
            throw BackboneConfigError("unknown backbone '\(name)' (did you mean '\(suggestion)'?); "
                                      + "known: \(names.joined(separator: ", "))")
        }
    }

    /// Like `make(name:imageSize:visionConfig:)` with the overrides read from a JSON file.
    /// - Throws: `BackboneConfigError` naming the file when it cannot be read or is invalid.
    public static func make(name: String, imageSize: Int, visionConfigFile url: URL, seed: UInt64 = 0) throws
        -> any Backbone
    {
        try make(name: name, imageSize: imageSize, visionConfig: try loadVisionConfigFile(url),
                 source: url.path, seed: seed)
    }
}

/// Registers the image encoders `swin_b`, `swin_l`, `base`, `large` in `registries.backbone`.
///
/// The component's node (what an arch passes, e.g. built from `Arch`) is a map with
/// - `image_size` (integer, required): S;
/// - `vision_config` (optional): an inline map of overrides, or a path to a JSON file in the
///   reference's format (resolved like every config path: working directory, then the config
///   file's folder, then the shipped resources such as `reference-configs/swin/config_swinL_384.json`).
public enum BackbonesPlugin: RAMPlugin {
    public static func register(into registries: Registries) throws {
        let summaries = [
            "swin_b": "Swin-B image encoder (embed 128, depths 2-2-18-2; window 7 at 224, 12 at 384) -> [B, 1+L, 1024]",
            "swin_l": "Swin-L image encoder (embed 192, depths 2-2-18-2; window 7 at 224, 12 at 384) -> [B, 1+L, 1536]",
            "base": "ViT-B/16 image encoder (768 wide, 12 blocks) -> [B, 1+L, 768]",
            "large": "ViT-L/16 image encoder (1024 wide, 24 blocks) -> [B, 1+L, 1024]",
        ]
        for name in BackboneFactory.names {
            try registries.backbone.register(name, summary: summaries[name] ?? name) { config in
                try BackboneFactory.make(name: name, config: config)
            }
        }
    }
}

extension BackboneFactory {
    /// Builds `name` from a component config (see `BackbonesPlugin`).
    /// - Throws: `ConfigError` for a missing/mistyped key or an unknown key (with the dotted path);
    ///   `ConfigError.fileNotFound` for a `vision_config` path found nowhere;
    ///   `BackboneConfigError` for invalid hyper-parameters.
    public static func make(name: String, config: ComponentConfig) throws -> any Backbone {
        let known = ["image_size", "vision_config"]
        guard let pairs = config.node.mapPairs else {
            throw ConfigError.typeMismatch(path: config.path, expected: "a map with image_size and vision_config",
                                           found: config.node.shortDescription)
        }
        for pair in pairs where !known.contains(pair.key) {
            throw ConfigError.unknownKey(path: config.path, key: pair.key, valid: known)
        }
        guard let sizeNode = config.node["image_size"] else {
            throw ConfigError.missingKey(path: config.path, key: "image_size")
        }
        guard case let .int(imageSize) = sizeNode, imageSize > 0 else {
            throw ConfigError.typeMismatch(path: config.path + ".image_size", expected: "a positive integer",
                                           found: sizeNode.shortDescription)
        }
        switch config.node["vision_config"] {
        case nil, .null?:
            return try make(name: name, imageSize: imageSize)
        case let .string(path)?:
            let url = try config.resolvePath(path)
            return try make(name: name, imageSize: imageSize, visionConfigFile: url)
        case let node?:
            guard case .map = node else {
                throw ConfigError.typeMismatch(path: config.path + ".vision_config",
                                               expected: "a map of overrides or a path to a JSON file",
                                               found: node.shortDescription)
            }
            return try make(name: name, imageSize: imageSize, visionConfig: BackboneConfigValue(node),
                            source: config.path + ".vision_config")
        }
    }
}

extension BackboneConfigValue {
    /// The same value from a parsed YAML node.
    public init(_ node: ConfigNode) {
        switch node {
        case .null: self = .null
        case let .bool(b): self = .bool(b)
        case let .int(i): self = .int(i)
        case let .double(d): self = .double(d)
        case let .string(s): self = .string(s)
        case let .list(l): self = .list(l.map(BackboneConfigValue.init))
        case let .map(m): self = .map(m.map { ($0.key, BackboneConfigValue($0.value)) })
        }
    }
}
