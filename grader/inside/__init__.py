"""Code shipped into a student's sandbox or kernel: the fork server, the wire format,
the kernel-side runtime of the trusted tests.

These modules are sent as source and run where only the standard library and numpy
may be relied on: they import nothing else, and nothing from the grader
(tests/test_inside.py enforces it). The grader reads their source; it runs the wire
format itself too.
"""
