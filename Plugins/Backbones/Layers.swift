import RAMNN
import RAMTensor

// Small construction helpers shared by the Swin and ViT encoders (one place that knows the
// RAMNN initialisers).

/// SplitMix64 step: a new seed for each randomly initialised tensor.
func nextSeed(_ state: inout UInt64) -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// A Linear `in → out` with RAMNN's default (PyTorch-like uniform) random initialisation.
/// (The reference re-initialises with a truncated normal, std 0.02; random weights only matter
/// for benchmarks and as a training start, and every RAM model is fine-tuned from a checkpoint.)
func makeLinear(_ inFeatures: Int, _ outFeatures: Int, bias: Bool, seed: inout UInt64) -> Linear {
    Linear(inFeatures, outFeatures, bias: bias, seed: nextSeed(&seed))
}

func makeLayerNorm(_ dim: Int, eps: Float) -> LayerNorm {
    LayerNorm(dim, eps: eps)
}

func makeConv2dPatch(_ inChannels: Int, _ outChannels: Int, patch: Int, seed: inout UInt64) -> Conv2dPatch {
    Conv2dPatch(inChannels, outChannels, patch: patch, seed: nextSeed(&seed))
}

/// `[B, C, S, S]` → patch tokens `[B, (S/p)², O]` in raster order (the reference's
/// `proj(x).flatten(2).transpose(1, 2)`).
func patchTokens(_ x: Tensor, proj: Conv2dPatch, patch: Int) -> Tensor {
    let y = patchEmbed(x, weight: proj.weight.value, bias: proj.bias?.value, patch: patch)  // [B, O, h, w]
    let b = y.shape[0], o = y.shape[1], l = y.shape[2] * y.shape[3]
    return y.reshaped([b, o, l]).transposed(1, 2).contiguous()
}

func checkImageShape(_ shape: [Int], channels: Int, size: Int, model: String) throws {
    guard shape.count == 4, shape[0] > 0, shape[1] == channels, shape[2] == size, shape[3] == size else {
        throw BackboneConfigError(
            "\(model) backbone: input must be [B, \(channels), \(size), \(size)] (image_size \(size)), "
            + "got \(shape); resize images to the model's image_size")
    }
}
