"""Metadata databases: in-cluster Postgres (dev/local); managed ones come with the cloud layer."""
