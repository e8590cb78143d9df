"""capc: a verified policy compiler for robot code written by language models."""

__version__ = "0.1.0"
