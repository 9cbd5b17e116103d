"""The instructor's side before grading: the release, its setup cell, the answer
key's times, the helper's wheel, the self-check, the prepared course grading
starts from, and stock nbgrader as the baseline. Each function takes the Course it
authors.

release      nbgrader generate_assignment into release/, and whether it is stale
prepared     a prepared course (config, source, release, gradebook), made once and
             cached by the course's fingerprint
setup_cell   the first cell of every notebook (Colab's install of the helper)
timing       the answer key's time per cell (cell_times.json): each cell's limit
wheel        the helper package as the wheel Colab installs
selfcheck    stock autograde: the answers get full marks, the blank release none
stock        stock, sequential `nbgrader autograde` in a scratch course
nbgrader_run nbgrader's command line, with a clear error when it fails
"""
