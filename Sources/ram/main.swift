// The `ram` executable: the only place logging is bootstrapped.
RamCommand.runAndExit()
