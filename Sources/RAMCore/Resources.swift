import Foundation
import Logging

/// Files the package ships (`Sources/RAMCore/Resources/data`): the 4,585-tag English and Chinese
/// lists (`ram_tag_list.txt`, `ram_tag_list_chinese.txt`), the per-class thresholds
/// (`ram_tag_list_threshold.txt`), the BERT vocabulary (`bert_base_uncased_vocab.txt`) and the
/// reference architecture files (`reference-configs/med_config.json`, `reference-configs/q2l_config.json`,
/// `reference-configs/swin/config_swin{B,L}_{224,384}.json`).
public enum RAMResources {
    /// The folder holding the shipped files.
    /// - Throws: `ConfigError.fileNotFound` when the resource bundle is missing (a broken install).
    public static func directory() throws -> URL {
        if let url = Bundle.module.resourceURL?.appendingPathComponent("data"),
           FileManager.default.fileExists(atPath: url.path) {
            return url
        }
        throw ConfigError.fileNotFound(what: "resource folder", given: "data",
                                       lookedAt: [Bundle.module.bundlePath + "/data"])
    }

    /// The URL of a shipped file, by its path inside the resource folder.
    /// - Parameter name: e.g. `"ram_tag_list.txt"` or `"reference-configs/swin/config_swinL_384.json"`.
    /// - Throws: `ConfigError.fileNotFound` listing the shipped names.
    public static func url(for name: String) throws -> URL {
        let dir = try directory()
        let url = dir.appendingPathComponent(name)
        var isDir: ObjCBool = false
        if !name.isEmpty, !name.contains(".."), FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue {
            return url
        }
        let shipped = (try? names()) ?? []
        var looked = [url.path]
        if let m = nearestMatch(name, in: shipped) { looked.append("did you mean '\(m)'?") }
        looked.append("shipped resources: " + shipped.joined(separator: ", "))
        throw ConfigError.fileNotFound(what: "package resource", given: name, lookedAt: looked)
    }

    /// Every shipped file, as paths relative to the resource folder, sorted.
    public static func names() throws -> [String] {
        let dir = try directory()
        guard let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        var out: [String] = []
        let base = dir.standardizedFileURL.path
        for case let u as URL in e {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: u.path, isDirectory: &isDir), !isDir.boolValue {
                var p = u.standardizedFileURL.path
                if p.hasPrefix(base + "/") { p.removeFirst(base.count + 1) }
                out.append(p)
            }
        }
        return out.sorted()
    }

    /// Reads a shipped text file's lines exactly (no trimming: the Chinese list keeps trailing
    /// spaces), dropping only a final empty line.
    public static func lines(of name: String) throws -> [String] {
        try readLines(of: url(for: name))
    }

    /// Reads a text file's lines exactly (`\n` or `\r\n`), dropping only a final empty line.
    /// - Throws: `ConfigError.unreadable` naming the file.
    public static func readLines(of url: URL) throws -> [String] {
        let data: Data
        do { data = try regularFileData(url) } catch {
            throw ConfigError.unreadable(file: url.path, reason: readFailureReason(url.path, error))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError.unreadable(file: url.path, reason: "not UTF-8 text")
        }
        var lines = text.components(separatedBy: "\n").map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}

/// Resolves file paths written in configs.
public enum PathResolver {
    static let logger = Logger(label: "ramkit.config")

    /// PaddleClas's copies of the reference architecture files (ppcls/configs/ram/), by file name,
    /// and the shipped reference file with the same settings (the tagging head ignores vocab_size,
    /// the one value in which RAM_q2l.yaml and q2l_config.json differ).
    public static let paddleClasAliases = [
        "RAM_bert.yaml": "reference-configs/med_config.json",
        "RAM_q2l.yaml": "reference-configs/q2l_config.json",
    ]

    /// Resolves `path`: absolute paths as given; relative ones against the working directory, then
    /// against `baseDirectory` (the config file's folder); then, when `allowResourceFallback` and a
    /// shipped resource has the same file name (or is the `paddleClasAliases` entry for it), that
    /// resource (with a log line saying so).
    /// `~` expands to the home folder.
    /// - Throws: `ConfigError.fileNotFound` naming every place looked at.
    public static func resolve(_ path: String, what: String = "file", baseDirectory: URL?,
                               allowResourceFallback: Bool) throws -> URL {
        let fm = FileManager.default
        let expanded = (path as NSString).expandingTildeInPath
        var looked: [String] = []
        if expanded.hasPrefix("/") {
            if fm.fileExists(atPath: expanded) { return URL(fileURLWithPath: expanded) }
            looked.append(expanded)
        } else {
            // The system resolves each `..` (after a symbolic link too, as the shell does); the
            // path returned is the text-normalised one when it names the same file.
            let cwd = fm.currentDirectoryPath + "/" + expanded
            if pathExists(cwd) { return existingPathURL(cwd) }
            looked.append(lexicallyNormalizedPath(cwd))
            if let base = baseDirectory {
                // (tried even when its text is the same as the first: through a symbolic link
                // the two can lead to different places)
                let b = base.path + "/" + expanded
                if pathExists(b) { return existingPathURL(b) }
                if !looked.contains(lexicallyNormalizedPath(b)) { looked.append(lexicallyNormalizedPath(b)) }
            }
        }
        if allowResourceFallback {
            let fileName = (expanded as NSString).lastPathComponent
            if let shipped = try? RAMResources.names(),
               let match = paddleClasAliases[fileName] ?? shipped.first(where: { ($0 as NSString).lastPathComponent == fileName }),
               let url = try? RAMResources.url(for: match) {
                logger.info("\(path) not found (\(looked.joined(separator: ", "))); using the shipped resource \(match)")
                return url
            }
            looked.append("the package's shipped resources (no file named '\(fileName)')")
        }
        // A link that leads nowhere (a loop, a missing target) is not "not found": say so.
        let candidates = expanded.hasPrefix("/") ? [expanded]
            : [fm.currentDirectoryPath + "/" + expanded] + (baseDirectory.map { [$0.path + "/" + expanded] } ?? [])
        for c in candidates {
            if let reason = brokenLinkReason(c) { throw ConfigError.unreadable(file: lexicallyNormalizedPath(c), reason: reason) }
        }
        throw ConfigError.fileNotFound(what: what, given: path, lookedAt: looked)
    }
}
