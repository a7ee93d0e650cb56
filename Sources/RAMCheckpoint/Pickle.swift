import Foundation

// A restricted unpickler: it interprets the pickle opcodes (protocols 0–5) that torch.save and
// paddle.save emit, but builds only an allow-list of globals (see `PickleGlobal`). Any other
// global — `os.system`, `builtins.eval`, `subprocess.Popen`, any class — is refused with an error
// naming it the moment its GLOBAL / STACK_GLOBAL / INST opcode is read, before anything could be
// called; nothing is ever executed (the allowed "callables" are interpreted here, not run).
// This is the same promise as `torch.load(weights_only=True)`.
// Opcode semantics: CPython Lib/pickletools.py and PEP 3154 / PEP 574.

/// A mutable list (pickle lists are built incrementally and shared through the memo); also sets.
final class PList { var items: [PValue]; init(_ items: [PValue] = []) { self.items = items } }

/// A tuple. A class, like every container here, so that `PValue.dismantle` can free any graph
/// (however deep, cyclic or shared) without recursion.
final class PTuple { var items: [PValue]; init(_ items: [PValue]) { self.items = items } }

/// A mutable, insertion-ordered dict (dict and collections.OrderedDict).
final class PDict {
    private(set) var entries: [(key: PValue, value: PValue)] = []
    private var stringIndex: [String: Int] = [:]
    func set(_ k: PValue, _ v: PValue) {
        if case .string(let s) = k {
            if let i = stringIndex[s] { entries[i].value = v; return }
            stringIndex[s] = entries.count
        }
        entries.append((k, v))
    }
    func removeAll() { entries = []; stringIndex = [:] }
    subscript(_ key: String) -> PValue? {
        stringIndex[key].map { entries[$0].value }
    }
}

/// A numpy dtype under construction (`numpy.dtype(code, False, True)` then BUILD sets the byte order).
final class NPDType {
    var code: String
    var byteOrder: String = "="
    init(code: String) { self.code = code }
}

/// A numpy array under construction (`_reconstruct(ndarray, (0,), b'b')` then BUILD fills it in).
final class NPArray {
    var shape: [Int] = [0]
    var dtype: NPDType?
    var fortranOrder = false
    var data: ByteSlice?
}

/// The globals the unpickler will build. Everything else is refused.
enum PickleGlobal: Equatable {
    case orderedDict, rebuildTensorV2, rebuildParameter, storageType(DType)
    case npReconstruct, npNdarray, npDtype, npScalar, npFrombuffer, codecsEncode, builtinSet, builtinFrozenset

    static func resolve(module: String, name: String) -> PickleGlobal? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"): return .rebuildParameter
        case ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"): return .npReconstruct
        case ("numpy", "ndarray"): return .npNdarray
        case ("numpy", "dtype"): return .npDtype
        case ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"): return .npScalar
        case ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"): return .npFrombuffer
        case ("_codecs", "encode"): return .codecsEncode
        case ("builtins", "set"), ("__builtin__", "set"): return .builtinSet
        case ("builtins", "frozenset"), ("__builtin__", "frozenset"): return .builtinFrozenset
        case ("torch", _):
            if let d = DType(torchStorageName: name) { return .storageType(d) }
            return nil
        default: return nil
        }
    }

    /// A readable list of what is allowed, for the refusal message.
    static let allowedDescription = "collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter(_with_state), torch.<Float|Half|BFloat16|Double|Long|Int|Short|Char|Byte|Bool>Storage, numpy.core.multiarray._reconstruct, numpy.ndarray, numpy.dtype, numpy.core.multiarray.scalar, numpy.core.numeric._frombuffer, _codecs.encode, builtins.set/frozenset"
}

/// A value on the pickle machine's stack.
indirect enum PValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes(ByteSlice)
    case tuple(PTuple)
    case list(PList)
    case dict(PDict)
    case set(PList)
    case global(PickleGlobal)
    /// A torch storage returned by `persistent_load`.
    case storage(dtype: DType, key: String, bytes: ByteSlice)
    case tensor(TensorData)
    case ndarray(NPArray)
    case npdtype(NPDType)

    /// Frees a graph of values iteratively: children are moved to a work list and containers
    /// emptied before they are released, so no release ever recurses (deep nesting, cycles and
    /// shared sub-objects from the memo are all safe; each container is emptied once).
    static func dismantle(_ roots: [PValue]) {
        var work = roots
        while let v = work.popLast() {
            switch v {
            case .tuple(let t): work.append(contentsOf: t.items); t.items = []
            case .list(let l), .set(let l): work.append(contentsOf: l.items); l.items = []
            case .dict(let d):
                for e in d.entries { work.append(e.key); work.append(e.value) }
                d.removeAll()
            default: break
            }
        }
    }

    /// A short description for messages: "float 0.5", "int 5", "None", "str 'abc'", "dict of 2 entries".
    var summary: String {
        switch self {
        case .none: return "None"
        case .bool(let b): return "bool \(b ? "True" : "False")"
        case .int(let i): return "int \(i)"
        case .float(let f): return "float \(f)"
        case .string(let s): return "str '\(s.count > 40 ? String(s.prefix(40)) + "..." : s)'"
        case .bytes(let b): return "bytes of length \(b.count)"
        case .tuple(let t): return "tuple of \(t.items.count) items"
        case .list(let l): return "list of \(l.items.count) items"
        case .set(let l): return "set of \(l.items.count) items"
        case .dict(let d): return "dict of \(d.entries.count) entries"
        default: return typeName
        }
    }

    var typeName: String {
        switch self {
        case .none: return "None"; case .bool: return "bool"; case .int: return "int"; case .float: return "float"
        case .string: return "str"; case .bytes: return "bytes"; case .tuple: return "tuple"; case .list: return "list"
        case .dict: return "dict"; case .set: return "set"; case .global(let g): return "global \(g)"
        case .storage: return "storage"; case .tensor: return "tensor"; case .ndarray: return "numpy.ndarray"
        case .npdtype: return "numpy.dtype"
        }
    }
}

struct Unpickler {
    let data: ByteSlice
    let file: String
    /// What a pickle is called in messages ("data.pkl in the zip", "the pickle").
    let context: String
    /// torch's persistent_load: given the persistent id, returns the storage. nil: PERSID is an error.
    var persistentLoad: ((PValue) throws -> PValue)?

    init(_ data: ByteSlice, file: String, context: String, persistentLoad: ((PValue) throws -> PValue)? = nil) {
        self.data = data; self.file = file; self.context = context; self.persistentLoad = persistentLoad
    }

    private func err(_ msg: String, at pos: Int) -> CheckpointError {
        CheckpointError(.malformedPickle, file: file, "\(context): \(msg) (at byte \(pos))")
    }

    /// Runs the pickle and hands its top-level value to `consume`; afterwards (on success or
    /// error) frees every value it built without recursion (see `PValue.dismantle`).
    func load<R>(_ consume: (PValue) throws -> R) throws -> R {
        var stack: [PValue] = []
        var memo: [Int: PValue] = [:]
        defer { PValue.dismantle(stack + Array(memo.values)); stack = []; memo = [:] }
        let top = try run(&stack, &memo)
        stack = [top]
        return try consume(top)
    }

    private func run(_ stack: inout [PValue], _ memo: inout [Int: PValue]) throws -> PValue {
        let base = data.pointer
        let n = data.count
        var pos = 0
        var marks: [Int] = []

        @inline(__always) func need(_ k: Int) throws {
            if k < 0 { throw err("negative length \(k)", at: pos) }
            if k > n - pos {
                throw CheckpointError(.truncated, file: file, "\(context) ends early: needed \(k) more bytes at byte \(pos) of \(n) (the file is truncated: an incomplete download or copy?)")
            }
        }
        func u8() throws -> Int { try need(1); let v = Int(base.load(fromByteOffset: pos, as: UInt8.self)); pos += 1; return v }
        func u16() throws -> Int { try need(2); let v = Int(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: pos, as: UInt16.self))); pos += 2; return v }
        func u32() throws -> Int { try need(4); let v = Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: pos, as: UInt32.self))); pos += 4; return v }
        func i32() throws -> Int { try need(4); let v = Int(Int32(littleEndian: base.loadUnaligned(fromByteOffset: pos, as: Int32.self))); pos += 4; return v }
        func u64() throws -> Int {
            try need(8); let v = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: pos, as: UInt64.self)); pos += 8
            guard v <= UInt64(Int.max) else { throw err("length \(v) too large", at: pos - 8) }
            return Int(v)
        }
        func slice(_ k: Int) throws -> ByteSlice { try need(k); let s = ByteSlice(store: data.store, start: data.start + pos, count: k); pos += k; return s }
        func str(_ k: Int) throws -> String { let s = try slice(k); return String(decoding: UnsafeRawBufferPointer(start: s.pointer, count: k), as: UTF8.self) }
        func line() throws -> String {
            var e = pos
            while e < n && base.load(fromByteOffset: e, as: UInt8.self) != 10 { e += 1 }
            guard e < n else { throw CheckpointError(.truncated, file: file, "\(context) ends inside a text line at byte \(pos) (the file is truncated: an incomplete download or copy?)") }
            let s = String(decoding: UnsafeRawBufferPointer(start: base + pos, count: e - pos), as: UTF8.self)
            pos = e + 1
            return s
        }
        func pop() throws -> PValue {
            guard stack.count > (marks.last ?? 0) else { throw err("stack underflow", at: pos) }
            return stack.removeLast()
        }
        func popMark() throws -> [PValue] {
            guard let m = marks.popLast(), m <= stack.count else { throw err("MARK expected", at: pos) }
            let items = Array(stack[m...])
            stack.removeSubrange(m...)
            return items
        }
        func top() throws -> PValue {
            guard let v = stack.last, stack.count > (marks.last ?? 0) else { throw err("stack underflow", at: pos) }
            return v
        }
        func global(_ module: String, _ name: String) throws -> PValue {
            guard let g = PickleGlobal.resolve(module: module, name: name) else {
                throw CheckpointError(.forbiddenGlobal, file: file,
                    "\(context) refers to the global '\(module).\(name)', which is not allowed: a checkpoint may only contain tensors, numpy arrays and plain containers (allowed: \(PickleGlobal.allowedDescription)). Nothing was executed.")
            }
            return .global(g)
        }
        func littleLong(_ bytes: ByteSlice) throws -> Int {
            let k = bytes.count
            if k == 0 { return 0 }
            guard k <= 8 else { throw err("integer of \(k) bytes does not fit in 64 bits", at: pos) }
            var v: UInt64 = 0
            for i in 0..<k { v |= UInt64(bytes.pointer.load(fromByteOffset: i, as: UInt8.self)) << (8 * UInt64(i)) }
            if k < 8, bytes.pointer.load(fromByteOffset: k - 1, as: UInt8.self) & 0x80 != 0 {
                v |= ~UInt64(0) << (8 * UInt64(k))  // sign-extend
            }
            return Int(Int64(bitPattern: v))
        }

        while true {
            let opPos = pos
            let op = try u8()
            switch op {
            case 0x80: _ = try u8()                                   // PROTO
            case 0x95: _ = try u64()                                  // FRAME
            case 0x2E:                                                // STOP
                guard stack.count == 1, marks.isEmpty else { throw err("STOP with \(stack.count) values on the stack", at: opPos) }
                return stack[0]
            case 0x28: marks.append(stack.count)                      // MARK
            case 0x30: _ = try pop()                                  // POP
            case 0x31: _ = try popMark()                              // POP_MARK
            case 0x32: stack.append(try top())                        // DUP
            case 0x4E: stack.append(.none)                            // NONE
            case 0x88: stack.append(.bool(true))                      // NEWTRUE
            case 0x89: stack.append(.bool(false))                     // NEWFALSE
            case 0x4A: stack.append(.int(try i32()))                  // BININT
            case 0x4B: stack.append(.int(try u8()))                   // BININT1
            case 0x4D: stack.append(.int(try u16()))                  // BININT2
            case 0x8A: stack.append(.int(try littleLong(try slice(try u8()))))   // LONG1
            case 0x8B:                                                 // LONG4
                let k = try i32(); stack.append(.int(try littleLong(try slice(k))))
            case 0x49:                                                 // INT (text)
                let s = try line()
                if s == "00" { stack.append(.bool(false)) } else if s == "01" { stack.append(.bool(true)) }
                else if let v = Int(s) { stack.append(.int(v)) } else { throw err("bad INT '\(s)'", at: opPos) }
            case 0x4C:                                                 // LONG (text)
                var s = try line(); if s.hasSuffix("L") { s.removeLast() }
                guard let v = Int(s) else { throw err("integer '\(s)' does not fit in 64 bits", at: opPos) }
                stack.append(.int(v))
            case 0x46:                                                 // FLOAT (text)
                let s = try line(); guard let v = Double(s) else { throw err("bad FLOAT '\(s)'", at: opPos) }
                stack.append(.float(v))
            case 0x47:                                                 // BINFLOAT (big-endian)
                try need(8)
                let bits = UInt64(bigEndian: base.loadUnaligned(fromByteOffset: pos, as: UInt64.self)); pos += 8
                stack.append(.float(Double(bitPattern: bits)))
            case 0x58: stack.append(.string(try str(try u32())))      // BINUNICODE
            case 0x8C: stack.append(.string(try str(try u8())))       // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(try str(try u64())))      // BINUNICODE8
            case 0x56: stack.append(.string(try line()))              // UNICODE (raw-unicode-escape; ASCII names)
            case 0x54:                                                 // BINSTRING (py2 str)
                let k = try i32(); stack.append(.bytes(try slice(k)))
            case 0x55: stack.append(.bytes(try slice(try u8())))      // SHORT_BINSTRING
            case 0x53:                                                 // STRING (quoted text)
                var s = try line()
                if s.count >= 2, let f = s.first, f == "'" || f == "\"", s.last == f { s.removeFirst(); s.removeLast() }
                stack.append(.string(s))
            case 0x42: stack.append(.bytes(try slice(try u32())))     // BINBYTES
            case 0x43: stack.append(.bytes(try slice(try u8())))      // SHORT_BINBYTES
            case 0x8E, 0x96: stack.append(.bytes(try slice(try u64())))  // BINBYTES8, BYTEARRAY8
            case 0x97, 0x98:                                           // NEXT_BUFFER, READONLY_BUFFER
                throw CheckpointError(.unsupportedFormat, file: file, "\(context) uses out-of-band buffers (pickle protocol 5 buffer_callback), which a file cannot carry")
            case 0x29: stack.append(.tuple(PTuple([])))               // EMPTY_TUPLE
            case 0x74: stack.append(.tuple(PTuple(try popMark())))    // TUPLE
            case 0x85: let a = try pop(); stack.append(.tuple(PTuple([a])))   // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); stack.append(.tuple(PTuple([a, b])))        // TUPLE2
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple(PTuple([a, b, c])))  // TUPLE3
            case 0x5D: stack.append(.list(PList()))                   // EMPTY_LIST
            case 0x6C: let l = PList(); l.items = try popMark(); stack.append(.list(l))  // LIST
            case 0x61:                                                 // APPEND
                let v = try pop()
                guard case .list(let l) = try top() else { throw err("APPEND to a non-list", at: opPos) }
                l.items.append(v)
            case 0x65:                                                 // APPENDS
                let vs = try popMark()
                guard case .list(let l) = try top() else { throw err("APPENDS to a non-list", at: opPos) }
                l.items.append(contentsOf: vs)
            case 0x7D: stack.append(.dict(PDict()))                   // EMPTY_DICT
            case 0x64:                                                 // DICT
                let vs = try popMark(); let d = PDict()
                guard vs.count % 2 == 0 else { throw err("DICT with an odd number of items", at: opPos) }
                for i in stride(from: 0, to: vs.count, by: 2) { d.set(vs[i], vs[i + 1]) }
                stack.append(.dict(d))
            case 0x73:                                                 // SETITEM
                let v = try pop(), k = try pop()
                guard case .dict(let d) = try top() else { throw err("SETITEM on a non-dict", at: opPos) }
                d.set(k, v)
            case 0x75:                                                 // SETITEMS
                let vs = try popMark()
                guard case .dict(let d) = try top() else { throw err("SETITEMS on a non-dict", at: opPos) }
                guard vs.count % 2 == 0 else { throw err("SETITEMS with an odd number of items", at: opPos) }
                for i in stride(from: 0, to: vs.count, by: 2) { d.set(vs[i], vs[i + 1]) }
            case 0x8F: stack.append(.set(PList()))                    // EMPTY_SET
            case 0x90:                                                 // ADDITEMS
                let vs = try popMark()
                guard case .set(let s) = try top() else { throw err("ADDITEMS on a non-set", at: opPos) }
                s.items.append(contentsOf: vs)
            case 0x91: stack.append(.set(PList(try popMark())))       // FROZENSET
            case 0x63:                                                 // GLOBAL
                let module = try line(), name = try line()
                stack.append(try global(module, name))
            case 0x93:                                                 // STACK_GLOBAL
                let nameV = try pop(), moduleV = try pop()
                guard case .string(let module) = moduleV, case .string(let name) = nameV else {
                    throw err("STACK_GLOBAL needs two strings", at: opPos)
                }
                stack.append(try global(module, name))
            case 0x69:                                                 // INST: builds a class instance
                let module = try line(), name = try line()
                _ = try global(module, name)
                throw err("INST of '\(module).\(name)' is not supported", at: opPos)
            case 0x6F:                                                 // OBJ
                let items = try popMark()
                throw err("OBJ (class instantiation\(items.first.map { " of \($0.typeName)" } ?? "")) is not allowed", at: opPos)
            case 0x81, 0x92:                                           // NEWOBJ, NEWOBJ_EX
                throw err("NEWOBJ (class instantiation) is not allowed in a checkpoint", at: opPos)
            case 0x82, 0x83, 0x84:                                     // EXT1/2/4
                throw CheckpointError(.forbiddenGlobal, file: file, "\(context) uses the copyreg extension registry (EXT opcodes), which is not allowed")
            case 0x52:                                                 // REDUCE
                let args = try pop(), callable = try pop()
                stack.append(try reduce(callable, args, at: opPos))
            case 0x62:                                                 // BUILD
                let state = try pop()
                try build(try top(), state, at: opPos)
            case 0x70:                                                 // PUT
                let s = try line(); guard let i = Int(s) else { throw err("bad PUT '\(s)'", at: opPos) }
                memo[i] = try top()
            case 0x71: memo[try u8()] = try top()                     // BINPUT
            case 0x72: memo[try u32()] = try top()                    // LONG_BINPUT
            case 0x94: memo[memo.count] = try top()                   // MEMOIZE
            case 0x67:                                                 // GET
                let s = try line()
                guard let i = Int(s), let v = memo[i] else { throw err("GET of unknown memo '\(s)'", at: opPos) }
                stack.append(v)
            case 0x68, 0x6A:                                           // BINGET, LONG_BINGET
                let i = op == 0x68 ? try u8() : try u32()
                guard let v = memo[i] else { throw err("memo \(i) read before it was written", at: opPos) }
                stack.append(v)
            case 0x51:                                                 // BINPERSID
                let pid = try pop()
                guard let pl = persistentLoad else {
                    throw err("persistent id in a pickle that is not inside a torch zip checkpoint", at: opPos)
                }
                stack.append(try pl(pid))
            case 0x50:                                                 // PERSID (text)
                let s = try line()
                guard let pl = persistentLoad else { throw err("persistent id outside a torch zip checkpoint", at: opPos) }
                stack.append(try pl(.string(s)))
            default:
                throw err(String(format: "unknown or unsupported opcode 0x%02x", op), at: opPos)
            }
        }
    }

    // MARK: - the allowed callables

    private func reduce(_ callable: PValue, _ argsV: PValue, at pos: Int) throws -> PValue {
        guard case .global(let g) = callable else { throw err("REDUCE on \(callable.typeName), not an allowed global", at: pos) }
        guard case .tuple(let argsT) = argsV else { throw err("REDUCE arguments are \(argsV.typeName), not a tuple", at: pos) }
        let args = argsT.items
        switch g {
        case .orderedDict:
            let d = PDict()
            if let first = args.first, case .list(let l) = first {
                for item in l.items {
                    guard case .tuple(let kv) = item, kv.items.count == 2 else { throw err("OrderedDict item is not a pair", at: pos) }
                    d.set(kv.items[0], kv.items[1])
                }
            }
            return .dict(d)
        case .rebuildTensorV2:
            // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
            guard args.count >= 4, case .storage(let dtype, let key, let bytes) = args[0],
                  case .int(let offset) = args[1] else {
                throw err("_rebuild_tensor_v2 expects (storage, offset, size, stride, ...), got (\(args.map(\.typeName).joined(separator: ", ")))", at: pos)
            }
            let shape = try intTuple(args[2], "size", at: pos)
            let strides = try intTuple(args[3], "stride", at: pos)
            return .tensor(TensorData(dtype: dtype, shape: shape, strides: strides, storageKey: key, offset: offset, storage: bytes))
        case .rebuildParameter:
            // _rebuild_parameter(data, requires_grad, backward_hooks[, state])
            guard let first = args.first, case .tensor = first else { throw err("_rebuild_parameter expects a tensor", at: pos) }
            return first
        case .storageType, .npNdarray:
            throw err("\(g) cannot be called", at: pos)
        case .npReconstruct:
            // _reconstruct(ndarray, (0,), b'b'): an empty array that BUILD fills in.
            guard let first = args.first, case .global(.npNdarray) = first else { throw err("_reconstruct of something other than numpy.ndarray", at: pos) }
            return .ndarray(NPArray())
        case .npDtype:
            guard let first = args.first, case .string(let code) = first else { throw err("numpy.dtype expects a type code", at: pos) }
            return .npdtype(NPDType(code: code))
        case .npScalar:
            // scalar(dtype, bytes): a 0-d array.
            guard args.count == 2, case .npdtype(let dt) = args[0], case .bytes(let b) = args[1] else {
                throw err("numpy scalar expects (dtype, bytes)", at: pos)
            }
            let a = NPArray(); a.shape = []; a.dtype = dt; a.data = b
            return .ndarray(a)
        case .npFrombuffer:
            // _frombuffer(buffer, dtype, shape, order)  (protocol 5 ndarray pickling, in-band)
            guard args.count == 4, case .bytes(let b) = args[0], case .npdtype(let dt) = args[1],
                  case .string(let order) = args[3] else {
                throw err("numpy _frombuffer expects (buffer, dtype, shape, order)", at: pos)
            }
            let a = NPArray(); a.shape = try intTuple(args[2], "shape", at: pos); a.dtype = dt; a.data = b
            a.fortranOrder = order == "F"
            return .ndarray(a)
        case .codecsEncode:
            // _codecs.encode(str, 'latin1'): how protocol 2 pickles Python 3 bytes.
            guard args.count == 2, case .string(let s) = args[0], case .string(let enc) = args[1],
                  enc == "latin1" || enc == "latin-1" else {
                throw err("_codecs.encode is only allowed as encode(str, 'latin1')", at: pos)
            }
            var out = [UInt8](); out.reserveCapacity(s.unicodeScalars.count)
            for u in s.unicodeScalars {
                guard u.value < 256 else { throw err("_codecs.encode: character outside latin1", at: pos) }
                out.append(UInt8(u.value))
            }
            let store = out.withUnsafeBytes { ByteStore.copying($0, origin: file) }
            return .bytes(ByteSlice(store: store, start: 0, count: out.count))
        case .builtinSet, .builtinFrozenset:
            if let first = args.first, case .list(let l) = first { return .set(PList(l.items)) }
            return .set(PList())
        }
    }

    private func build(_ obj: PValue, _ state: PValue, at pos: Int) throws {
        switch obj {
        case .ndarray(let a):
            // state: (version, shape, dtype, is_fortran, rawdata)
            guard case .tuple(let st) = state, st.items.count == 5 else { throw err("numpy array state is not a 5-tuple", at: pos) }
            let s = st.items
            a.shape = try intTuple(s[1], "shape", at: pos)
            guard case .npdtype(let dt) = s[2] else { throw err("numpy array state has no dtype", at: pos) }
            a.dtype = dt
            if case .bool(let f) = s[3] { a.fortranOrder = f } else if case .int(let f) = s[3] { a.fortranOrder = f != 0 }
            switch s[4] {
            case .bytes(let b): a.data = b
            case .string(let str):   // protocol 0/1 py2 data as latin1 text
                var out = [UInt8]()
                for u in str.unicodeScalars { out.append(UInt8(truncatingIfNeeded: u.value)) }
                let store = out.withUnsafeBytes { ByteStore.copying($0, origin: file) }
                a.data = ByteSlice(store: store, start: 0, count: out.count)
            default:
                throw CheckpointError(.unsupportedDType, file: file, "\(context): a numpy array of Python objects (dtype 'O') cannot be loaded as a tensor")
            }
        case .npdtype(let dt):
            // state: (version, byteorder, subarray, names, fields, elsize, alignment, flags)
            if case .tuple(let st) = state, st.items.count >= 2, case .string(let order) = st.items[1] { dt.byteOrder = order }
        case .dict:
            // OrderedDict attributes (torch's `_metadata`): ignored.
            break
        case .tensor:
            // torch may BUILD a tensor with its __dict__ / hooks state: ignored.
            break
        default:
            throw err("BUILD on \(obj.typeName) is not supported", at: pos)
        }
    }

    private func intTuple(_ v: PValue, _ what: String, at pos: Int) throws -> [Int] {
        let items: [PValue]
        switch v {
        case .tuple(let t): items = t.items
        case .list(let l): items = l.items
        case .int(let i): return [i]
        default: throw err("\(what) is \(v.typeName), expected a tuple of ints", at: pos)
        }
        return try items.map {
            guard case .int(let i) = $0 else { throw err("\(what) holds \($0.typeName), expected ints", at: pos) }
            return i
        }
    }
}

extension NPArray {
    /// Converts to `TensorData` over the pickle's own bytes (no copy).
    func tensor(name: String, file: String) throws -> TensorData {
        guard let dt = dtype, let bytes = data else {
            throw CheckpointError(.malformedPickle, file: file, "numpy array '\(name)' was never filled in (missing BUILD)")
        }
        var code = dt.code
        var order = dt.byteOrder
        if let f = code.first, "<>|=".contains(f) { order = String(f); code.removeFirst() }
        if order == ">" {
            throw CheckpointError(.unsupportedDType, file: file, "numpy array '\(name)' is big-endian ('>\(code)'); convert it with arr.astype('<\(code)')")
        }
        let map: [String: DType] = ["f4": .float32, "f2": .float16, "f8": .float64, "i8": .int64, "i4": .int32,
                                     "i2": .int16, "i1": .int8, "u1": .uint8, "b1": .bool]
        guard let d = map[code] else {
            throw CheckpointError(.unsupportedDType, file: file, "numpy array '\(name)' has dtype '\(dt.code)', expected one of f4 f2 f8 i8 i4 i2 i1 u1 b1")
        }
        guard let numel = TensorData.elementCount(shape) else {
            throw CheckpointError(.malformedPickle, file: file, "numpy array '\(name)': shape \(shape) is negative or has more than 2^40 elements")
        }
        var strides = TensorData.contiguousStrides(shape)
        if fortranOrder {
            var acc = 1
            for i in 0..<shape.count { strides[i] = acc; acc = acc &* max(shape[i], 1) }
        }
        let t = TensorData(dtype: d, shape: shape, strides: strides, storageKey: name, offset: 0, storage: bytes)
        let need = numel * d.itemSize
        if bytes.count != need {
            throw CheckpointError(.storageTooShort, file: file,
                "numpy array '\(name)' (shape \(shape), \(d)) needs \(need) bytes but its data holds \(bytes.count)")
        }
        return t
    }
}
