"""The grade verb: collect, prepare OUT, grade each student, record them, write the
outputs.

grade      grade_class (a RunReport back) and the Coordinator: who is graded,
           each student recorded in OUT as they finish
student    the per-student stage (StudentJob in, StudentOutcome out: data only)
runner     the Runner protocol; where the per-student stage runs here: local
           worker processes
cluster    the other runner: the workers of a Dask cluster, each checked first
keys       the cluster's TLS keys (cluster-keys) and which scheduler may be used
outcome_wire  what a worker sends, as plain data, and the check of it
bundle     the course as bytes, for workers without a shared file system
outfolder  the OUT folder: an nbgrader course the grading command alone writes
lock       one grading run per OUT at a time
state      the resume cache: what was graded from which inputs
gradebook  the class gradebook, the source of every score written (a manual
           score or extra credit given in formgrader included)
late       course.toml's [late] policy, applied from the recorded submission time
indexes    each student's page made again from the final grades
"""
