"""Pulumi ComponentResources of the data platform, one per logical entity."""
