// RAMCheckpoint: readers for PyTorch zip checkpoints (.pth), PaddlePaddle pickles (.pdparams) and
// safetensors, plus pure helpers for loading them into models. Depends on Foundation only.

import Foundation

/// Every error a checkpoint reader throws. Each names the file (and, where there is one, the key or
/// zip entry) and says what was expected, so a user can act on it.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    public enum Kind: String, Equatable {
        case fileNotFound, notAFile, unreadable, truncated, notACheckpoint, unsupportedFormat
        case forbiddenGlobal, malformedPickle, malformedZip, malformedSafeTensors
        case storageTooShort, unsupportedDType, shapeMismatch, writeFailed, invalidArgument
    }
    public var kind: Kind
    /// The file the error is about ("" when there is none).
    public var file: String
    public var message: String

    public init(_ kind: Kind, file: String, _ message: String) {
        self.kind = kind; self.file = file; self.message = message
    }

    public var description: String {
        file.isEmpty ? message : "\(file): \(message)"
    }
}
