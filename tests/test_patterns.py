"""Tests for the autoencoder behind the sampler's candidates and winning patterns.

A synthetic objective with a known optimum checks that the network learns, that its
candidates and patterns point at the optimum, and that nothing points at the noise.
"""

from __future__ import annotations

import math
import re
import threading

import numpy as np
import pytest
import torch

from optuna_clank.sampler._patterns import Pattern, PatternModel

N_PARAMS = 12
OPTIMUM = {1: 0.2, 5: 0.8, 9: 0.5}
"""Relevant dimension -> optimal normalised value; the other nine dimensions are noise."""

NAMES = [f"noise.p{i}" for i in range(N_PARAMS)]
NAMES[1], NAMES[5], NAMES[9] = "weights.space", "late_game.caution", "traps.critical"

LOW = np.array([1.0, 0.1, 1.0] * 4)
HIGH = np.array([2000.0, 1000.0, 2.0] * 4)
LOG_SCALE = {i for i in range(N_PARAMS) if i % 3 == 1}
"""Dimensions 1, 4, 7, 10 are log-scale, like the bot's [0.1, 1000] weights."""

TEXT_FORMAT = re.compile(
    r"^(?P<name>\S+): ~(?P<center>-?[\d.]+) in (?P<support>\d+) of the top (?P<n_top>\d+) "
    r"\(range (?P<low>-?[\d.]+)-(?P<high>-?[\d.]+)\)$"
)


def to_value(i: int, u: float) -> float:
    """Normalised -> own units, as the sampler would map it."""
    if i in LOG_SCALE:
        return float(LOW[i] * (HIGH[i] / LOW[i]) ** u)
    return float(LOW[i] + u * (HIGH[i] - LOW[i]))


def to_unit(i: int, value: float) -> float:
    """Inverse of :func:`to_value`, to compare centers with the optimum."""
    if i in LOG_SCALE:
        return math.log(value / LOW[i]) / math.log(HIGH[i] / LOW[i])
    return (value - LOW[i]) / (HIGH[i] - LOW[i])


def objective(vectors: np.ndarray) -> np.ndarray:
    """Higher is better; only the three OPTIMUM dimensions matter."""
    return -sum((vectors[:, i] - best) ** 2 for i, best in OPTIMUM.items())


def study(seed: int = 0, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    vectors = np.random.default_rng(seed).random((n, N_PARAMS))
    return vectors, objective(vectors)


def distance_to_optimum(vectors: np.ndarray) -> float:
    """Mean Euclidean distance to the optimum over the relevant dimensions only."""
    dims = list(OPTIMUM)
    return float(np.linalg.norm(vectors[:, dims] - list(OPTIMUM.values()), axis=1).mean())


def top(vectors: np.ndarray, scores: np.ndarray, n: int) -> np.ndarray:
    return vectors[np.argsort(-scores)[:n]]


@pytest.fixture(scope="module")
def fitted() -> tuple[PatternModel, list[float], np.ndarray, np.ndarray]:
    vectors, scores = study()
    model = PatternModel(N_PARAMS, seed=0)
    losses = model.fit(vectors, scores)
    return model, losses, vectors, scores


def test_loss_falls_and_winners_reconstruct_better_than_untrained(fitted) -> None:
    model, losses, vectors, scores = fitted
    assert len(losses) == 200
    assert np.mean(losses[-10:]) < 0.6 * np.mean(losses[:10])
    winners = top(vectors, scores, 50)
    untrained = PatternModel(N_PARAMS, seed=0)
    assert model.reconstruction_loss(winners) < 0.6 * untrained.reconstruction_loss(winners)


def test_default_latent_dim_is_a_quarter_of_the_parameters() -> None:
    assert PatternModel(12).latent_dim == 3
    assert PatternModel(30).latent_dim == 7
    assert PatternModel(5).latent_dim == 2
    assert PatternModel(5, latent_dim=4).latent_dim == 4


def test_candidates_concentrate_near_the_optimum(fitted) -> None:
    model, _, _, _ = fitted
    candidates = model.propose(200, rng=np.random.default_rng(1))
    uniform = np.random.default_rng(2).random((200, N_PARAMS))
    assert candidates.shape == (200, N_PARAMS)
    assert candidates.min() >= 0.0
    assert candidates.max() <= 1.0
    assert distance_to_optimum(candidates) < 0.5 * distance_to_optimum(uniform)


def test_more_latent_noise_spreads_candidates_further(fitted) -> None:
    model, _, _, _ = fitted
    tight = model.propose(300, noise=0.0, rng=np.random.default_rng(3))
    loose = model.propose(300, noise=2.0, rng=np.random.default_rng(3))
    assert loose.std(axis=0).mean() > tight.std(axis=0).mean()


def test_patterns_name_the_relevant_parameters_with_centers_near_the_optimum(fitted) -> None:
    model, _, vectors, scores = fitted
    patterns = model.winning_patterns(vectors, scores, NAMES, to_value)
    ranks = [p.separation * p.support / p.n_top for p in patterns]
    assert ranks == sorted(ranks, reverse=True)
    assert {p.name for p in patterns[:3]} == {NAMES[i] for i in OPTIMUM}
    assert not [p for p in patterns if p.name.startswith("noise.")]
    for pattern in patterns:
        i = NAMES.index(pattern.name)
        assert abs(to_unit(i, pattern.center) - OPTIMUM[i]) < 0.12, pattern
        assert pattern.low <= pattern.center <= pattern.high
        assert pattern.n_top == 10
        assert pattern.support > 5
        assert pattern.separation > 0.25


def test_pattern_text_matches_the_documented_format(fitted) -> None:
    model, _, vectors, scores = fitted
    patterns = model.winning_patterns(vectors, scores, NAMES, to_value)
    assert patterns
    for pattern in patterns:
        match = TEXT_FORMAT.match(pattern.text())
        assert match, pattern.text()
        assert match["name"] == pattern.name
        assert int(match["support"]) == pattern.support
        assert int(match["n_top"]) == 10
        assert float(match["low"]) <= float(match["center"]) <= float(match["high"])


def test_pattern_text_rounds_to_the_band_width() -> None:
    big = Pattern("traps.critical", 601.27, 540.1, 660.9, 9, 10, 1.2)
    small = Pattern("traps.threshold", 0.8123, 0.7512, 0.8734, 7, 10, 0.8)
    assert big.text() == "traps.critical: ~600 in 9 of the top 10 (range 540-660)"
    assert small.text() == "traps.threshold: ~0.81 in 7 of the top 10 (range 0.75-0.87)"


def test_max_patterns_caps_the_list(fitted) -> None:
    model, _, vectors, scores = fitted
    assert len(model.winning_patterns(vectors, scores, NAMES, to_value, max_patterns=2)) == 2


def test_name_count_must_match_the_vector_length(fitted) -> None:
    model, _, vectors, scores = fitted
    with pytest.raises(ValueError, match="names"):
        model.winning_patterns(vectors, scores, NAMES[:-1], to_value)
    with pytest.raises(ValueError, match="names"):
        model.winning_patterns(vectors[:0], scores[:0], [*NAMES, "extra"], to_value)


def test_vectors_of_the_wrong_shape_or_range_are_rejected() -> None:
    model = PatternModel(N_PARAMS)
    vectors, scores = study(n=20)
    with pytest.raises(ValueError, match="shape"):
        model.fit(vectors[:, :-1], scores)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        model.fit(vectors * 3.0, scores)
    with pytest.raises(ValueError, match="scores"):
        model.fit(vectors, scores[:-1])


def test_zero_points() -> None:
    model = PatternModel(N_PARAMS)
    empty = np.empty((0, N_PARAMS))
    assert model.fit(empty, np.empty(0)) == []
    with pytest.raises(ValueError, match="at least one fitted trial"):
        model.propose(4, rng=np.random.default_rng(0))
    assert model.winning_patterns(empty, np.empty(0), NAMES, to_value) == []


def test_fewer_points_than_min_top_trains_on_all_of_them() -> None:
    vectors, scores = study(n=3)
    model = PatternModel(N_PARAMS)
    losses = model.fit(vectors, scores, min_top=5, epochs=50)
    assert model.n_fitted == 3
    assert losses[-1] < losses[0]
    candidates = model.propose(8, rng=np.random.default_rng(0))
    assert candidates.shape == (8, N_PARAMS)
    assert 0.0 <= candidates.min() <= candidates.max() <= 1.0


def test_a_single_point_still_yields_varied_candidates() -> None:
    vectors, scores = study(n=1)
    model = PatternModel(N_PARAMS)
    model.fit(vectors, scores, epochs=50)
    candidates = model.propose(16, rng=np.random.default_rng(0))
    assert candidates.std(axis=0).max() > 0.0
    assert model.winning_patterns(vectors, scores, NAMES, to_value) == []


def test_patterns_need_a_fitted_model() -> None:
    vectors, scores = study(n=20)
    with pytest.raises(RuntimeError, match="fit"):
        PatternModel(N_PARAMS).winning_patterns(vectors, scores, NAMES, to_value)


def test_same_seed_gives_identical_results_and_another_seed_does_not() -> None:
    vectors, scores = study(n=60)
    runs = []
    for seed in (7, 7, 8):
        model = PatternModel(N_PARAMS, seed=seed)
        losses = model.fit(vectors, scores, epochs=30)
        candidates = model.propose(10, rng=np.random.default_rng(0))
        patterns = model.winning_patterns(vectors, scores, NAMES, to_value)
        runs.append((losses, candidates, patterns))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2]
    assert runs[0][0] != runs[2][0]


def test_the_global_torch_rng_is_left_alone() -> None:
    before = torch.random.get_rng_state()
    vectors, scores = study(n=30)
    model = PatternModel(N_PARAMS, seed=3)
    model.fit(vectors, scores, epochs=5)
    model.propose(4, rng=np.random.default_rng(0))
    assert torch.equal(before, torch.random.get_rng_state())


def test_higher_scores_weigh_more_in_the_loss() -> None:
    """With one latent dimension the net cannot fit 40 random points; it favours the best."""
    rng = np.random.default_rng(0)
    first, second = rng.random((20, N_PARAMS)), rng.random((20, N_PARAMS))
    vectors = np.vstack([first, second])
    better, worse = np.linspace(1.0, 1.4, 20), np.linspace(0.0, 0.4, 20)
    losses = []
    for scores in (np.concatenate([better, worse]), np.concatenate([worse, better])):
        model = PatternModel(N_PARAMS, latent_dim=1, seed=0)
        model.fit(vectors, scores, top_quantile=1.0)
        losses.append((model.reconstruction_loss(first), model.reconstruction_loss(second)))
    (first_favoured, second_slighted), (first_slighted, second_favoured) = losses
    assert first_favoured < 0.95 * first_slighted
    assert second_favoured < 0.95 * second_slighted


def test_refit_warm_starts_from_the_previous_weights() -> None:
    vectors, scores = study()
    warm = PatternModel(N_PARAMS, seed=0)
    warm.fit(vectors[:150], scores[:150])
    warm_losses = warm.fit(vectors, scores, epochs=20)
    cold_losses = PatternModel(N_PARAMS, seed=0).fit(vectors, scores, epochs=20)
    assert warm.n_fitted == 50
    assert warm_losses[0] < 0.6 * cold_losses[0]
    assert warm_losses[-1] < cold_losses[-1]


def test_one_model_can_be_shared_between_threads() -> None:
    vectors, scores = study(n=80)
    model = PatternModel(N_PARAMS, seed=0)
    model.fit(vectors, scores, epochs=10)
    errors: list[BaseException] = []
    results: list[np.ndarray] = []

    def work(worker: int) -> None:
        try:
            for _ in range(5):
                model.fit(vectors, scores, epochs=5)
                results.append(model.propose(4, rng=np.random.default_rng(worker)))
                model.winning_patterns(vectors, scores, NAMES, to_value)
        except BaseException as error:  # collected to fail the test in the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 20
    assert all(r.shape == (4, N_PARAMS) and r.min() >= 0.0 and r.max() <= 1.0 for r in results)
