import RAMCore
import RAMNN
import RAMTensor

/// Checkpoint preparation for the image encoders, applied to a state dict before
/// `Module.load`.
public enum BackboneCheckpoint {
    /// Rewrites the `<prefix>*` entries of a state dict so that `backbone` loads them:
    /// - Swin: drops the `relative_position_index` and `attn_mask` buffers (recomputed from the
    ///   geometry; the reference deletes them too when it loads Swin weights).
    /// - ViT: interpolates `pos_embed` bicubically when the checkpoint's patch grid differs from
    ///   the model's (the reference's `interpolate_pos_embed` in `ram/models/vit.py`, applied by
    ///   `load_checkpoint`); the class token's row is kept.
    /// Other keys pass through unchanged.
    /// - Parameters:
    ///   - tensors: the full state dict (keys such as `visual_encoder.layers.0...`).
    ///   - prefix: the backbone's key prefix, e.g. `"visual_encoder."` (may be `""`).
    /// - Throws: nothing for a ViT `pos_embed` that is not a `[1, 1 + g², C]` grid of the
    ///   model's width: it is passed through, for `Module.load`'s shape report.
    public static func adapt(_ tensors: [String: Tensor], prefix: String, for backbone: any Backbone) throws
        -> [String: Tensor]
    {
        var out = tensors
        if backbone is SwinTransformer {
            for key in tensors.keys where key.hasPrefix(prefix)
                && (key.hasSuffix(".relative_position_index") || key.hasSuffix(".attn_mask")) {
                out.removeValue(forKey: key)
            }
        }
        // A pos_embed that is not a [1, 1 + g², C] grid of this model's width (a checkpoint of
        // another model) is left as it is: the load then lists it with every other key that does
        // not fit, under a first line saying what the file is.
        if let vit = backbone as? VisionTransformer, let pos = tensors[prefix + "pos_embed"],
           vit.canAdaptPosEmbed(pos) {
            out[prefix + "pos_embed"] = try vit.adaptedPosEmbed(pos, key: prefix + "pos_embed")
        }
        return out
    }
}

extension VisionTransformer {
    /// Whether `pos` is a `[1, 1 + g², C]` position table of this model's width C (g any size).
    public func canAdaptPosEmbed(_ pos: Tensor) -> Bool {
        guard pos.rank == 3, pos.shape[0] == 1, pos.shape[2] == config.embedDim, pos.shape[1] > 1 else { return false }
        let g = Int(Double(pos.shape[1] - 1).squareRoot().rounded())
        return g * g == pos.shape[1] - 1
    }

    /// A checkpoint `pos_embed` `[1, 1 + g², C]` resized to this model's grid.
    /// - Throws: `BackboneConfigError` naming `key` when the shape is not `[1, 1 + g², C]`.
    public func adaptedPosEmbed(_ pos: Tensor, key: String) throws -> Tensor {
        let c = config.embedDim
        let extra = 1
        guard pos.rank == 3, pos.shape[0] == 1, pos.shape[2] == c, pos.shape[1] > extra else {
            throw BackboneConfigError("\(key): expected shape [1, 1 + grid², \(c)], found \(pos.shape)")
        }
        let oldTokens = pos.shape[1] - extra
        let oldGrid = Int(Double(oldTokens).squareRoot().rounded())
        guard oldGrid * oldGrid == oldTokens else {
            throw BackboneConfigError("\(key): \(oldTokens) position tokens do not form a square grid")
        }
        let newGrid = config.gridSize
        if oldGrid == newGrid { return pos }
        let resized = interpolatePosEmbed(pos.scalars, extraTokens: extra, oldGrid: oldGrid,
                                          newGrid: newGrid, dim: c)
        return Tensor(shape: [1, extra + newGrid * newGrid, c], scalars: resized)
    }
}

/// Resizes a position embedding `[extra + g₀², C]` (row-major, tokens then channels) to
/// `[extra + g₁², C]`: the first `extraTokens` rows are kept, the g₀×g₀ grid of each channel is
/// resampled to g₁×g₁ with PyTorch's bicubic interpolation (`F.interpolate(mode="bicubic",
/// align_corners=False)`: source coordinate `(o + ½)·g₀/g₁ − ½`, Keys cubic with A = −0.75,
/// border taps clamped), first along x then along y.
public func interpolatePosEmbed(_ values: [Float], extraTokens: Int, oldGrid: Int, newGrid: Int, dim: Int)
    -> [Float]
{
    precondition(values.count == (extraTokens + oldGrid * oldGrid) * dim,
                 "interpolatePosEmbed: \(values.count) values for \(extraTokens) + \(oldGrid)² tokens × \(dim)")
    var out = [Float](repeating: 0, count: (extraTokens + newGrid * newGrid) * dim)
    for i in 0..<(extraTokens * dim) { out[i] = values[i] }
    let taps = bicubicTaps(inSize: oldGrid, outSize: newGrid)
    // Separable: rows first (x), then columns (y), in Double.
    var tmp = [Double](repeating: 0, count: oldGrid * newGrid * dim)      // [oldY, newX, C]
    for y in 0..<oldGrid {
        for x in 0..<newGrid {
            let (idx, w) = taps[x]
            for c in 0..<dim {
                var s = 0.0
                for t in 0..<4 {
                    s += w[t] * Double(values[(extraTokens + y * oldGrid + idx[t]) * dim + c])
                }
                tmp[(y * newGrid + x) * dim + c] = s
            }
        }
    }
    for y in 0..<newGrid {
        let (idx, w) = taps[y]
        for x in 0..<newGrid {
            for c in 0..<dim {
                var s = 0.0
                for t in 0..<4 { s += w[t] * tmp[(idx[t] * newGrid + x) * dim + c] }
                out[(extraTokens + y * newGrid + x) * dim + c] = Float(s)
            }
        }
    }
    return out
}

/// For each output index, the four clamped source indices and their Keys-cubic weights
/// (A = −0.75), as PyTorch's `upsample_bicubic2d` with `align_corners=False`.
func bicubicTaps(inSize: Int, outSize: Int) -> [([Int], [Double])] {
    let a = -0.75
    func near(_ x: Double) -> Double { ((a + 2) * x - (a + 3)) * x * x + 1 }       // |x| ≤ 1
    func far(_ x: Double) -> Double { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }  // 1 < |x| < 2
    let scale = Double(inSize) / Double(outSize)
    return (0..<outSize).map { o in
        let src = (Double(o) + 0.5) * scale - 0.5
        let i0 = Int(src.rounded(.down))
        let t = src - Double(i0)
        let weights = [far(t + 1), near(t), near(1 - t), far(2 - t)]
        let indices = (-1...2).map { min(max(i0 + $0, 0), inSize - 1) }
        return (indices, weights)
    }
}
