"""Lineage wiring: DataHub ingestion recipes rendered from typed models.

`recipes` holds the recipe models (the shape DataHub documents: `source.type`,
`source.config`, a `datahub-rest` sink), `sources` derives the domain's recipes from the
stack config, and `schedule` places the dbt recipes after the dbt jobs.
"""
