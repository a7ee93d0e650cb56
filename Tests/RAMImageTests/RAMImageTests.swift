import XCTest

final class RAMImageTestsSmoke: XCTestCase {
    func testPackageBuilds() {
        XCTAssertEqual(1 + 1, 2)
    }
}
