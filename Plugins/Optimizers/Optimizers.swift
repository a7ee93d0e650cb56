// RAMOptimizers: optimizers and learning-rate schedules by PaddleClas name. The optimizers
// themselves (AdamW) need RAMTensor's gradients and are not written yet; the schedules are.
import Foundation
import RAMCore

/// Registers the learning-rate schedule `Cosine`.
public enum OptimizersPlugin: RAMPlugin {
    public static func register(into registries: Registries) throws {
        try registries.lrScheduler.register("Cosine",
                                            summary: "linear warm-up from warmup_start_lr, then cosine decay to eta_min over the remaining steps") { c in
            try Cosine(config: c)
        }
    }
}

/// `Cosine` options (PaddleClas `Optimizer.lr` keys). `epochs` is the run's length (the engine
/// passes `Global.epochs` when the section leaves it out).
public struct CosineOptions: Codable, ConfigDefaults {
    public var learning_rate: Double = 0.1
    public var eta_min: Double = 0
    public var warmup_epoch: Int = 0
    public var warmup_start_lr: Double = 0
    public var epochs: Int = 1
    /// PaddleClas's key: update once per epoch instead of per step.
    public var by_epoch: Bool = false
    /// PaddleClas's key (resuming), accepted; the step passed to `learningRate` already counts from 0.
    public var last_epoch: Int = -1
    public init() {}
}

/// Linear warm-up then cosine annealing (SGDR, Loshchilov & Hutter 2017, eq. 5, without restarts;
/// PaddleClas ppcls/optimizer/learning_rate.py `Cosine` with `LinearWarmup`):
///
/// with W = warmup_epoch · stepsPerEpoch warm-up steps and T = epochs · stepsPerEpoch − W,
/// lr(t) = warmup_start_lr + (learning_rate − warmup_start_lr) · t / W            for t < W,
/// lr(t) = eta_min + ½ (learning_rate − eta_min) (1 + cos(π (t − W) / T))          otherwise.
/// With `by_epoch`, t and the step counts are whole epochs.
public struct Cosine: LRScheduler {
    public let options: CosineOptions

    public init(config: ComponentConfig) throws {
        let o = try config.decode(CosineOptions.self)
        guard o.epochs >= 1 else { throw ConfigError.invalidValue(path: "\(config.path).epochs", message: "must be at least 1, got \(o.epochs)") }
        // a warm-up longer than the run is allowed (a shortened run is all warm-up)
        guard o.warmup_epoch >= 0 else {
            throw ConfigError.invalidValue(path: "\(config.path).warmup_epoch", message: "must be 0 or more, got \(o.warmup_epoch)")
        }
        options = o
    }

    public init(options: CosineOptions) { self.options = options }

    public func learningRate(step: Int, stepsPerEpoch: Int) -> Float {
        let o = options
        let per = o.by_epoch ? 1 : max(stepsPerEpoch, 1)
        let t = o.by_epoch ? step / max(stepsPerEpoch, 1) : step
        let w = o.warmup_epoch * per
        if t < w {
            return Float(o.warmup_start_lr + (o.learning_rate - o.warmup_start_lr) * Double(t) / Double(w))
        }
        let total = max(o.epochs * per - w, 1)
        let progress = min(Double(t - w) / Double(total), 1)
        return Float(o.eta_min + 0.5 * (o.learning_rate - o.eta_min) * (1 + cos(Double.pi * progress)))
    }
}
