import XCTest

final class RAMCoreTestsSmoke: XCTestCase {
    func testPackageBuilds() {
        XCTAssertEqual(1 + 1, 2)
    }
}
