import Foundation
import RAMCheckpoint
import RAMBackbones
import RAMCore
import RAMNN
import RAMTensor

/// Loads a RAM-family checkpoint into `model` (shared by `ram` and `ram_plus`).
enum RAMLoader {
    /// Names of `model`'s `nn.Linear` weights (what Paddle stores transposed).
    static func linearWeightNames(_ model: Module) -> Set<String> {
        var out: Set<String> = []
        for (prefix, m) in model.namedModules() where m is Linear {
            out.insert(prefix.isEmpty ? "weight" : "\(prefix).weight")
        }
        return out
    }

    /// Sanitizes, checks strictly (every problem reported at once, with what the file is) and
    /// copies the weights in place.
    /// - Returns: a one-line summary.
    /// - Throws: `CheckpointError` (unreadable / malformed file), `RAMModelError.checkpointMismatch`.
    static func load(into model: Module, arch: String, from url: URL, visualEncoder: (any Backbone)? = nil,
                     skipPrefix: String? = nil) throws -> String {
        var contents = try Checkpoint.open(url)
        if let skip = skipPrefix { contents.tensors = contents.tensors.filter { !$0.key.hasPrefix(skip) } }
        let params = model.namedParameters().filter { p in skipPrefix.map { !p.0.hasPrefix($0) } ?? true }
        var expected: [String: [Int]] = [:]
        for (n, p) in params { expected[n] = p.shape }
        let tied = RAMArchSpec.tiedGroups(arch: arch, q2lLayers: 0, names: params.map(\.0))
        var s = try RAMSanitizer.sanitize(contents.tensors, isPaddle: contents.format == .pickle, expected: expected,
                                          linearWeights: linearWeightNames(model), tiedGroups: tied)
        var resized: [String: [Float]] = [:]
        for (k, (from, to)) in s.needsResize {
            guard let t = s.tensors[k] else { continue }
            let heads = t.shape[1]
            let window = (Int(Double(to).squareRoot().rounded()) + 1) / 2
            _ = from
            // The reference's interpolate_relative_pos_embed (RAMCheckpoint implements it).
            do {
                resized[k] = try PositionInterpolation.relativePositionBiasTable(try t.floats(), heads: heads, toWindow: window)
            } catch let e as CheckpointError {
                // (the interpolation knows neither the file nor the key)
                throw RAMModelError.badFile(path: url.path, message: "\(k) \(t.shape): \(e.message)")
            }
        }
        // ViT: a checkpoint trained at another image size has another patch grid; the reference's
        // load_checkpoint resizes visual_encoder.pos_embed bicubically (interpolate_pos_embed).
        let posKey = "visual_encoder.pos_embed"
        if let vit = visualEncoder as? VisionTransformer, let td = s.tensors[posKey], let want = expected[posKey],
           td.shape.count == 3, td.shape != want {
            let stored = Tensor(shape: td.shape, scalars: try td.floats())
            // (a table that is not a [1, 1 + g², C] grid of this width goes to the report as it is)
            if vit.canAdaptPosEmbed(stored) {
                resized[posKey] = try vit.adaptedPosEmbed(stored, key: "\(url.lastPathComponent): \(posKey)").scalars
            }
        }
        let storedShapes = s.tensors.mapValues(\.shape)
        var fileShapes = storedShapes
        for (k, (_, to)) in s.needsResize { fileShapes[k] = [to, fileShapes[k]?[1] ?? 0] }
        if let r = resized[posKey], let want = expected[posKey], r.count == want.reduce(1, *) { fileShapes[posKey] = want }
        var nonTensors: [String: String] = [:]
        for (k, v) in contents.nonTensors { nonTensors[RAMSanitizer.modelName(k)] = v }
        if let report = RAMSanitizer.mismatchReport(file: fileShapes, model: expected, fileAsStored: storedShapes,
                                                    nonTensors: nonTensors) {
            throw RAMModelError.checkpointMismatch(path: url.path, message: report)
        }
        var copied = 0
        for (name, p) in params {
            if let r = resized[name] {
                p.value = Tensor(shape: p.shape, scalars: r)
            } else if let td = s.tensors[name] {
                p.value = try tensor(from: td, shape: p.shape)
                // The file's pages are not needed again: keep the resident set to one copy.
                td.storage.store.evict(td.storage.start, td.storage.count)
            } else { continue }
            copied += 1
        }
        s.tensors.removeAll()
        var summary = "loaded \(copied) tensors from \(url.lastPathComponent) (\(contents.format.rawValue)); 0 missing, 0 unexpected"
        var notes: [String] = []
        if !s.dropped.isEmpty { notes.append("\(s.dropped.count) derived buffers skipped") }
        if !s.renamed.isEmpty { notes.append("\(s.renamed.count) vision_multi.* keys renamed") }
        if !s.filledFromTwin.isEmpty { notes.append("\(s.filledFromTwin.count) tied tensors taken from their twin") }
        if !s.transposed.isEmpty { notes.append("\(s.transposed.count) Paddle Linear weights transposed") }
        if s.paddleLayout == .torch {
            notes.append("the .pdparams Linear weights are already in torch layout [out, in]: none transposed")
        }
        if !s.needsResize.isEmpty { notes.append("\(s.needsResize.count) relative-position tables resized to the model's window") }
        if !notes.isEmpty { summary += "; " + notes.joined(separator: ", ") }
        return summary
    }

    /// A fresh contiguous float32 tensor holding `td`'s elements (one copy, straight from the
    /// mapped file into the tensor's storage).
    static func tensor(from td: TensorData, shape: [Int]) throws -> Tensor {
        var t = Tensor(zeros: shape)
        let n = t.count
        try td.floats(into: UnsafeMutableBufferPointer(start: t.storage.pointer, count: n))
        t.requiresGrad = false
        return t
    }
}

extension RAMPlus: PretrainedLoadable {
    /// Loads `.pth` (official `{'model': state_dict}`), `.pdparams` (PaddleClas) or
    /// `.safetensors` weights; see `RAMSanitizer` for the conversions.
    /// - Throws: `CheckpointError`, or `RAMModelError.checkpointMismatch` listing every missing /
    ///   unexpected / mis-shaped key and what the file is (RAM vs RAM++, Swin-B vs Swin-L, tags).
    public func loadPretrained(from url: URL) throws -> String {
        try RAMLoader.load(into: self, arch: "ram_plus", from: url, visualEncoder: visual_encoder)
    }
}

extension RAM: PretrainedLoadable {
    /// As `RAMPlus.loadPretrained`; the tied tagging head / tag encoder layers load from either copy.
    public func loadPretrained(from url: URL) throws -> String {
        try RAMLoader.load(into: self, arch: "ram", from: url, visualEncoder: visual_encoder)
    }
}
