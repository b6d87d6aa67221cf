// The sample app: Jetpack Compose screens over the logic module, with the SDK's AAR.
// Built by .github/workflows/android.yml (the Android Gradle plugin and AndroidX come from
// Google's Maven repository, which the project's build machine cannot reach).
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
    id("org.jetbrains.kotlin.plugin.compose")
}

android {
    namespace = "io.oxim.sample.app"
    compileSdk = 36

    defaultConfig {
        applicationId = "io.oxim.sample"
        // java.util.Base64 (DevUserSig) needs 26; the SDK itself runs from 24.
        minSdk = 26
        targetSdk = 36
        versionCode = 1
        versionName = "0.1.0"
    }

    buildTypes {
        release {
            // The AAR's consumer rules keep what the SDK needs under R8.
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"))
            signingConfig = signingConfigs.getByName("debug")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_11
        targetCompatibility = JavaVersion.VERSION_11
    }

    buildFeatures {
        compose = true
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_11)
    }
}

dependencies {
    implementation(project(":logic"))
    // The SDK: one line (the native library for each ABI, JNA for Android, the Kotlin API).
    implementation("io.oxim:oxim-imsdk-android:0.1.0")

    implementation(platform("androidx.compose:compose-bom:2025.10.00"))
    implementation("androidx.compose.material3:material3")
    implementation("androidx.compose.ui:ui")
    implementation("androidx.activity:activity-compose:1.11.0")
    implementation("androidx.lifecycle:lifecycle-viewmodel-compose:2.9.4")
}
