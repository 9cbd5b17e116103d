"""The instructor's side before grading: the release, its setup cell, the helper's
wheel, the self-check, and stock nbgrader as the baseline.

release      nbgrader generate_assignment into release/, and whether it is stale
setup_cell   the first cell of every notebook (Colab's install of the helper)
wheel        the helper package as the wheel Colab installs
selfcheck    stock autograde: the answers get full marks, the blank release none
stock        stock, sequential `nbgrader autograde` in a scratch course
nbgrader_run nbgrader's command line, with a clear error when it fails
"""
