"""The stack config: the typed model and the loader that validates stack files with it."""

from foundation.config.loader import ConfigError, load_stack_config, parse_stack_config
from foundation.config.stack import StackConfig

__all__ = ["ConfigError", "StackConfig", "load_stack_config", "parse_stack_config"]
