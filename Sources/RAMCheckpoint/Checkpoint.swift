import Foundation

/// The container format a checkpoint was recognised as (by content, never by file extension).
public enum CheckpointFormat: String, Sendable {
    /// `torch.save` zip archive: `<archive>/data.pkl` + `<archive>/data/<key>` storages (torch ≥ 1.6).
    case torchZip = "PyTorch zip (.pth)"
    /// A bare pickle of name → numpy array, as `paddle.save` writes `.pdparams`.
    case pickle = "pickle of numpy arrays (.pdparams)"
    /// safetensors: 8-byte header length, JSON header, raw little-endian data.
    case safetensors = "safetensors"
}

/// Everything a reader found in a checkpoint file.
public struct CheckpointContents {
    public var format: CheckpointFormat
    public var file: String
    /// The state dict: parameter / buffer name → tensor.
    public var tensors: [String: TensorData]
    /// The state dict's keys in file order.
    public var keys: [String]
    /// Where the state dict was found: `"model"`, `"state_dict"`, or `nil` for the top level.
    public var stateDictKey: String?
    /// Entries that were skipped: top-level entries next to the state dict (`optimizer`, `epoch`,
    /// `config`, ...) and non-tensor values inside it (Paddle's `StructuredToParameterName@@`).
    public var ignored: [String]
    /// safetensors `__metadata__` (empty for other formats).
    public var metadata: [String: String]
    /// State-dict entries whose value is not a tensor (a Python float, int, None, a dict, ...):
    /// name → what was found ("float 0.5", "None"). They are also in `ignored`; a loader that
    /// expects one of these names can say it is present but not a tensor, rather than missing.
    public var nonTensors: [String: String] = [:]

    /// Storages behind more than one key (tied weights): storage key → tensor names, sorted.
    /// RAM's checkpoint stores its tag encoder's lowest layers and `tagging_head` over one storage.
    public var sharedStorages: [String: [String]] {
        var byKey: [String: [String]] = [:]
        for (name, t) in tensors { byKey[t.storageKey, default: []].append(name) }
        return byKey.filter { $0.value.count > 1 }.mapValues { $0.sorted() }
    }

    /// Groups of tensor names that alias the very same elements (same storage, offset, shape and
    /// strides): loading from either copy gives the same values.
    public var tiedGroups: [[String]] {
        var groups: [String: [String]] = [:]
        for (name, t) in tensors {
            groups["\(t.storageKey)|\(t.offset)|\(t.shape)|\(t.strides)|\(t.dtype)", default: []].append(name)
        }
        return groups.values.filter { $0.count > 1 }.map { $0.sorted() }.sorted { $0[0] < $1[0] }
    }

    /// name → shape, for `LoadReport.compare` and `CheckpointIdentity`.
    public var shapes: [String: [Int]] { tensors.mapValues(\.shape) }
}

/// Entry point: open any supported checkpoint by content.
public enum Checkpoint {
    /// The state dict of the checkpoint at `url` (PyTorch zip `.pth`, `.pdparams` pickle, or
    /// safetensors, recognised by content). Tensors point into the memory-mapped file; nothing is
    /// converted until `TensorData.floats()`.
    /// - Throws: `CheckpointError` — `.fileNotFound`, `.notAFile` (directory), `.truncated`,
    ///   `.notACheckpoint`, `.unsupportedFormat` (legacy torch format, compressed zip entries),
    ///   `.forbiddenGlobal` (a pickle referring to anything but tensors/arrays/containers),
    ///   `.malformedPickle`, `.malformedZip` (a corrupt entry, two entries of one name, more than one
    ///   `data.pkl`, a `byteorder` other than little / big), `.malformedSafeTensors`, `.storageTooShort`,
    ///   `.unsupportedDType`. A state-dict value that is not a tensor is no error: see
    ///   `CheckpointContents.nonTensors`.
    public static func load(_ url: URL) throws -> [String: TensorData] {
        try open(url).tensors
    }

    /// Like `load`, with the format, key order, ignored entries and shared storages.
    /// - Throws: as `load`.
    public static func open(_ url: URL) throws -> CheckpointContents {
        try read(try ByteStore.map(url))
    }

    /// Parses a checkpoint held in `store` (mapped file or memory); `store.origin` names it in errors.
    static func read(_ store: ByteStore) throws -> CheckpointContents {
        let file = store.origin
        if ZipArchive.isZip(store) {
            return try TorchZip.read(store)
        }
        if store.count >= 2, store.base.load(as: UInt8.self) == 0x80 {
            if isLegacyTorch(store) {
                throw CheckpointError(.unsupportedFormat, file: file,
                    "this is the legacy (pre-1.6, non-zip) torch.save format, which is not supported. Convert it once with PyTorch: python -c \"import torch; sd = torch.load('in.pth', map_location='cpu', weights_only=True); torch.save(sd, 'out.pth')\"")
            }
            return try PaddleParams.read(store)
        }
        if SafeTensors.looksLikeSafeTensors(store) {
            return try SafeTensors.read(store)
        }
        // A safetensors file cut short or with a corrupt header length: the name or the '{' where
        // the JSON header starts says what it was meant to be.
        let namedSafeTensors = file.lowercased().hasSuffix(".safetensors")
        let braceAt8 = store.count > 8 && store.base.load(fromByteOffset: 8, as: UInt8.self) == UInt8(ascii: "{")
        if namedSafeTensors || braceAt8 {
            if store.count < 8 {
                throw CheckpointError(.truncated, file: file,
                    "truncated safetensors file: \(store.count) bytes, shorter than the 8-byte header length")
            }
            let n = store.load(UInt64.self, at: 0)
            if n > UInt64(store.count - 8) {
                throw CheckpointError(.truncated, file: file, SafeTensors.truncatedHeaderMessage(headerLength: n, fileSize: store.count))
            }
            if namedSafeTensors {
                return try SafeTensors.read(store)   // the length fits: the header itself is wrong
            }
        }
        let head = (0..<min(8, store.count)).map { String(format: "%02x", store.base.load(fromByteOffset: $0, as: UInt8.self)) }.joined(separator: " ")
        throw CheckpointError(.notACheckpoint, file: file,
            "not a checkpoint: expected a PyTorch zip (.pth, starts with 'PK'), a pickle (.pdparams, starts with 0x80) or safetensors (8-byte header length then '{'); the file starts with \(head)")
    }

    /// torch's legacy format starts with a pickled magic number 0x1950a86a20f9469cfc6c (LONG1 of 10 bytes).
    static func isLegacyTorch(_ store: ByteStore) -> Bool {
        let magic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
        guard store.count >= magic.count else { return false }
        for (i, b) in magic.enumerated() where store.base.load(fromByteOffset: i, as: UInt8.self) != b { return false }
        return true
    }

    /// Picks the state dict out of an unpickled top-level object and converts its values.
    static func stateDict(from top: PValue, format: CheckpointFormat, file: String) throws -> CheckpointContents {
        guard case .dict(let topDict) = top else {
            throw CheckpointError(.notACheckpoint, file: file, "the pickled object is a \(top.typeName), expected a dict of tensors (a state dict) or a dict holding one under 'model' or 'state_dict'")
        }
        var sd = topDict
        var sdKey: String? = nil
        var ignored: [String] = []
        for k in ["model", "state_dict"] {
            if case .dict(let inner)? = topDict[k] {
                sd = inner; sdKey = k
                for (key, _) in topDict.entries {
                    if case .string(let s) = key, s == k { continue }
                    ignored.append(describeKey(key))
                }
                break
            }
        }
        var tensors: [String: TensorData] = [:]
        var keys: [String] = []
        var nonTensors: [String: String] = [:]
        for (key, value) in sd.entries {
            guard case .string(let name) = key else { ignored.append(describeKey(key)); continue }
            switch value {
            case .tensor(let t):
                try t.validate(name: name, file: file)
                tensors[name] = t; keys.append(name)
            case .ndarray(let a):
                let t = try a.tensor(name: name, file: file)
                tensors[name] = t; keys.append(name)
            default:
                ignored.append(name)
                nonTensors[name] = value.summary
            }
        }
        if tensors.isEmpty {
            let names = topDict.entries.prefix(10).map { describeKey($0.key) }.joined(separator: ", ")
            throw CheckpointError(.notACheckpoint, file: file, "no tensors found: the top-level dict has keys [\(names)]; expected a state dict, or one under 'model' or 'state_dict'")
        }
        return CheckpointContents(format: format, file: file, tensors: tensors, keys: keys, stateDictKey: sdKey,
                                  ignored: ignored, metadata: [:], nonTensors: nonTensors)
    }

    private static func describeKey(_ k: PValue) -> String {
        switch k {
        case .string(let s): return s
        case .int(let i): return String(i)
        default: return "<\(k.typeName)>"
        }
    }
}

/// `torch.save` zip archives.
enum TorchZip {
    static func read(_ store: ByteStore) throws -> CheckpointContents {
        let file = store.origin
        let zip = try ZipArchive(store)
        let pkls = zip.entries.map(\.name).filter { $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }
        if pkls.count > 1 {
            let shown = pkls.prefix(4).map { "'\($0)'" }.joined(separator: ", ")
            throw CheckpointError(.malformedZip, file: file,
                "the zip holds \(pkls.count) state-dict pickles (\(shown)\(pkls.count > 4 ? ", ..." : "")): a torch.save archive has exactly one '<archive>/data.pkl', so which one is the checkpoint is ambiguous. Re-save the checkpoint with torch.save")
        }
        guard let pklName = pkls.first else {
            if zip.entries.contains(where: { $0.name.hasSuffix("constants.pkl") }) {
                throw CheckpointError(.notACheckpoint, file: file, "this is a TorchScript archive (torch.jit.save), not a state dict: save `model.state_dict()` with torch.save instead")
            }
            let names = zip.entries.prefix(5).map(\.name).joined(separator: ", ")
            throw CheckpointError(.notACheckpoint, file: file,
                "a zip archive but not a PyTorch checkpoint: no '<archive>/data.pkl' entry among its \(zip.entries.count) entries (\(names)\(zip.entries.count > 5 ? ", ..." : ""))")
        }
        let prefix = String(pklName.dropLast("data.pkl".count))
        if zip.byName[prefix + "byteorder"] != nil {
            let bo = try zip.data(prefix + "byteorder")
            let s = String(decoding: UnsafeRawBufferPointer(start: bo.pointer, count: bo.count), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if s == "big" {
                throw CheckpointError(.unsupportedFormat, file: file, "the checkpoint was saved on a big-endian machine; re-save it on a little-endian one")
            }
            guard s == "little" else {
                let shown = s.count > 20 ? String(s.prefix(20)) + "..." : s
                throw CheckpointError(.malformedZip, file: file,
                    "zip entry '\(prefix)byteorder' holds '\(shown.debugDescription.dropFirst().dropLast())', expected 'little' or 'big': corrupt checkpoint")
            }
        }
        var storages: [String: (DType, ByteSlice)] = [:]
        let persistentLoad: (PValue) throws -> PValue = { pid in
            // ('storage', storage_type, key, location, numel)
            guard case .tuple(let pt) = pid, pt.items.count >= 5, case .string("storage") = pt.items[0] else {
                throw CheckpointError(.malformedPickle, file: file, "\(pklName): unexpected persistent id \(pid.typeName); expected ('storage', type, key, location, numel)")
            }
            let t = pt.items
            guard case .global(.storageType(let dtype)) = t[1] else {
                throw CheckpointError(.unsupportedDType, file: file, "\(pklName): storage type \(t[1].typeName) is not a supported torch storage")
            }
            guard case .string(let key) = t[2], case .int(let numel) = t[4] else {
                throw CheckpointError(.malformedPickle, file: file, "\(pklName): storage key/numel malformed")
            }
            if let (d, s) = storages[key] {
                if d != dtype {
                    throw CheckpointError(.malformedPickle, file: file, "storage '\(key)' is used as both \(d) and \(dtype)")
                }
                return .storage(dtype: dtype, key: key, bytes: s)
            }
            let entry = prefix + "data/" + key
            guard zip.byName[entry] != nil else {
                throw CheckpointError(.notACheckpoint, file: file, "storage '\(key)' is referenced by \(pklName) but the zip has no entry '\(entry)'")
            }
            let bytes = try zip.data(entry)
            let need = numel.multipliedReportingOverflow(by: dtype.itemSize)
            if numel < 0 || need.overflow || bytes.count < need.partialValue {
                throw CheckpointError(.storageTooShort, file: file,
                    "storage '\(entry)' holds \(bytes.count) bytes but the pickle declares \(numel) \(dtype) elements (\(numel &* dtype.itemSize) bytes): truncated or corrupt")
            }
            let slice = ByteSlice(store: bytes.store, start: bytes.start, count: numel * dtype.itemSize)
            storages[key] = (dtype, slice)
            return .storage(dtype: dtype, key: key, bytes: slice)
        }
        return try Unpickler(try zip.data(pklName), file: file, context: pklName, persistentLoad: persistentLoad).load {
            try Checkpoint.stateDict(from: $0, format: .torchZip, file: file)
        }
    }
}

/// PaddlePaddle `.pdparams`: a pickled dict of name → numpy array.
public enum PaddleParams {
    static func read(_ store: ByteStore) throws -> CheckpointContents {
        let file = store.origin
        return try Unpickler(ByteSlice(store: store, start: 0, count: store.count), file: file, context: "the pickle").load {
            try Checkpoint.stateDict(from: $0, format: .pickle, file: file)
        }
    }

    /// Paddle's `nn.Linear` stores its weight as `[in, out]`; torch's as `[out, in]`. Returns
    /// `tensors` with each key in `keys` transposed (a view: shape and strides swapped, no copy).
    /// Shape alone cannot tell (square matrices), so the caller names the Linear weights.
    /// - Throws: `.invalidArgument` when a named key is missing or not 2-D.
    public static func transposingLinearWeights(_ tensors: [String: TensorData], keys: Set<String>) throws -> [String: TensorData] {
        var out = tensors
        for k in keys.sorted() {
            guard var t = out[k] else {
                throw CheckpointError(.invalidArgument, file: "", "transposingLinearWeights: key '\(k)' is not in the checkpoint")
            }
            guard t.shape.count == 2 else {
                throw CheckpointError(.invalidArgument, file: t.storage.store.origin, "transposingLinearWeights: '\(k)' has shape \(t.shape), expected a 2-D Linear weight")
            }
            t.shape = [t.shape[1], t.shape[0]]
            t.strides = [t.strides[1], t.strides[0]]
            out[k] = t
        }
        return out
    }
}
