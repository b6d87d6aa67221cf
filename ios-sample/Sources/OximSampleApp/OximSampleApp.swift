import OximSampleUI
import SwiftUI

/// The sample app. On a Mac: `swift run OximSampleApp`. For iOS, an app target in Xcode with the
/// same three lines (adding this package's OximSampleUI library) runs it on a phone.
@main
struct OximSampleApp: App {
    var body: some Scene {
        WindowGroup { SampleRootView() }
    }
}
