import Foundation
import RAMCore
import XCTest

final class PathTests: XCTestCase {
    func testLexicalNormalisation() {
        XCTAssertEqual(lexicallyNormalizedPath("/a/b/../c/./d//e/"), "/a/c/d/e")
        XCTAssertEqual(lexicallyNormalizedPath("/a/../../b"), "/b")
        XCTAssertEqual(lexicallyNormalizedPath("/.."), "/")
        XCTAssertEqual(lexicallyNormalizedPath("../x/../../y"), "../../y")
        XCTAssertEqual(lexicallyNormalizedPath("a/.."), ".")
        XCTAssertEqual(lexicallyNormalizedPath("./a/b"), "a/b")
    }

    /// `work/../link/x` resolves to the same text as `link/x`: the symbolic link is kept (it used
    /// to be resolved when the path had a `..`, so the same file was printed under two names).
    func testResolveKeepsSymbolicLinks() throws {
        let dir = try temporaryFolder(self)
        let real = dir.appendingPathComponent("real")
        try FileManager.default.createDirectory(at: real.appendingPathComponent("images"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("work"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("link"), withDestinationURL: real)
        let viaDots = try PathResolver.resolve("../link/images", baseDirectory: dir.appendingPathComponent("work"), allowResourceFallback: false)
        XCTAssertEqual(viaDots.path, dir.appendingPathComponent("link/images").path)
    }

    /// A `..` after a symbolic link leads where the shell takes it (into the parent of the link's
    /// target), not where the text would: a config opened through a linked folder finds the files
    /// its `../..` paths name.
    func testDotDotAfterASymbolicLinkIsTakenPhysically() throws {
        let dir = try temporaryFolder(self)
        let deep = dir.appendingPathComponent("a/b")
        try FileManager.default.createDirectory(at: deep, withIntermediateDirectories: true)
        try "x".write(to: dir.appendingPathComponent("a/target.txt"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("elsewhere"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("elsewhere/link"), withDestinationURL: deep)
        // elsewhere/link/../target.txt is a/target.txt for the system; as text it would be elsewhere/target.txt
        let found = try PathResolver.resolve("../target.txt", baseDirectory: dir.appendingPathComponent("elsewhere/link"),
                                             allowResourceFallback: false)
        XCTAssertEqual(found.resolvingSymlinksInPath().path, dir.appendingPathComponent("a/target.txt").resolvingSymlinksInPath().path)
        XCTAssertEqual(try String(contentsOf: found, encoding: .utf8), "x")
    }

    /// A loop of symbolic links, or a link to nothing, is named as such, not "not found".
    func testBrokenLinksAreNamed() throws {
        let dir = try temporaryFolder(self)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("a").path, withDestinationPath: "b")
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("b").path, withDestinationPath: "a")
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("c").path, withDestinationPath: "missing")
        XCTAssertThrowsError(try PathResolver.resolve(dir.appendingPathComponent("a").path, baseDirectory: nil, allowResourceFallback: false)) { e in
            XCTAssertEqual("\(e)", "cannot read '\(dir.appendingPathComponent("a").path)': it is a loop of symbolic links")
        }
        XCTAssertThrowsError(try PathResolver.resolve("c", baseDirectory: dir, allowResourceFallback: false)) { e in
            XCTAssertEqual("\(e)", "cannot read '\(dir.appendingPathComponent("c").path)': it is a symbolic link to a file that does not exist")
        }
    }

    /// A FIFO or a device is named as such (reading one would block or never end).
    func testNonRegularFilesAreNamed() throws {
        let dir = try temporaryFolder(self)
        let fifo = dir.appendingPathComponent("p")
        XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
        XCTAssertEqual(nonRegularFileReason(fifo.path), "it is a FIFO (named pipe), not a regular file")
        XCTAssertEqual(nonRegularFileReason("/dev/null"), "it is a character device, not a regular file")
        XCTAssertEqual(nonRegularFileReason(dir.path), "it is a directory, not a file")
        try "x".write(to: dir.appendingPathComponent("f"), atomically: true, encoding: .utf8)
        XCTAssertNil(nonRegularFileReason(dir.appendingPathComponent("f").path))
        XCTAssertNil(nonRegularFileReason(dir.appendingPathComponent("absent").path))
        XCTAssertThrowsError(try RAMResources.readLines(of: fifo)) { e in
            XCTAssertTrue("\(e)".contains("it is a FIFO (named pipe), not a regular file"), "\(e)")
        }
        // a config that is a FIFO is refused at once (the read would block)
        XCTAssertThrowsError(try RunConfig.load(path: fifo.path)) { e in
            XCTAssertEqual("\(e)", "cannot read '\(fifo.path)': it is a FIFO (named pipe), not a regular file")
        }
    }
}
