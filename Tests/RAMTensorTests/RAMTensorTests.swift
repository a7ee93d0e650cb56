import XCTest

final class RAMTensorTestsSmoke: XCTestCase {
    func testPackageBuilds() {
        XCTAssertEqual(1 + 1, 2)
    }
}
