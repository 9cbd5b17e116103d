"""Classes to try the grader on, built from the repository's answers (the tests
and benchmarks use them too).

submissions   a released notebook with its answer cells filled in or edited
sample_class  the sample class `make demo` grades, and the benchmark class
failures      students whose code hangs, crashes its kernel or is five times slower
"""
