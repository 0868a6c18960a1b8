"""One trial: the candidate snake in its seat, its base config, the games it plays (objective,
tournament), the artifacts and the story it leaves. Above the sampler, below the study.
"""

from __future__ import annotations
