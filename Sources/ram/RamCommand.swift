import ArgumentParser
import Foundation
import Logging
import RAMCore
import RAMDefaultPlugins
import RAMEngine
import RAMTensor

/// `ram train | eval | infer | export | predict | list`.
struct RamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ram",
        abstract: "Train, evaluate, export and run the RAM / RAM++ image-tagging models, configured by YAML (PaddleClas style).",
        discussion: """
            Every run is one YAML file (-c) with sections Global, AMP, Arch, Loss, Optimizer, DataLoader, \
            Infer, PostProcess, Metric; change any key with -o Section.key.sub=value (repeatable; integer \
            segments index lists). Components are picked by name; `ram list` shows them all.

            Example:
              ram infer -c configs/ram_plus_swin_large_384.yaml \\
                -o Global.pretrained_model=ram_plus_swin_large_14m.pth -o Infer.infer_imgs=photos/
              ram list postprocess
            """,
        subcommands: [Train.self, Eval.self, Infer.self, Export.self, Predict.self, List.self])

    /// Parses the command line, runs, and exits: 0 on success; 64 with the usage for a mistake on
    /// the command line itself (ArgumentParser's `Error: ...`); 1 with `ram: error: ...` on stderr
    /// for everything else.
    static func runAndExit() {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)   // --help, usage errors: ArgumentParser's own messages
        }
        do {
            try command.run()
        } catch let e as CleanExit {
            exit(withError: e)   // `ram` alone, `ram help`: the usage
        } catch let e as ExitCode {
            exit(withError: e)
        } catch let e as ValidationError {
            exit(withError: e)
        } catch let e as ConfigError {
            fail(e.description)
        } catch let e as EngineError {
            fail(e.description)
        } catch let e as LocalizedError {
            fail(e.errorDescription ?? "\(e)")
        } catch let e as CustomStringConvertible {   // (ArgumentParser's ExitCode is not CustomStringConvertible: it reaches the last clause)
            fail(e.description)
        } catch {
            exit(withError: error)
        }
        Foundation.exit(0)
    }

    static func fail(_ message: String) -> Never {
        writeToStandardError("ram: error: \(message)\n")
        Foundation.exit(1)
    }
}

/// Standard output. Each line is flushed as it is written, so that the lines of an interrupted
/// run (Ctrl-C, a killed job) are in the file; a failed write (disk full, closed stdout, a pipe
/// whose reader has gone: SIGPIPE is ignored, see main.swift) ends the run with exit code 1 and a
/// message saying how many lines were written, instead of reporting success.
enum Output {
    private(set) static var linesWritten = 0

    static func line(_ s: String) { text(s + "\n"); linesWritten += 1 }

    static func text(_ s: String) {
        errno = 0
        if fputs(s, stdout) < 0 || fflush(stdout) != 0 {
            let reason = errno != 0 ? String(cString: strerror(errno)) : "write error"
            writeToStandardError("ram: error: cannot write to standard output (\(reason)); \(linesWritten) line(s) were written before\n")
            Foundation.exit(1)
        }
    }
}

/// Options every config-driven command takes.
struct ConfigOptions: ParsableArguments {
    @Option(name: [.customShort("c"), .customLong("config")], help: "The YAML config file.")
    var config: String

    @Option(name: [.customShort("o"), .customLong("override")], parsing: .unconditionalSingleValue,
            help: ArgumentHelp("Override a config value: Section.key.sub=value (repeatable). The value is read as YAML; integer segments index lists.",
                               valueName: "key=value"))
    var overrides: [String] = []

    @Option(name: .customLong("plugin"), help: ArgumentHelp("Load a plugin shared library (exports ramkit_register_plugin) before building (repeatable).", valueName: "path"))
    var plugins: [String] = []

    @Flag(name: .customLong("print-config"), help: "Print the resolved config (overrides applied) and exit.")
    var printConfig = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    /// Command-line mistakes (exit code 64, with the usage): a log level that is not one, an
    /// override without `=`.
    func validate() throws {
        guard Logger.Level(rawValue: logLevel.lowercased()) != nil else {
            throw ValidationError("--log-level: expected trace, debug, info, notice, warning, error or critical, got '\(logLevel)'")
        }
        for o in overrides {
            guard let eq = o.firstIndex(of: "=") else { throw ValidationError("-o '\(o)': expected Section.key=value") }
            let key = o[..<eq].trimmingCharacters(in: .whitespaces)
            if key.isEmpty || key.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
                throw ValidationError("-o '\(o)': the key '\(key)' is not a dotted path such as Global.epochs")
            }
        }
    }

    /// The progress bar is shown unless the log level asks for errors only.
    var showsProgress: Bool {
        let level = Logger.Level(rawValue: logLevel.lowercased()) ?? .info
        return level < .error
    }

    /// Bootstraps logging, loads the config and the plugins; nil after printing the config.
    func prepare() throws -> Engine? {
        bootstrapLogging(logLevel)   // (`validate` has checked the level)
        if let v = Parallel.ignoredThreadCountSetting {
            Logger(label: "ram").warning("RAMKIT_NUM_THREADS='\(v)' is not a positive integer and is ignored; using \(Parallel.threads) threads")
        }
        let cfg = try RunConfig.load(path: config, overrides: overrides)
        if printConfig {
            Output.text(cfg.yamlText())
            return nil
        }
        let registries = try DefaultPlugins.registries()
        for p in plugins { try PluginLoader.load(p, into: registries) }
        try cfg.loadPlugins(into: registries)
        return try Engine(config: cfg, registries: registries)
    }
}

private var loggingBootstrapped = false

func bootstrapLogging(_ level: String) {
    guard !loggingBootstrapped else { return }
    loggingBootstrapped = true
    let lvl = Logger.Level(rawValue: level.lowercased()) ?? .info
    LoggingSystem.bootstrap { label in
        var h = StreamLogHandler.standardError(label: label)
        h.logLevel = lvl
        return h
    }
}

/// `--format`: a command-line mistake (exit code 64) when it is not text, json or csv.
func validateFormat(_ format: String) throws {
    guard OutputFormat(rawValue: format) != nil else {
        throw ValidationError("--format: expected text, json or csv, got '\(format)'")
    }
}

extension RamCommand {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a model (DataLoader.Train, Loss, Optimizer): not implemented yet.",
            discussion: "Example: ram train -c configs/ram_plus_swin_large_384.yaml -o Global.epochs=1")
        @OptionGroup var options: ConfigOptions
        func run() throws { try options.prepare()?.train() }
    }

    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate a model on DataLoader.Eval with the Metric.Eval metrics; prints `name: value` lines.",
            discussion: "Example (see the file for the label format): ram eval -c configs/examples/multilabel_dataset.yaml -o Global.pretrained_model=ram_plus_swin_large_14m.pth")
        @OptionGroup var options: ConfigOptions
        func run() throws {
            guard let engine = try options.prepare() else { return }
            let results = try engine.eval(report: { writeToStandardError($0 + "\n") },
                                          progress: options.showsProgress)
            for r in results { Output.line("\(r.name): \(r.value)") }
        }
    }

    struct Infer: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tag the images of Infer.infer_imgs (a file, a folder, or a list) and print the tags.",
            discussion: """
                Example:
                  ram infer -c configs/ram_plus_swin_large_384.yaml \\
                    -o Global.pretrained_model=ram_plus_swin_large_14m.pth -o Infer.infer_imgs=photos/ --format json
                Unreadable images are reported on stderr and skipped; the exit code is then 1.
                """)
        @OptionGroup var options: ConfigOptions
        @Option(help: "Output format: text (PaddleClas's print), json (one object per line) or csv.")
        var format: String = "text"

        func validate() throws { try validateFormat(format) }

        func run() throws {
            let f = OutputFormat(rawValue: format) ?? .text
            guard let engine = try options.prepare() else { return }
            let result = try engine.infer(format: f, write: { Output.line($0) }, report: { msg in
                writeToStandardError(msg.hasSuffix("\n") ? msg : msg + "\n")
            }, progress: options.showsProgress)
            if !result.failures.isEmpty {
                throw EngineError.someFilesFailed(failed: result.failures.count, total: result.failures.count + result.predictions.count)
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the model's weights (inference.safetensors) and resolved config (inference.yaml) to Global.save_inference_dir.",
            discussion: "Example: ram export -c configs/ram_plus_swin_large_384.yaml -o Global.pretrained_model=ram_plus_swin_large_14m.pth")
        @OptionGroup var options: ConfigOptions
        func run() throws {
            guard let engine = try options.prepare() else { return }
            let (weights, config) = try engine.export()
            Output.line("wrote \(weights.path)")
            Output.line("wrote \(config.path)")
        }
    }

    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run an exported model (Global.inference_model_dir) with a deploy config (PaddleClas deploy/configs/inference_*.yaml).",
            discussion: "Example: ram predict -c inference_ram.yaml -o Global.infer_imgs=photos/")
        @OptionGroup var options: ConfigOptions
        @Option(help: "Output format: text, json or csv.")
        var format: String = "text"
        func validate() throws { try validateFormat(format) }
        func run() throws {
            let f = OutputFormat(rawValue: format) ?? .text
            guard let engine = try options.prepare() else { return }
            let result = try engine.predict(format: f, write: { Output.line($0) }, report: { msg in
                writeToStandardError(msg.hasSuffix("\n") ? msg : msg + "\n")
            }, progress: options.showsProgress)
            if !result.failures.isEmpty {
                throw EngineError.someFilesFailed(failed: result.failures.count, total: result.failures.count + result.predictions.count)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every registered component name with a one-line description.",
            discussion: """
                Kinds: \(Registries.kindNames.joined(separator: ", ")).
                Example: ram list postprocess;  ram list --plugin .build/release/libExampleTopKPlugin.so
                """)
        @Argument(help: "Only this kind.") var kind: String?
        @Option(name: .customLong("plugin"), help: ArgumentHelp("Load a plugin shared library first (repeatable).", valueName: "path"))
        var plugins: [String] = []
        @Option(name: [.customShort("c"), .customLong("config")], help: "Also load the config's Global.plugins.")
        var config: String?

        /// An unknown kind is a command-line mistake (exit code 64, with this command's usage).
        func validate() throws { _ = try wantedKind() }

        /// The registry kind `kind` names (plural, `_` and a few aliases accepted), or nil for all.
        func wantedKind() throws -> String? {
            guard let kind else { return nil }
            let k = kind.lowercased().replacingOccurrences(of: "_", with: " ")
            let aliases = ["lrscheduler": "lr scheduler", "lr": "lr scheduler", "postprocess": "postprocess",
                           "post process": "postprocess", "architecture": "arch"]
            let wanted = aliases[k] ?? (k.hasSuffix("s") && Registries.kindNames.contains(String(k.dropLast())) ? String(k.dropLast()) : k)
            guard Registries.kindNames.contains(wanted) else {
                throw ValidationError(ConfigError.unknownName(kind: "kind", path: "", name: kind, registered: Registries.kindNames).description)
            }
            return wanted
        }

        func run() throws {
            bootstrapLogging("warning")
            let registries = try DefaultPlugins.registries()
            for p in plugins { try PluginLoader.load(p, into: registries) }
            if let config { try RunConfig.load(path: config).loadPlugins(into: registries) }
            var listing = registries.listing
            if let wanted = try wantedKind() { listing = listing.filter { $0.kind == wanted } }
            for (kind, entries) in listing {
                Output.line("\(kind):")
                if entries.isEmpty { Output.line("  (none registered)") }
                let w = entries.map(\.name.count).max() ?? 0
                for e in entries {
                    Output.line("  " + e.name.padding(toLength: w, withPad: " ", startingAt: 0) + "  " + e.summary)
                }
            }
        }
    }
}
