"""Learning-rate slider speed, measured side by side in one kernel.

    .venv/bin/python benchmarks/slider_speed.py [--rounds 5]

In a real IPython kernel with the inline backend (so drawing includes rendering the
PNG), with the instructor's answers (update rules and train) standing in for a
student's, alternates:
  bare    one training run of the three optimizers at a new learning rate;
  change  moving the learning-rate slider to a new value (retrain all three, redraw);
  back    moving it back to a value already seen (cached: redraw only).
Prints the medians and the ratios the sliders are held to: change / bare (target
<= 1.2) and back / bare (target <= 0.05).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.course import SOURCE_DIR
from grader.demo.submissions import answer_cells

MEASURE = """
import json, statistics, time
from backprop_helper import initial_weights, load_data
from backprop_helper.widgets import OptimizerExplorer

X, y = load_data()
w_init = initial_weights(seed=42)
explorer = OptimizerExplorer(train, X, y, w_init, learning_rate=1e-3)
bare, change, back = [], [], []
for index in range(ROUNDS):
    rate = 2e-3 * (1.5 ** index)
    start = time.perf_counter()
    for name in ("vanilla", "momentum", "adam"):
        train(X, y, w_init, name, rate * 1.01)
    bare.append(time.perf_counter() - start)
    start = time.perf_counter()
    explorer.learning_rate.value = rate
    change.append(time.perf_counter() - start)
    start = time.perf_counter()
    explorer.learning_rate.value = 1e-3
    back.append(time.perf_counter() - start)
print("RESULT" + json.dumps({"bare": bare, "change": change, "back": back}))
"""


def main(argv: list[str] | None = None) -> int:
    """Run the measurement in a kernel and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    answers = answer_cells("05_optimizers")
    cells = [
        nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np"),
        nbformat.v4.new_code_cell(answers["paste_functions"]),
        nbformat.v4.new_code_cell(answers["updates"]),
        nbformat.v4.new_code_cell(answers["train"]),
        nbformat.v4.new_code_cell(MEASURE.replace("ROUNDS", str(args.rounds))),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3",
        resources={"metadata": {"path": str(SOURCE_DIR)}},
    ).execute()  # fmt: skip
    text = "".join(
        output.get("text", "")
        for output in notebook.cells[-1].outputs
        if output.output_type == "stream"
    )
    line = next(line for line in text.splitlines() if line.startswith("RESULT"))
    times = json.loads(line.removeprefix("RESULT"))
    median = {name: sorted(values)[len(values) // 2] for name, values in times.items()}
    print(f"rounds: {args.rounds} (medians)")
    print(f"bare training of the three optimizers: {median['bare']:.3f} s")
    print(f"slider to a new learning rate:         {median['change']:.3f} s")
    print(f"slider back to a value already seen:   {median['back']:.3f} s")
    print(f"change / bare = {median['change'] / median['bare']:.2f}  (target <= 1.2)")
    print(f"back / bare   = {median['back'] / median['bare']:.3f} (target <= 0.05)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
