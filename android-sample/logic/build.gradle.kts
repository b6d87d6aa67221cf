// The sample's logic: plain Kotlin (no Android classes), so it runs and is tested on the JVM.
// pom.xml beside this file builds the same sources with Maven (how this project's build machine,
// which has no Android Gradle plugin, builds and tests it: scripts/test-samples.sh).
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("org.jetbrains.kotlin.jvm")
}

java {
    sourceCompatibility = JavaVersion.VERSION_11
    targetCompatibility = JavaVersion.VERSION_11
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_11)
        allWarningsAsErrors.set(true)
    }
}

dependencies {
    // The SDK's API only: the app brings the SDK for its platform (the AAR on Android), the tests
    // the JVM artifact with the desktop library inside.
    compileOnly("io.oxim:oxim-imsdk:0.1.0")
    api("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.11.0")

    testImplementation("io.oxim:oxim-imsdk:0.1.0")
    testImplementation(platform("org.junit:junit-bom:5.14.4"))
    testImplementation("org.junit.jupiter:junit-jupiter")
    testRuntimeOnly("org.junit.platform:junit-platform-launcher")
}

tasks.test {
    useJUnitPlatform()
    // The tests start oxim-server: OXIM_SERVER_BIN names the binary (cargo build -p oxim-server).
    environment("OXIM_SERVER_BIN", System.getenv("OXIM_SERVER_BIN") ?: rootDir.resolve("../target/debug/oxim-server").path)
}
