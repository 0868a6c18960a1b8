"""What a running study shows while it runs: progress (a bar or log lines), slot trouble, and checkpoints
of the best config written as the study goes."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

import optuna
from tqdm import tqdm

from optuna_clank.core.attributes import WIN_RATE_CI_KEY
from optuna_clank.study.counts import count_trials
from optuna_clank.study.storage import describe_storage, open_storage

if TYPE_CHECKING:
    from collections.abc import Callable

    from optuna_clank.spec import StudySpec
    from optuna_clank.study.results import Best


class Monitor:
    """Progress bar (or log lines) and checkpoints, from a fresh read of the storage."""

    def __init__(
        self,
        spec: StudySpec,
        url: str,
        *,
        target: int,
        start: int,
        bar: bool,
        log_lines: bool,
        checkpoints: bool,
        say: Callable[[str], None],
    ) -> None:
        self.spec = spec
        self.url = url
        self.study = optuna.load_study(study_name=spec.name, storage=open_storage(url, heartbeat=None))
        self.target = target
        self.interval = spec.checkpoint.interval if checkpoints else 0
        self.last_checkpoint = start // self.interval if self.interval else 0
        self.last_logged = start
        self.log_lines = log_lines
        self.started_at = time.time()
        self.first_trial_seen = False
        # the best the last checkpoint holds (an earlier run's too): an unchanged best is not announced again
        self.checkpointed = _checkpointed_best(spec.name, url) if self.interval else ""
        self._say = say
        self.bar = None
        if bar:
            self.bar = tqdm(total=target, initial=start, unit="trial", file=sys.stderr, dynamic_ncols=True)

    def poll(self) -> None:
        from optuna_clank.study.results import best_trial  # noqa: PLC0415 - deferred: loads torch

        counts = count_trials(self.study)
        if not self.first_trial_seen and (counts.running or counts.finished > self.last_logged):
            self.first_trial_seen = True
            self.say(f"  workers ready: first trial running after {time.time() - self.started_at:.0f} s")
        best = best_trial(self.study)
        text = _best_short(best)
        if self.bar is not None:
            self.bar.update(max(0, counts.finished - self.bar.n))
            self.bar.set_postfix_str(f"running {counts.running}, best {text}", refresh=True)
        elif self.log_lines and counts.finished != self.last_logged:  # one plain line per finished trial
            elapsed = _duration(time.time() - self.started_at)
            self._say(
                f"study {self.spec.name}: {counts.finished}/{self.target} finished, best {text} "
                f"({counts.running} running, {elapsed})"
            )
            self.last_logged = counts.finished
        if self.interval and counts.finished // self.interval > self.last_checkpoint and best is not None:
            self.last_checkpoint = counts.finished // self.interval
            if best.describe() != self.checkpointed:
                self.checkpointed = best.describe()
                self.checkpoint()

    def say(self, line: str) -> None:
        """One line that does not break the progress bar."""
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            self._say(line)

    def checkpoint(self) -> None:
        from optuna_clank.study.export import checkpoint_path, export_study  # noqa: PLC0415 - deferred: loads torch

        path = checkpoint_path(self.spec.name, self.url)
        best = export_study(self.spec, self.study, path, storage=describe_storage(self.url))[1]
        self.say(f"checkpoint: {best.describe()} -> {path}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _checkpointed_best(study_name: str, url: str) -> str:
    """What the study's checkpoint file (if any) says it holds: ``best.describe()`` of the last checkpoint."""
    from optuna_clank.study.export import checkpoint_path  # noqa: PLC0415 - deferred: loads torch

    try:
        with checkpoint_path(study_name, url).open(encoding="utf-8") as stream:
            header = [line for line in (stream.readline() for _ in range(4)) if line.startswith("# ")]
    except (OSError, UnicodeDecodeError):
        return ""
    ours = f"# optuna-clank: study {study_name}, "  # a server's or gbc's export
    for line in header:
        if line.startswith("# holds "):
            return line.removeprefix("# holds ").rstrip("\n")
        if line.startswith(ours):
            return line.removeprefix(ours).rstrip("\n")
    return ""


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m elapsed" if hours else f"{minutes}m{secs:02d}s elapsed"


def _best_short(best: Best | None) -> str:
    if best is None:
        return "-"
    if best.kind == "base":
        return "base config (no validated trial beats it)"
    if best.kind == "trial":
        assert best.trial is not None and best.comparison is not None
        d = best.comparison.difference
        return f"#{best.trial.number} {100 * d.mean:+.1f} pts [{100 * d.low:+.1f}, {100 * d.high:+.1f}] vs base"
    assert best.trial is not None
    ci = best.trial.user_attrs.get(WIN_RATE_CI_KEY)
    interval = f" win [{100 * ci[0]:.0f}-{100 * ci[1]:.0f}%]" if ci else ""
    return f"#{best.trial.number} {best.trial.values[0]:.3f}{interval}"
