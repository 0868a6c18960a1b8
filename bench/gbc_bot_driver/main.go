// Command driver answers /move bodies with go-battleclank's own move choice and per-move scores.
//
// It is not built from this directory: bench/gbc_vs_bot.py copies it into a go-battleclank source tree
// in place of that tree's main.go, so it runs inside the bot's package main. Reads one /move body a line
// on stdin and prints "<move> <up> <down> <left> <right>" (the bot's chosen move, then its ScoreMove of
// each move, shortest round-trip float text). The config comes from BATTLESNAKE_CONFIG, as for the bot.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"

	"github.com/ErwinsExpertise/go-battleclank/algorithms/search"
	"github.com/ErwinsExpertise/go-battleclank/engine/board"
)

var version = "dev" // the bot's logic.go reads it

func main() {
	log.SetOutput(io.Discard) // the bot logs every decision
	lines := bufio.NewScanner(os.Stdin)
	lines.Buffer(make([]byte, 1<<20), 1<<24)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for lines.Scan() {
		var state GameState
		if err := json.Unmarshal(lines.Bytes(), &state); err != nil {
			fmt.Fprintln(os.Stderr, "bad request line:", err)
			os.Exit(2)
		}
		chosen := moveRefactored(state).Move
		internal := convertToInternalState(state)
		greedy := search.NewGreedySearch()
		fmt.Fprint(out, chosen)
		for _, move := range board.AllMoves() {
			fmt.Fprint(out, " ", strconv.FormatFloat(greedy.ScoreMove(internal, move), 'g', -1, 64))
		}
		fmt.Fprintln(out)
	}
	if err := lines.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "reading requests:", err)
		os.Exit(2)
	}
}
