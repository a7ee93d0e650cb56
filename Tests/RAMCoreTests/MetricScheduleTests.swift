import Foundation
import RAMCore
import RAMDefaultPlugins
import RAMEngine
import RAMMetrics
import RAMOptimizers
import RAMTensor
import XCTest

final class MetricTests: XCTestCase {
    // 3 images, 2 classes; hand-computed below.
    let logits = Tensor(shape: [3, 2], scalars: [2, -1,
                                                 1, 3,
                                                 0, 0])
    let samples = [Sample(labels: [0]), Sample(labels: [1]), Sample(labels: [0, 1])]

    func testMultiLabelMAPByHand() throws {
        let r = try DefaultPlugins.registries()
        let m = try r.metric.build("MultiLabelMAP", ComponentConfig(path: "Metric.Eval.0.MultiLabelMAP", node: .null, registries: r))
        // feed in two batches: the metric accumulates
        try m.update(TaggingOutput(logits: Tensor(shape: [2, 2], scalars: [2, -1, 1, 3])), samples: Array(samples[0..<2]))
        try m.update(TaggingOutput(logits: Tensor(shape: [1, 2], scalars: [0, 0])), samples: [samples[2]])
        // class 0: ranking by score [img0, img1, img2], positives img0, img2: AP = (1/1 + 2/3) / 2 = 5/6
        // class 1: ranking [img1, img2, img0], positives img1, img2: AP = (1/1 + 2/2) / 2 = 1
        XCTAssertEqual(m.result().first?.name, "mAP")
        XCTAssertEqual(m.result().first?.value ?? 0, (5.0 / 6.0 + 1.0) / 2.0, accuracy: 1e-12)
        m.reset()
        XCTAssertEqual(m.result().first?.value, 0)
    }

    func testHammingDistanceByHand() throws {
        let r = try DefaultPlugins.registries()
        let m = try r.metric.build("HammingDistance", ComponentConfig(path: "Metric.Eval.1.HammingDistance", node: .null, registries: r))
        try m.update(TaggingOutput(logits: logits), samples: samples)
        // predicted (score > 0.5): img0 {0}, img1 {0, 1}, img2 {} -> wrong: img1 class 0, img2 classes 0 and 1 = 3 of 6
        XCTAssertEqual(m.result().first?.value ?? -1, 0.5, accuracy: 1e-12)
        let bad = errorText { try m.update(TaggingOutput(logits: self.logits), samples: [Sample(labels: [0]), Sample(labels: [2]), Sample(labels: [])]) }
        XCTAssertTrue(bad.contains("has label 2, outside 0..<2"), bad)
    }
}

final class ScheduleTests: XCTestCase {
    func testCosineWithWarmupByHand() throws {
        let yaml = "Global:\n  epochs: 3\nOptimizer:\n  name: AdamW\n  lr:\n    name: Cosine\n    learning_rate: 0.1\n    warmup_epoch: 1\n    warmup_start_lr: 0\n"
        let engine = try Engine(config: RunConfig(root: ConfigNode.parse(yaml: yaml, source: "t")), registries: DefaultPlugins.registries())
        let lr = try engine.buildLRScheduler()   // epochs comes from Global.epochs
        // 2 steps per epoch: W = 2 warm-up steps, T = 3*2 - 2 = 4 cosine steps
        let expected: [Float] = [0, 0.05, 0.1, Float(0.05 * (1 + cos(Double.pi / 4))), 0.05, Float(0.05 * (1 + cos(3 * Double.pi / 4))), 0]
        for (t, e) in expected.enumerated() {
            XCTAssertEqual(lr.learningRate(step: t, stepsPerEpoch: 2), e, accuracy: 1e-7, "step \(t)")
        }
    }

    func testPaddleClasRAMScheduleNumbers() throws {
        // RAM.yaml: learning_rate 0.0004, eta_min 1e-6, warmup_epoch 10, warmup_start_lr 5e-7, epochs 120
        let c = Cosine(options: { var o = CosineOptions(); o.learning_rate = 4e-4; o.eta_min = 1e-6; o.warmup_epoch = 10
                                  o.warmup_start_lr = 5e-7; o.epochs = 120; return o }())
        XCTAssertEqual(c.learningRate(step: 0, stepsPerEpoch: 100), 5e-7, accuracy: 1e-12)
        XCTAssertEqual(c.learningRate(step: 500, stepsPerEpoch: 100), Float(5e-7 + (4e-4 - 5e-7) * 0.5), accuracy: 1e-10)
        XCTAssertEqual(c.learningRate(step: 1000, stepsPerEpoch: 100), 4e-4, accuracy: 1e-10)
        XCTAssertEqual(c.learningRate(step: 6500, stepsPerEpoch: 100), Float(1e-6 + 0.5 * (4e-4 - 1e-6)), accuracy: 1e-10)  // halfway
        XCTAssertEqual(c.learningRate(step: 12000, stepsPerEpoch: 100), 1e-6, accuracy: 1e-12)
    }

    func testBadWarmupIsRefusedAndLongWarmupRuns() throws {
        let r = try DefaultPlugins.registries()
        let node = try ConfigNode.parse(yaml: "learning_rate: 0.1\nwarmup_epoch: -1\nepochs: 2\n", source: "t")
        let e = errorText { _ = try r.lrScheduler.build("Cosine", ComponentConfig(path: "Optimizer.lr", node: node, registries: r)) }
        XCTAssertEqual(e, "'Optimizer.lr.warmup_epoch': must be 0 or more, got -1")
        let long = try ConfigNode.parse(yaml: "learning_rate: 0.1\nwarmup_epoch: 4\nepochs: 2\n", source: "t")
        let c = try r.lrScheduler.build("Cosine", ComponentConfig(path: "Optimizer.lr", node: long, registries: r))
        XCTAssertEqual(c.learningRate(step: 3, stepsPerEpoch: 1), 0.075, accuracy: 1e-7)   // 3/4 of the warm-up
    }
}
