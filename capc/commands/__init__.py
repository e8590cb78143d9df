"""One module per `capc` subcommand: each has HELP, add_arguments(parser) and run(args)."""
