import RAMTensor

/// A named, trainable (or buffer) tensor owned by a `Module`.
public final class Parameter {
    public var value: Tensor
    /// Buffers are saved in state dicts but not trained (e.g. Swin's relative_position_index).
    public let isBuffer: Bool

    public init(_ value: Tensor, isBuffer: Bool = false) {
        self.value = value
        self.isBuffer = isBuffer
    }
}

/// Base class of every layer and model.
///
/// Children and parameters are discovered by reflection over stored properties of type
/// `Parameter`, `Module`, `[Module]` and their optionals; the property name is the state-dict
/// name, so models spell properties as the reference does (`visual_encoder`, `image_proj`, ...).
open class Module {
    public var training: Bool = false

    public init() {}
}
