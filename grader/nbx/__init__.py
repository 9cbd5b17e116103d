"""What nbgrader and nbclient run, extended by the grader.

config    the nbgrader configuration a student is graded with
execute   ResilientExecute: survives dead kernels and hung cells; records why
limits    the output limit, and which limit a run hit
trusted   graded test cells run in the grader's process
remote    the conversation with the runtime in the student's kernel
grades    grades, messages and notes read back from nbgrader's files
feedback  feedback shows a hidden test's message, never its code
"""
