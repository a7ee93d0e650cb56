import Foundation
import RAMImage
import RAMNN
import RAMTensor

/// One item flowing through a data pipeline: a file's bytes, then a decoded image, then the
/// model's input; plus the labels a dataset attaches for training and evaluation.
public struct Sample {
    /// The file the sample came from (for reports), if any.
    public var path: String?
    /// Encoded bytes (what `DecodeImage` reads).
    public var bytes: [UInt8]?
    /// The image after decoding / resizing / normalising.
    public var image: Image?
    /// Class indices of the positive tags (training / evaluation), if any.
    public var labels: [Int]?
    /// A caption (training RAM's text decoder / RAM++'s alignment), if any.
    public var text: String?
    /// How many classes the labels were written for (a multi-hot line's length), when the dataset
    /// knows it: metrics refuse labels written for another number of tags than the model has.
    public var labelCount: Int? = nil

    public init(path: String? = nil, bytes: [UInt8]? = nil, image: Image? = nil,
                labels: [Int]? = nil, text: String? = nil) {
        self.path = path
        self.bytes = bytes
        self.image = image
        self.labels = labels
        self.text = text
    }
}

/// An image encoder. Input `[B, 3, S, S]` normalised pixels; output `[B, 1 + L, C]` tokens
/// (Swin: token 0 is the average-pooled token; ViT: token 0 is the class token).
public protocol Backbone: Module {
    /// C, the width of the output tokens.
    var outputDim: Int { get }
    func forward(_ images: Tensor) -> Tensor
    /// Throws a message naming the expected `[B, 3, S, S]` when `shape` is not an input this
    /// encoder accepts (`forward` traps on those). Added by the backbones engineer; the default
    /// accepts everything.
    func checkInput(_ shape: [Int]) throws
}

extension Backbone {
    public func checkInput(_ shape: [Int]) throws {}
}

/// What a tagging model returns for a batch.
public struct TaggingOutput {
    /// `[B, numTags]` raw scores (before sigmoid).
    public var logits: Tensor
    /// `[B, 1 + L, 512]` projected image tokens, when the model computes them.
    public var imageEmbeds: Tensor?
    /// `[B, 1 + L, C]` backbone output, when kept.
    public var visual: Tensor?

    public init(logits: Tensor, imageEmbeds: Tensor? = nil, visual: Tensor? = nil) {
        self.logits = logits
        self.imageEmbeds = imageEmbeds
        self.visual = visual
    }
}

/// One image's tags, as post-processors produce them and the CLI prints them.
public struct Prediction: Equatable {
    public var file: String?
    public var classIds: [Int]
    public var scores: [Float]
    /// Tags in class order joined by `" | "` in the configured language(s); `""` when none.
    public var labelNames: String
    /// Per-language strings (`"en"`, `"cn"`) when available.
    public var tags: [String: String]

    public init(file: String? = nil, classIds: [Int], scores: [Float], labelNames: String,
                tags: [String: String] = [:]) {
        self.file = file
        self.classIds = classIds
        self.scores = scores
        self.labelNames = labelNames
        self.tags = tags
    }
}

/// A data-pipeline operator (PaddleClas "transform op"): mutates one sample.
public protocol Transform {
    func apply(_ sample: inout Sample) throws
}

/// Turns model outputs into predictions (PaddleClas "PostProcess").
public protocol PostProcess {
    /// - Parameters:
    ///   - output: the model's output for a batch of `B` images.
    ///   - files: `B` file names (or nil) in batch order.
    func process(_ output: TaggingOutput, files: [String?]) throws -> [Prediction]
    /// The number of classes (logits per image) this post-processor expects, or nil when it takes
    /// any number. The engine compares it with the model's `numTags` before reading any image.
    var classCount: Int? { get }
}

extension PostProcess {
    public var classCount: Int? { nil }
}

/// A tagging architecture (`Arch.name`: `ram`, `ram_plus`, ...).
public protocol TaggingModel: Module {
    /// S, the square input size in pixels the model expects.
    var imageSize: Int { get }
    /// The number of tags (logits per image).
    var numTags: Int { get }
    /// - Parameter images: `[B, 3, S, S]` normalised pixels.
    func forward(_ images: Tensor) -> TaggingOutput
}

// MARK: - Training, data and evaluation components (added by the framework)

/// A training loss (`Loss.Train: - RAMLoss: {weight: 1.0}`).
public protocol Loss {
    /// - Parameters:
    ///   - output: the model's output for a batch of B images.
    ///   - samples: the B samples of the batch (labels, captions).
    /// - Returns: a scalar tensor (shape `[]` or `[1]`), already multiplied by the loss's `weight`.
    func loss(_ output: TaggingOutput, samples: [Sample]) throws -> Tensor
}

/// An optimizer (`Optimizer.name: AdamW`). Updates parameters in place from their gradients.
public protocol Optimizer: AnyObject {
    /// One update step.
    /// - Parameters:
    ///   - parameters: `(state-dict name, parameter)` pairs of the model (names select weight-decay groups).
    ///   - learningRate: the rate for this step (from the `LRScheduler`).
    func step(_ parameters: [(String, Parameter)], learningRate: Float) throws
}

/// A learning-rate schedule (`Optimizer.lr.name: Cosine`).
public protocol LRScheduler {
    /// The learning rate at an optimizer step.
    /// - Parameters:
    ///   - step: 0-based global step.
    ///   - stepsPerEpoch: steps in one epoch (> 0), so epoch-based schedules (`warmup_epoch`) convert.
    func learningRate(step: Int, stepsPerEpoch: Int) -> Float
}

/// A dataset (`DataLoader.Train.dataset.name: ...`): indexed samples, not yet transformed.
public protocol Dataset {
    /// The number of samples.
    var count: Int { get }
    /// The sample at `index` (0 ..< count): its `path`, `bytes` and labels; transforms run later.
    /// - Throws: when the file cannot be read.
    func sample(at index: Int) throws -> Sample
}

/// Orders a dataset into batches (`DataLoader.Train.sampler.name: DistributedBatchSampler`).
public protocol Sampler {
    /// Batches of sample indices for one epoch.
    /// - Parameters:
    ///   - count: dataset size.
    ///   - epoch: 0-based epoch (seeds the shuffle, so every epoch differs and runs repeat).
    func batches(count: Int, epoch: Int) -> [[Int]]
}

/// An evaluation metric (`Metric.Eval: - ...`), accumulated over batches.
public protocol Metric: AnyObject {
    /// Forgets everything accumulated.
    func reset()
    /// Adds a batch.
    /// - Parameters:
    ///   - output: the model's output for B images (`logits [B, numTags]`).
    ///   - samples: the B samples (their `labels` are the positive class indices).
    func update(_ output: TaggingOutput, samples: [Sample]) throws
    /// The metric's values so far, by name (e.g. `["mAP": 0.71]`).
    func result() -> [(name: String, value: Double)]
}

/// A model that can load the official / PaddleClas weights (`Global.pretrained_model`).
public protocol PretrainedLoadable {
    /// Loads weights from a `.pth` / `.pdparams` / `.safetensors` file.
    /// - Returns: a one-line summary ("loaded 1,234 tensors from x.pth; 0 missing, 2 unexpected").
    /// - Throws: when the file is unreadable or does not match the architecture.
    func loadPretrained(from url: URL) throws -> String
}
