"""What nbgrader and nbclient run, extended by the grader.

config         the nbgrader configuration a student is graded with
execute        ResilientExecute: the Execute preprocessor (nbclient's hooks)
notebook_run   NotebookRun: one notebook's run, made fresh for each; what a stop or
               a death does to it
cell_limits    each cell's time limit, from the answer key's time for it; what a
               stop says; which function hung a cell
recovery       after a stop or a death: what still runs, what runs again, restarts
output_limit   output counted as it arrives and dropped past the limit; the grader's
               own answer taken for the channel
kernel_watch   what the executor sees of a kernel: its sandbox, a cut connection
breaches       which limit a run hit: a status and a sentence naming it
cell_marks     the grader's lines in a student's cells, and its "not run" marks
status         how a notebook's run ended (written here, read by grading)
trusted        graded test cells run in the grader's process
remote         the conversation with the runtime in the student's kernel
kernel_values  what comes back from the kernel: values, handles, exceptions
callbacks      a graded test's own functions, called back from the kernel
references     those functions run in a child process under the notebook's limits,
               on arguments checked against the course's contracts
findings       what a failing graded test found, as data (never text read back)
grades         grades, messages and notes read back from nbgrader's files
feedback       feedback pages that run nothing a student wrote
student_cells  what of each cell and output a page shows (inert, cut, smaller)
sanitize       the one allowlist every piece of a student's HTML passes
mathml         TeX to MathML when the page is written
markdown       markdown to HTML, its math as MathML
highlight      code, lightly coloured
page_text      long text cut as a terminal cuts it
images         plots re-encoded smaller for the page
student_index  feedback/<student>/index.html, a student's first page
mistake_names  the mistakes a failing test named, at its top in the feedback
"""
