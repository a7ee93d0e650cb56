// DefaultPlugins: the one list of plugin modules registered by default.
import RAMBackbones
import RAMCore
import RAMDatasets
import RAMMetrics
import RAMModels
import RAMOptimizers
import RAMPostProcess
import RAMTransforms

/// The default plugin set, listed in one place. Each module's `register(into:)` is called once,
/// in this order; a name registered twice is an error.
///
/// To add a module: depend on it in Package.swift (`RAMDefaultPlugins`'s dependencies), import
/// it here, and add its `<Name>Plugin.self` to `all`.
public enum DefaultPlugins {
    /// Every default plugin module.
    public static let all: [RAMPlugin.Type] = [
        BackbonesPlugin.self,
        RAMModelsPlugin.self,
        PostProcessPlugin.self,
        TransformsPlugin.self,
        DatasetsPlugin.self,
        MetricsPlugin.self,
        OptimizersPlugin.self,
    ]

    /// Fresh registries filled by every default plugin.
    /// - Throws: `ConfigError.duplicateName` when two modules register the same name.
    public static func registries() throws -> Registries {
        let r = Registries()
        for p in all { try p.register(into: r) }
        return r
    }
}
