import Foundation
import XCTest

/// Runs the `ram` executable as a user would (it is built next to the test executable by
/// `swift build --build-tests`).
protocol RamProcessTesting: XCTestCase {}

extension RamProcessTesting {
    func ramBinary() throws -> URL {
        let exeDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [exeDir.appendingPathComponent("ram"), packageRoot.appendingPathComponent(".build/debug/ram")]
        if let f = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) { return f }
        XCTFail("the ram executable was not built; run `swift build --build-tests` first (looked at \(candidates.map(\.path)))")
        throw XCTSkip("no ram executable")
    }

    /// Runs `ram args...` in `cwd`, with `environment` added to this process's; returns (exit
    /// code, stdout, stderr). With `standardOutput` / `standardError`, that stream goes there
    /// instead (and comes back ""). A process ended by a signal gives 128 + the signal's number.
    func run(_ args: [String], cwd: URL? = nil, environment: [String: String] = [:],
             standardOutput: FileHandle? = nil, standardError: FileHandle? = nil) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = try ramBinary()
        p.arguments = args
        if let cwd { p.currentDirectoryURL = cwd }
        if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        let out = Pipe(), err = Pipe()
        p.standardOutput = standardOutput ?? out
        p.standardError = standardError ?? err
        try p.run()
        if standardOutput != nil { try? out.fileHandleForWriting.close() }
        if standardError != nil { try? err.fileHandleForWriting.close() }
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let code = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
        return (code, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}
