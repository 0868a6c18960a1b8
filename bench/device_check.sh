#!/usr/bin/env bash
# Games/s on one GPU, in a few minutes: `play` at several batch sizes, then a short study (the main spec v2,
# pruning on) on one slot of that GPU. Without a GPU it runs the same steps on the CPU, smaller: a dry run
# that shows the script works (its figures are CPU figures, not GPU ones).
#
#   bash bench/device_check.sh                 # prints one line per figure, then a summary
#   OUT=/some/dir bash bench/device_check.sh   # keep the study's storage and the JSON figures there
#
# Environment: PYTHON (default python), OUT (default a fresh temporary folder), TRIALS (study trials,
# default 400 on a GPU, 4 on the CPU: the timeout ends a GPU study; enough trials keep its slot full), STUDY_TIMEOUT (seconds, default 240 on a GPU, 120 on the CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"

if "$PYTHON" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    DEVICE=cuda:0
    export CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-0}  # one GPU: the study's one slot runs on it
    GAMES=8192
    BATCHES="1024 4096 8192"
    TRIALS=${TRIALS:-400}
    STUDY_TIMEOUT=${STUDY_TIMEOUT:-240}
    (nvidia-smi --query-gpu=name,memory.total,utilization.gpu --format=csv,noheader || true) | sed 's/^/# gpu: /'
else
    DEVICE=cpu
    GAMES=512
    BATCHES="256 512"
    TRIALS=${TRIALS:-4}
    STUDY_TIMEOUT=${STUDY_TIMEOUT:-120}
    echo "# no GPU visible: a dry run on the CPU (these are CPU figures)"
fi
echo "# device $DEVICE, $(nproc) CPU core(s), load: $(cut -d' ' -f1-3 /proc/loadavg), output in $OUT"

for BATCH in $BATCHES; do
    for SNAKE in heuristic gbc; do
        if [ "$SNAKE" = heuristic ]; then
            "$PYTHON" -m optuna_clank play --snake heuristic --device "$DEVICE" --games "$GAMES" --batch-size "$BATCH" \
                --processes 1 --json > "$OUT/play-$SNAKE-$BATCH.json"
        else
            "$PYTHON" - "$DEVICE" "$GAMES" "$BATCH" > "$OUT/play-$SNAKE-$BATCH.json" <<'EOF'
import json, sys, time
from optuna_clank.core.threads import configure_torch_threads
configure_torch_threads()
from optuna_clank.arena.match import play_match
from optuna_clank.arena.snakes.gbc import GbcSnake
device, games, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
play_match(GbcSnake(), "baseline", games=8, seed=999, device=device, batch_size=batch)  # warm-up
result = play_match(GbcSnake(), "baseline", games=games, seed=1, device=device, batch_size=batch)
print(json.dumps(result.summary()))
EOF
        fi
        "$PYTHON" - "$OUT/play-$SNAKE-$BATCH.json" "$SNAKE" "$BATCH" <<'EOF'
import json, sys
summary = json.load(open(sys.argv[1]))
print(f"play {sys.argv[2]:<9} vs baseline  batch {sys.argv[3]:>5}: {summary['games_per_second']:8.1f} games/s "
      f"({summary['games']} games, {summary['seconds']:.1f} s)")
EOF
    done
done

STORAGE="sqlite:///$OUT/study.db"
STARTED=$(date +%s.%N)
"$PYTHON" -m optuna_clank optimize --study v2 --storage "$STORAGE" --n-trials "$TRIALS" --n-jobs 1 \
    --timeout "$STUDY_TIMEOUT" --no-llm --quiet > "$OUT/study.log" 2>&1 || { tail -20 "$OUT/study.log"; exit 1; }
ENDED=$(date +%s.%N)
"$PYTHON" - "$STORAGE" "$STARTED" "$ENDED" <<'EOF'
import sys
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
storage, started, ended = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
study = optuna.load_study(study_name="v2", storage=storage)
trials = [t for t in study.trials if t.state.is_finished()]
games = sum(int(t.user_attrs.get("games_played", 0)) for t in trials)
pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in trials)
seconds = ended - started
device = trials[0].user_attrs.get("device", "?") if trials else "?"
print(f"study v2, 1 slot on {device}: {games / seconds:8.1f} games/s ({games} games, {len(trials)} trials, "
      f"{pruned} pruned, {seconds:.0f} s wall, start-up included)")
EOF
