import Foundation

/// Reference-counted float32 buffer behind one or more `Tensor` views.
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int) {
        self.count = count
        pointer = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(count, 1))
    }

    public convenience init(copying scalars: [Float]) {
        self.init(count: scalars.count)
        scalars.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: scalars.count) }
        }
    }

    deinit { pointer.deallocate() }
}

/// A float32 tensor: row-major storage, a shape, strides (in elements) and an element offset.
///
/// Views (`reshaped`, `permuted`, `transposed`, `slice`) share storage; kernels that need
/// contiguous data call `contiguous()`, which copies only when the view is not contiguous.
public struct Tensor: @unchecked Sendable {
    public internal(set) var storage: TensorStorage
    public internal(set) var shape: [Int]
    public internal(set) var strides: [Int]
    public internal(set) var offset: Int

    /// A contiguous tensor holding `scalars` in row-major order.
    /// - Precondition: `scalars.count` equals the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.reduce(1, *) == scalars.count,
                     "Tensor(shape: \(shape)) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.storage = TensorStorage(copying: scalars)
        self.shape = shape
        self.strides = Tensor.contiguousStrides(shape)
        self.offset = 0
    }

    /// A contiguous tensor of zeros with the given shape.
    public init(zeros shape: [Int]) {
        let n = shape.reduce(1, *)
        self.storage = TensorStorage(count: n)
        self.storage.pointer.initialize(repeating: 0, count: Swift.max(n, 1))
        self.shape = shape
        self.strides = Tensor.contiguousStrides(shape)
        self.offset = 0
    }

    public var rank: Int { shape.count }
    public var count: Int { shape.reduce(1, *) }

    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = acc
            acc *= shape[i]
        }
        return strides
    }
}
