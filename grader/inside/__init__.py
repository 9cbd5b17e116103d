"""Code shipped into a student's sandbox or kernel.

forkserver  the fork server in a student's sandbox, which forks their kernels
wire        the wire format between the kernel-side runtime and the grader
runtime     the kernel-side runtime of the trusted tests

These modules are sent as source and run where only the standard library and numpy
may be relied on: they import nothing else, and nothing from the grader
(tests/inside/test_inside.py enforces it). The grader reads their source; it runs
the wire format itself too.
"""
