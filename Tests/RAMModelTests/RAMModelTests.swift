import XCTest

final class RAMModelTestsSmoke: XCTestCase {
    func testPackageBuilds() {
        XCTAssertEqual(1 + 1, 2)
    }
}
