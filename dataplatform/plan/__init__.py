"""The offline plan: the program under the Pulumi SDK's mock engine."""
