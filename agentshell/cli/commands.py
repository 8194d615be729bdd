"""Imports every subcommand module so each registers itself on the root group."""
