import Glibc

// The `ram` executable: the only place logging is bootstrapped.
// A reader that goes away (`ram infer ... | head -1`) makes writes fail with EPIPE, which
// `Output` reports, instead of killing the process with SIGPIPE.
signal(SIGPIPE, SIG_IGN)
RamCommand.runAndExit()
