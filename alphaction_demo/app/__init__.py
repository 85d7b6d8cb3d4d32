"""The application layer: the command line and its subcommands, argument validation into one
`RunSettings`, the headless run, `--benchmark` and the `make demo` launcher. The only layer that
knows argparse."""
