// swift-tools-version:6.0
//
// RAMKit: train, evaluate, export and run the RAM / RAM++ image-tagging models.
//
// Layout (the tree shows the architecture):
//   Sources/   the core, which knows nothing of RAM: tensors + autograd (RAMTensor), nn layers
//              (RAMNN), images (RAMImage), checkpoint readers (RAMCheckpoint), config + registries
//              (RAMCore), the run loops (RAMEngine), and the `ram` executable.
//   Plugins/   modules that fill the registries (backbones, RAM models, losses, transforms, ...).
//              NOTE: SwiftPM gives the folder name `Plugins/` a special meaning only for targets
//              declared with `.plugin(...)`. Ours are ordinary library targets, so each one names
//              its folder explicitly with `path: "Plugins/<Name>"`.
//   Benchmarks/ executables run with `swift run -c release <name>` (never timed tests).
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "RAMKit",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "ram", targets: ["ram"]),
        .library(name: "RAMKit", targets: ["RAMCore", "RAMEngine", "RAMTensor", "RAMNN"]),
        // The example plugin as a shared library, loaded at run time with `--plugin` /
        // `Global.plugins` (and by the plugin-loading test).
        .library(name: "ExampleTopKPlugin", type: .dynamic, targets: ["ExampleTopK"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // C system libraries (Debian: libopenblas-dev, libjpeg-dev, libpng-dev).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),

        // ---- core ----
        // RAMTensor's kernels are written to be auto-vectorised: release builds target AVX2 + FMA
        // (x86-64 "haswell" level; any x86 CPU since 2013/2015). Debug builds still optimise this
        // one module (-O): unoptimised kernels made the model parity tests 8x slower.
        // Hand-vectorised C kernels (GEMM micro-kernels, attention): AVX2 + FMA per function with a
        // run-time CPU check, optimised in every configuration (-O2 after SwiftPM's -O0 in debug).
        .target(name: "CKernels", path: "Sources/CKernels",
                cSettings: [.unsafeFlags(["-O2", "-fno-math-errno"])]),
        .target(name: "RAMTensor", dependencies: ["CBLAS", "CKernels"], path: "Sources/RAMTensor",
                swiftSettings: swiftSettings + [
                    .unsafeFlags(["-target-cpu", "haswell"], .when(platforms: [.linux], configuration: .release)),
                    .unsafeFlags(["-O"], .when(configuration: .debug)),
                ]),
        .target(name: "RAMNN", dependencies: ["RAMTensor"], path: "Sources/RAMNN",
                swiftSettings: swiftSettings),
        // C glue for libjpeg/libpng error handling (setjmp/longjmp cannot be written in Swift).
        .target(name: "CImageGlue", dependencies: ["CJPEG", "CPNG"], path: "Sources/CImageGlue"),
        // Debug builds optimise RAMImage too (-O): its pixel loops ran the fixture tests 10x slower.
        .target(name: "RAMImage", dependencies: ["CJPEG", "CPNG", "CImageGlue"], path: "Sources/RAMImage",
                swiftSettings: swiftSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "RAMCheckpoint", dependencies: [], path: "Sources/RAMCheckpoint",
                swiftSettings: swiftSettings),
        .target(name: "RAMCore",
                dependencies: ["RAMTensor", "RAMNN", "RAMImage", "RAMCheckpoint",
                               .product(name: "Yams", package: "Yams"),
                               .product(name: "Logging", package: "swift-log")],
                path: "Sources/RAMCore",
                resources: [.copy("Resources/data")],
                swiftSettings: swiftSettings),
        .target(name: "RAMEngine",
                dependencies: ["RAMCore", "RAMCheckpoint", .product(name: "Logging", package: "swift-log")],
                path: "Sources/RAMEngine", swiftSettings: swiftSettings),

        // ---- plugins: each fills registries through one `register(into:)` ----
        .target(name: "RAMBackbones", dependencies: ["RAMCore"], path: "Plugins/Backbones",
                swiftSettings: swiftSettings),
        .target(name: "RAMModels", dependencies: ["RAMCore", "RAMBackbones", "RAMPostProcess",
                                              .product(name: "Yams", package: "Yams")], path: "Plugins/RAMModels",
                swiftSettings: swiftSettings),
        .target(name: "RAMTransforms", dependencies: ["RAMCore"], path: "Plugins/Transforms",
                swiftSettings: swiftSettings),
        .target(name: "RAMPostProcess", dependencies: ["RAMCore", .product(name: "Logging", package: "swift-log")],
                path: "Plugins/PostProcess",
                swiftSettings: swiftSettings),
        .target(name: "RAMLosses", dependencies: ["RAMCore"], path: "Plugins/Losses",
                swiftSettings: swiftSettings),
        .target(name: "RAMOptimizers", dependencies: ["RAMCore"], path: "Plugins/Optimizers",
                swiftSettings: swiftSettings),
        .target(name: "RAMDatasets", dependencies: ["RAMCore"], path: "Plugins/Datasets",
                swiftSettings: swiftSettings),
        .target(name: "RAMMetrics", dependencies: ["RAMCore"], path: "Plugins/Metrics",
                swiftSettings: swiftSettings),
        // An example third-party plugin: registers a custom post-processor as a user would.
        .target(name: "ExampleTopK", dependencies: ["RAMCore"], path: "Plugins/ExampleTopK"),
        // The default set of plugins, listed in one place.
        .target(name: "RAMDefaultPlugins",
                dependencies: ["RAMCore", "RAMBackbones", "RAMModels", "RAMTransforms", "RAMPostProcess",
                               "RAMLosses", "RAMOptimizers", "RAMDatasets", "RAMMetrics"],
                path: "Plugins/DefaultPlugins"),

        // ---- the executable ----
        .executableTarget(name: "ram",
                          dependencies: ["RAMEngine", "RAMDefaultPlugins", "RAMTensor",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                         .product(name: "Logging", package: "swift-log")],
                          path: "Sources/ram", swiftSettings: swiftSettings,
                          // export the executable's symbols so a plugin library loaded with dlopen
                          // binds to this process's RAMCore (one set of types and protocols)
                          linkerSettings: [.unsafeFlags(["-Xlinker", "--export-dynamic"], .when(platforms: [.linux]))]),

        // ---- benchmarks (swift run -c release <name>) ----
        .executableTarget(name: "bench-tensor", dependencies: ["RAMTensor", "RAMBackbones", "CBLAS", "CKernels"],
                          path: "Benchmarks/bench-tensor", swiftSettings: swiftSettings),
        .executableTarget(name: "bench-image", dependencies: ["RAMImage"],
                          path: "Benchmarks/bench-image", exclude: ["pil_reference.py"], swiftSettings: swiftSettings),
        .executableTarget(name: "bench-checkpoint", dependencies: ["RAMCheckpoint"],
                          path: "Benchmarks/bench-checkpoint", swiftSettings: swiftSettings),
        .executableTarget(name: "bench-model", dependencies: ["RAMDefaultPlugins", "RAMEngine", "RAMNN", "CBLAS"],
                          path: "Benchmarks/bench-model", swiftSettings: swiftSettings),

        // ---- tests ----
        .testTarget(name: "RAMTensorTests", dependencies: ["RAMTensor", "RAMNN"], path: "Tests/RAMTensorTests"),
        .testTarget(name: "RAMImageTests", dependencies: ["RAMImage", "RAMTransforms"], path: "Tests/RAMImageTests",
                    exclude: ["Resources", "scripts"],
                    swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .testTarget(name: "RAMCheckpointTests", dependencies: ["RAMCheckpoint"], path: "Tests/RAMCheckpointTests",
                    exclude: ["scripts"]),
        .testTarget(name: "RAMCoreTests", dependencies: ["RAMCore", "RAMEngine", "RAMDefaultPlugins", "ExampleTopK"],
                    path: "Tests/RAMCoreTests",
                    linkerSettings: [.unsafeFlags(["-Xlinker", "--export-dynamic"], .when(platforms: [.linux]))]),
        .testTarget(name: "RAMModelTests", dependencies: ["RAMModels", "RAMDefaultPlugins", "RAMEngine"],
                    path: "Tests/RAMModelTests"),
    ],
    swiftLanguageModes: [.v5]
)
