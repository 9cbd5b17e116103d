"""The grade verb: plan, run each student, merge into OUT.

grade      grade_class: collect, plan, run, record, write the outputs
student    the per-student stage (StudentJob in, StudentOutcome out: data only)
bundle     the course as bytes, for workers without a shared file system
runner     where the per-student stage runs: local worker processes
outfolder  the OUT folder: an nbgrader course the grading command alone writes
state      the resume cache: what was graded from which inputs
gradebook  the class gradebook
"""
