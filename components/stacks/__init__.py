"""Top-level components: one per stack kind."""

from components.stacks.domain import DomainStack
from components.stacks.platform import PlatformStack

__all__ = ["DomainStack", "PlatformStack"]
