"""What nbgrader and nbclient run, extended by the grader.

config         the nbgrader configuration a student is graded with
execute        ResilientExecute: fair when cells hang or kernels die; records why
cell_limits    each cell's time limit, from the answer key's time for it
limits         the output limit, and which limit a run hit
notes          what the executor writes into a student's cells
status         how a notebook's run ended (written here, read by grading)
trusted        graded test cells run in the grader's process
remote         the conversation with the runtime in the student's kernel
grades         grades, messages and notes read back from nbgrader's files
feedback       feedback pages that run nothing a student wrote
misconceptions the mistakes a failing test names, at its top in the feedback
"""
