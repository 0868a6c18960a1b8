"""optuna-clank: tune a Battlesnake bot's weights with Optuna, fast and honestly.

The package is split so that importing it is cheap: the arena (torch), the
sampler (torch, litellm) and the runner (optuna) are imported only by the
modules that need them.
"""

from __future__ import annotations

__version__ = "0.1.0"  # the one version source: pyproject reads it (tool.hatch.version)

__all__ = ["__version__"]
