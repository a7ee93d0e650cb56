import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The C signature of a shared-library plugin's one entry point, `ramkit_register_plugin`:
/// it receives an opaque pointer to the host's `Registries` and returns 0 on success.
public typealias RAMKitRegisterFunction = @convention(c) (UnsafeMutableRawPointer) -> Int32

/// The body of a shared-library plugin's entry point. A plugin library declares:
///
/// ```swift
/// @_cdecl("ramkit_register_plugin")
/// public func ramkit_register_plugin(_ registries: UnsafeMutableRawPointer) -> Int32 {
///     ramkitRegister(registries, MyPlugin.self)
/// }
/// ```
/// - Returns: 0 when `plugin.register(into:)` succeeded; 1 when it threw (the error is handed
///   back to the loader, which rethrows it).
public func ramkitRegister(_ registries: UnsafeMutableRawPointer, _ plugin: RAMPlugin.Type) -> Int32 {
    let r = Unmanaged<Registries>.fromOpaque(registries).takeUnretainedValue()
    do {
        try plugin.register(into: r)
        return 0
    } catch {
        r.pendingPluginError = error
        return 1
    }
}

/// Loads plugins from shared libraries at run time (`Global.plugins: [path.so]`, `--plugin PATH`).
public enum PluginLoader {
    /// The C symbol every plugin library exports.
    public static let entryPoint = "ramkit_register_plugin"

    /// `dlopen`s the library and calls its `ramkit_register_plugin` with `registries`.
    /// The library stays loaded for the life of the process. Loading the same file twice is a no-op.
    /// - Parameters:
    ///   - path: the library file; relative paths resolve against the working directory, then `baseDirectory`.
    /// - Throws: `ConfigError.fileNotFound` (every place looked at), `ConfigError.plugin` when the
    ///   library cannot be loaded, lacks the entry point, or its registration fails (e.g. a duplicate name).
    public static func load(_ path: String, into registries: Registries, baseDirectory: URL? = nil) throws {
        let url = try PathResolver.resolve(path, what: "plugin library", baseDirectory: baseDirectory,
                                           allowResourceFallback: false)
        let full = url.standardizedFileURL.path
        if registries.loadedPlugins.contains(full) { return }
        // (dlopen of a FIFO blocks forever)
        if let reason = nonRegularFileReason(full) { throw ConfigError.plugin(path: full, message: "cannot load the shared library: \(reason)") }
        guard let handle = dlopen(full, RTLD_NOW | RTLD_LOCAL) else {
            let msg = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            throw ConfigError.plugin(path: full, message: "cannot load the shared library: \(msg)")
        }
        guard let sym = dlsym(handle, entryPoint) else {
            throw ConfigError.plugin(path: full, message: "the library does not export '\(entryPoint)' (declare it with @_cdecl(\"\(entryPoint)\"), see docs/plugins.md)")
        }
        let fn = unsafeBitCast(sym, to: RAMKitRegisterFunction.self)
        registries.pendingPluginError = nil
        let status = fn(Unmanaged.passUnretained(registries).toOpaque())
        if status != 0 {
            let reason = registries.pendingPluginError.map { "\($0)" } ?? "status \(status)"
            registries.pendingPluginError = nil
            throw ConfigError.plugin(path: full, message: "registration failed: \(reason)")
        }
        registries.loadedPlugins.append(full)
    }
}
