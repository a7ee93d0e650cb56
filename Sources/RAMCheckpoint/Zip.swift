import Foundation

/// A read-only view of a zip archive held in a `ByteStore` (mmap). Only the central directory is
/// parsed; entries stored without compression (method 0, what `torch.save` writes) are returned
/// as slices of the mapped file, so nothing is copied. Zip64 archives (> 4 GiB, > 65535 entries)
/// are supported. CRCs are not verified (that would read every byte at open time).
/// Format: PKWARE APPNOTE.TXT sections 4.3.7 (local header), 4.3.12 (central directory),
/// 4.3.14–4.3.16 (zip64 and end of central directory records).
struct ZipArchive {
    struct Entry {
        let name: String
        let method: UInt16
        let flags: UInt16
        let compressedSize: Int
        let size: Int
        let localHeaderOffset: Int
        /// Where the next entry's local header (or the central directory) starts: this entry's
        /// data must end there or before.
        var dataLimit: Int = 0
    }

    let store: ByteStore
    let entries: [Entry]
    let byName: [String: Int]

    static func isZip(_ store: ByteStore) -> Bool {
        guard store.count >= 4 else { return false }
        let sig = store.load(UInt32.self, at: 0)
        return sig == 0x0403_4b50 || sig == 0x0605_4b50
    }

    init(_ store: ByteStore) throws {
        self.store = store
        let file = store.origin
        let n = store.count
        func fail(_ msg: String) -> CheckpointError { CheckpointError(.malformedZip, file: file, msg) }

        // End of central directory: 22 bytes + up to 65535 bytes of comment, at the end.
        var eocd = -1
        if n >= 22 {
            var p = n - 22
            let lowest = max(0, n - 22 - 65535)
            while p >= lowest {
                if store.load(UInt32.self, at: p) == 0x0605_4b50 { eocd = p; break }
                p -= 1
            }
        }
        guard eocd >= 0 else {
            throw CheckpointError(.truncated, file: file,
                "the zip's end-of-central-directory record is missing: the file is truncated (an incomplete download or copy?) or is not a zip archive (\(n) bytes)")
        }
        var count = Int(store.load(UInt16.self, at: eocd + 10))
        var cdSize = Int(store.load(UInt32.self, at: eocd + 12))
        var cdOffset = Int(store.load(UInt32.self, at: eocd + 16))
        if count == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            // zip64 end of central directory locator sits right before the EOCD.
            let loc = eocd - 20
            guard loc >= 0, store.load(UInt32.self, at: loc) == 0x0706_4b50 else {
                throw fail("zip64 archive without a zip64 end-of-central-directory locator")
            }
            let rec = Int(clamping: store.load(UInt64.self, at: loc + 8))
            guard store.contains(rec, 56), store.load(UInt32.self, at: rec) == 0x0606_4b50 else {
                throw fail("zip64 end-of-central-directory record not found at offset \(rec)")
            }
            count = Int(clamping: store.load(UInt64.self, at: rec + 32))
            cdSize = Int(clamping: store.load(UInt64.self, at: rec + 40))
            cdOffset = Int(clamping: store.load(UInt64.self, at: rec + 48))
        }
        guard store.contains(cdOffset, cdSize) else {
            throw CheckpointError(.truncated, file: file,
                "the zip's central directory (offset \(cdOffset), \(cdSize) bytes) lies beyond the end of the file (\(n) bytes): truncated or corrupt")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(min(count, 1 << 20))
        var byName: [String: Int] = [:]
        var p = cdOffset
        let end = cdOffset + cdSize
        for i in 0..<count {
            guard p + 46 <= end, store.load(UInt32.self, at: p) == 0x0201_4b50 else {
                throw fail("central directory entry \(i) of \(count) is corrupt (offset \(p))")
            }
            let flags = store.load(UInt16.self, at: p + 8)
            let method = store.load(UInt16.self, at: p + 10)
            var csize = Int(store.load(UInt32.self, at: p + 20))
            var usize = Int(store.load(UInt32.self, at: p + 24))
            let nameLen = Int(store.load(UInt16.self, at: p + 28))
            let extraLen = Int(store.load(UInt16.self, at: p + 30))
            let commentLen = Int(store.load(UInt16.self, at: p + 32))
            var local = Int(store.load(UInt32.self, at: p + 42))
            guard p + 46 + nameLen + extraLen + commentLen <= end else {
                throw fail("central directory entry \(i) runs past the directory's end")
            }
            let name = String(decoding: store.bytes(p + 46, nameLen), as: UTF8.self)
            // zip64 extended information extra field (id 0x0001): only the fields that are 0xFFFFFFFF.
            var q = p + 46 + nameLen
            let extraEnd = q + extraLen
            while q + 4 <= extraEnd {
                let id = store.load(UInt16.self, at: q)
                let size = Int(store.load(UInt16.self, at: q + 2))
                if id == 0x0001 {
                    var r = q + 4
                    if usize == 0xFFFF_FFFF, r + 8 <= q + 4 + size { usize = Int(clamping: store.load(UInt64.self, at: r)); r += 8 }
                    if csize == 0xFFFF_FFFF, r + 8 <= q + 4 + size { csize = Int(clamping: store.load(UInt64.self, at: r)); r += 8 }
                    if local == 0xFFFF_FFFF, r + 8 <= q + 4 + size { local = Int(clamping: store.load(UInt64.self, at: r)); r += 8 }
                }
                q += 4 + size
            }
            if byName[name] != nil {
                throw fail("the zip holds two entries named '\(name)' (central directory entry \(i) repeats an earlier one): which one to read is ambiguous")
            }
            byName[name] = entries.count
            entries.append(Entry(name: name, method: method, flags: flags, compressedSize: csize, size: usize,
                                 localHeaderOffset: local))
            p += 46 + nameLen + extraLen + commentLen
        }
        // Each entry's data ends before the next local header (or the central directory).
        let starts = Set(entries.map(\.localHeaderOffset)).sorted()
        for i in entries.indices {
            let h = entries[i].localHeaderOffset
            var lo = 0, hi = starts.count   // first start > h
            while lo < hi { let m = (lo + hi) / 2; if starts[m] <= h { lo = m + 1 } else { hi = m } }
            entries[i].dataLimit = lo < starts.count ? min(starts[lo], max(cdOffset, h)) : max(cdOffset, h)
        }
        self.entries = entries
        self.byName = byName
    }

    /// The bytes of entry `name`, in place.
    /// - Throws: `.unsupportedFormat` for compressed or encrypted entries, `.truncated` when the
    ///   data lies beyond the end of the file, `.malformedZip` when the entry's local header is
    ///   missing or disagrees with the central directory (another name, or data running into the
    ///   next entry).
    func data(_ name: String) throws -> ByteSlice {
        let file = store.origin
        guard let i = byName[name] else {
            throw CheckpointError(.malformedZip, file: file, "zip entry '\(name)' not found")
        }
        let e = entries[i]
        if e.flags & 1 != 0 {
            throw CheckpointError(.unsupportedFormat, file: file, "zip entry '\(name)' is encrypted")
        }
        if e.method != 0 {
            throw CheckpointError(.unsupportedFormat, file: file,
                "zip entry '\(name)' is compressed (method \(e.method)); only stored entries are read in place, as torch.save writes them. Re-save the checkpoint with torch.save, or unzip and re-zip it with `zip -0`")
        }
        let h = e.localHeaderOffset
        guard store.contains(h, 30), store.load(UInt32.self, at: h) == 0x0403_4b50 else {
            throw CheckpointError(store.contains(h, 30) ? .malformedZip : .truncated, file: file,
                "zip entry '\(name)': local header missing at offset \(h) (file is \(store.count) bytes): truncated or corrupt")
        }
        // The local header must agree with the central directory: same name, and data that ends
        // before the next entry. A corrupt name / extra length would otherwise shift the data.
        let localNameLen = Int(store.load(UInt16.self, at: h + 26))
        let localExtraLen = Int(store.load(UInt16.self, at: h + 28))
        let centralName = Array(name.utf8)
        let nameMatches = localNameLen == centralName.count && store.contains(h + 30, localNameLen)
            && store.bytes(h + 30, localNameLen).elementsEqual(centralName)
        guard nameMatches else {
            let what: String
            if localNameLen != centralName.count {
                what = "name length \(localNameLen), expected \(centralName.count)"
            } else {
                // Same length, other bytes: show them, escaped (the bytes may be anything).
                let shown = store.bytes(h + 30, max(0, min(localNameLen, 80, store.count - h - 30))).map { b -> String in
                    (0x20..<0x7F).contains(b) && b != 0x5C ? String(UnicodeScalar(b)) : String(format: "\\x%02x", b)
                }.joined()
                what = "name '\(shown)'"
            }
            throw CheckpointError(.malformedZip, file: file,
                "corrupt zip entry '\(name)': its local header at offset \(h) does not match the central directory (\(what)): the archive is damaged")
        }
        let start = h + 30 + localNameLen + localExtraLen
        // The central directory is intact (it was parsed), so data running past the next entry or
        // the directory means a corrupt local header, not a truncated file.
        guard start <= e.dataLimit, e.size <= e.dataLimit - start else {
            throw CheckpointError(.malformedZip, file: file,
                "corrupt zip entry '\(name)': its local header at offset \(h) (extra field length \(localExtraLen)) puts its \(e.size) bytes at offset \(start), running past offset \(e.dataLimit) where the next entry or the central directory starts: the archive is damaged")
        }
        guard store.contains(start, e.size) else {
            throw CheckpointError(.truncated, file: file,
                "zip entry '\(name)' (\(e.size) bytes at offset \(start)) runs past the end of the file (\(store.count) bytes): truncated")
        }
        return ByteSlice(store: store, start: start, count: e.size)
    }
}
