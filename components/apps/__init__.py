"""The domain's apps: one package per built-in app (`<app>/`), each a component built
from its own settings and the domain's AppContext (`context.py`); `registry.py` lists them
in build order; `extra/` deploys any other pinned chart the same way."""
