"""Core subcommands of the `livesep` command (each module: HELP, add_arguments, run)."""
