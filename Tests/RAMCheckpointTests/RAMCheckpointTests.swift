import XCTest

final class RAMCheckpointTestsSmoke: XCTestCase {
    func testPackageBuilds() {
        XCTAssertEqual(1 + 1, 2)
    }
}
