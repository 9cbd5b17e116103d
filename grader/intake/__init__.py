"""SUBMISSIONS in, clean notebooks per student out.

names      whose notebook a file name says it is, and which notebook
reading    what a walk may read (the limits), a file found or refused and why
walk       every file in SUBMISSIONS (folders and files on disk, no link followed)
zips       zip archives read as streams, within the limits
collect    the files placed as (student, notebook), the rest listed as unmapped
identity   each student's LMS identity (id and name), from how the LMS named them
normalize  a handed-in file made a valid, current notebook (Colab's included)
repair     a student's notebooks checked and their nbgrader cells repaired
"""
