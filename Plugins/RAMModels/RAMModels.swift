// RAMModels: BERT layers, the Query2Label tagging head, the `ram` and `ram_plus` archs.
// See docs/tagging.md.
import Foundation
import RAMCore

/// Registers the archs `ram` and `ram_plus` (their backbone is built by name from
/// `registries.backbone`, so `BackbonesPlugin` must be registered too).
public enum RAMModelsPlugin: RAMPlugin {
    public static func register(into registries: Registries) throws {
        try registries.arch.register("ram", summary: "RAM (Recognize Anything): Swin/ViT + Query2Label tagging head; tag encoder and text decoder carried for the official checkpoint") { config in
            try build(arch: "ram", config: config)
        }
        try registries.arch.register("ram_plus", summary: "RAM++: Swin/ViT + description-reweighted label queries + Query2Label tagging head") { config in
            try build(arch: "ram_plus", config: config)
        }
    }

    /// Plans the model from `Arch`, builds the backbone `Arch.vit` from the backbone registry
    /// (with `image_size` and `vision_config`) and assembles the arch (random weights; the engine
    /// loads `Global.pretrained_model`).
    /// - Throws: `ConfigError` / `RAMModelError` naming the key; the backbone's errors.
    public static func build(arch: String, config: ComponentConfig) throws -> any TaggingModel {
        let plan = try RAMArchPlan(arch: arch, config: config)
        var pairs: [(key: String, value: ConfigNode)] = [(key: "image_size", value: .int(plan.imageSize))]
        if let v = config.node["vision_config"], !v.isNull { pairs.append((key: "vision_config", value: v)) }
        let backbone = try config.registries.backbone.build(plan.vit, config.child("vit", node: .map(pairs)))
        return try plan.build(backbone: backbone)
    }
}
