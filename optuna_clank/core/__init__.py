"""The bottom layer: errors, user files, optional extras, small statistics, attribute keys, run control,
devices, threads and progress. It imports nothing else of the package.
"""

from __future__ import annotations
