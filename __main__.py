"""Pulumi entry point: validate the stack file, build the stack's top component, export."""

from dataplatform.program import main

main()
