"""Classes to try the grader on: the sample class `make demo` grades, the benchmark
class, and submissions built from the answers (the tests use them too)."""
