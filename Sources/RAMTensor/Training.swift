/// Dropout (training only): zeroes each element with probability `p` and scales the rest by
/// 1/(1 − p); identity when `training` is false or p = 0. The mask is drawn from `seed`
/// (reproducible). Saves the mask.
public func dropout(_ x: Tensor, p: Float, training: Bool, seed: UInt64) -> Tensor {
    precondition(p >= 0 && p <= 1, "dropout: p = \(p) outside [0, 1]")
    if !training || p == 0 { return x }
    if p == 1 { return x * 0 }
    var rng = SeededRNG(seed: seed)
    let keep = 1 / (1 - p)
    let mask = Tensor(uninitialized: x.shape)
    let m = mask.storage.pointer
    for i in 0..<mask.count { m[i] = Float(rng.nextUnitDouble()) < p ? 0 : keep }
    return x * mask
}

/// Stochastic depth (timm `drop_path`, training only): each sample along axis 0 is zeroed
/// with probability `p`, survivors scaled by 1/(1 − p); identity when not training or p = 0.
/// x `[B, ...]`. Saves the per-sample mask.
public func dropPath(_ x: Tensor, p: Float, training: Bool, seed: UInt64) -> Tensor {
    precondition(p >= 0 && p <= 1, "dropPath: p = \(p) outside [0, 1]")
    if !training || p == 0 || x.rank == 0 { return x }
    if p == 1 { return x * 0 }
    var rng = SeededRNG(seed: seed)
    let keep = 1 / (1 - p)
    let B = x.shape[0]
    let scalars = (0..<B).map { _ in Float(rng.nextUnitDouble()) < p ? Float(0) : keep }
    let mask = Tensor(shape: [B] + [Int](repeating: 1, count: x.rank - 1), scalars: scalars)
    return x * mask
}

/// Cross-entropy over classes (torch `F.cross_entropy`, reduction 'mean'): logits `[N, C]`,
/// `targets` N class indices; rows whose target is `ignoreIndex` are skipped and the mean is
/// over the remaining rows (0 with a zero gradient when none remain; torch gives NaN). Traps on a target outside 0..<C
/// (validate labels before). Returns a scalar. Saves the log-probabilities.
public func crossEntropy(_ logits: Tensor, targets: [Int], ignoreIndex: Int = -100) -> Tensor {
    precondition(logits.rank == 2 && logits.shape[0] == targets.count,
                 "crossEntropy: logits \(logits.shape) ([N, C]) for \(targets.count) targets")
    let N = logits.shape[0], C = logits.shape[1]
    let valid = targets.filter { $0 != ignoreIndex }
    for t in valid { precondition(t >= 0 && t < C, "crossEntropy: target \(t) outside 0..<\(C)") }
    let w = Tensor(zeros: [N, C])
    let wp = w.storage.pointer
    let inv = 1 / Float(valid.count)
    for (i, t) in targets.enumerated() where t != ignoreIndex { wp[i * C + t] = inv }
    return -sum(logSoftmax(logits, axis: 1) * w)
}

/// Mean absolute error (torch `F.l1_loss`, reduction 'mean'): a and b of equal shape → scalar.
/// Saves a − b.
public func l1Loss(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape == b.shape, "l1Loss: shapes \(a.shape) and \(b.shape) differ")
    return mean(abs(a - b))
}
