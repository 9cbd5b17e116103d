"""nbgrader course configuration: the repository root is the course directory."""

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "backprop-from-scratch"
c.CourseDirectory.root = "."
# The helper package is released with the notebooks; its bytecode caches are not,
# nor the answer key's measured cell times (python -m grader release: the grader's).
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    ".*",
    "cell_times.json",
]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"

# Students' notebooks must run top to bottom in well under a minute.
c.ExecutePreprocessor.timeout = 120
