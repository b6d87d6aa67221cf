// The Android library module of the Oxim SDK (the AAR io.oxim:oxim-imsdk-android).
// scripts/build-android.sh builds the native libraries and the bindings it packages, then runs
// `gradle assembleRelease publishReleasePublicationToProjectRepository` here.
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
    }
}

rootProject.name = "oxim-imsdk-android"
