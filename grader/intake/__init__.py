"""SUBMISSIONS in, clean notebooks per student out.

names      whose notebook a file name says it is, and which notebook
blackboard Blackboard's receipts, and where a user name holding "_" begins
reading    what a walk may read (the limits), a file found or refused and why
walk       every file in SUBMISSIONS (folders and files on disk, no link followed)
zips       zip archives read as streams, within the limits
collect    the files placed as (student, notebook), the rest listed as unmapped
           (downloads wherever they lie, each LMS's ids apart, conflicts)
identity   each student's LMS identity (id, name, time of submission)
normalize  a handed-in file made a valid, current notebook (Colab's included)
repair     a student's notebooks checked and their nbgrader cells repaired
"""
