"""Data-mesh platform accelerator: typed stack config, offline plan and CLI."""
