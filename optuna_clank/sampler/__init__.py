"""ClankSampler: autoencoder winning patterns + LLM deltas + anti-repeat memory."""

from __future__ import annotations
