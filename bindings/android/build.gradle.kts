// The AAR: the Kotlin bindings generated from the arm64-v8a library (target/android/kotlin), the
// hand-written extras (bindings/kotlin/src, shared with the JVM artifact), the stripped
// libraries of each ABI (target/android/jniLibs), and consumer ProGuard rules. Inputs are written
// by scripts/build-android.sh; run that, not this file directly.
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.library") version "8.13.0"
    id("org.jetbrains.kotlin.android") version "2.4.21"
    `maven-publish`
}

// One version for the whole project: the Cargo workspace's.
val oximVersion: String = Regex("""\[workspace\.package\][^\[]*?version = "([^"]+)"""")
    .find(rootDir.resolve("../../Cargo.toml").readText())!!.groupValues[1]
val generated = rootDir.resolve("../../target/android")

group = "io.oxim"
version = oximVersion

android {
    namespace = "io.oxim.imsdk"
    compileSdk = 35

    defaultConfig {
        // Packed relocations in the libraries need API 23; scripts/build-android.sh links for 24.
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
    }

    sourceSets["main"].apply {
        java.srcDirs(rootDir.resolve("../kotlin/src"), generated.resolve("kotlin"))
        jniLibs.srcDirs(generated.resolve("jniLibs"))
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_1_8
        targetCompatibility = JavaVersion.VERSION_1_8
    }

    publishing {
        singleVariant("release") {
            withSourcesJar()
        }
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_1_8)
    }
}

dependencies {
    // JNA for Android: the classes plus libjnidispatch.so for every ABI.
    api("net.java.dev.jna:jna:5.19.1@aar")
    api("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.11.0")
}

publishing {
    publications {
        register<MavenPublication>("release") {
            groupId = "io.oxim"
            artifactId = "oxim-imsdk-android"
            version = oximVersion
            afterEvaluate { from(components["release"]) }
            pom {
                name.set("Oxim IM SDK (Android)")
                description.set("The V2TIM API of the self-hostable Oxim instant-messaging SDK for Android apps.")
                url.set("https://github.com/oxim/oxim")
                licenses { license { name.set("Apache-2.0"); url.set("https://www.apache.org/licenses/LICENSE-2.0") } }
            }
        }
    }
    repositories {
        // A Maven repository directory an app (or a release job) takes the AAR from.
        maven {
            name = "project"
            url = uri(generated.resolve("maven"))
        }
    }
}
