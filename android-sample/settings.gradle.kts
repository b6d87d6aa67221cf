// The Oxim Android sample: `logic` (plain Kotlin, the SDK calls and the screens' state, tested on
// the JVM against a live server) and `app` (Jetpack Compose screens over it).
//
// The SDK comes from the repositories below, filled by the project's scripts:
//   target/android/maven   io.oxim:oxim-imsdk-android (the AAR), by scripts/build-android.sh
//   .cache/m2/repository   io.oxim:oxim-imsdk (the JVM jar the logic module compiles and tests
//                          against), by scripts/build-jvm.sh
// An app outside this repository takes both from wherever the release put them (Maven Central,
// or the release's Maven repository zip).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
        maven { url = uri(file("../target/android/maven")) }
        maven { url = uri(file("../.cache/m2/repository")) }
        mavenLocal()
    }
}

rootProject.name = "oxim-android-sample"
include(":logic", ":app")
