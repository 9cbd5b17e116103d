"""SUBMISSIONS in, clean notebooks per student out.

names      whose notebook a file name says it is, and which notebook
walk       every file in SUBMISSIONS, zip archives opened in memory
collect    the files placed as (student, notebook), the rest listed as unmapped
normalize  a handed-in file made a valid, current notebook (Colab's included)
repair     a student's notebooks checked and their nbgrader cells repaired
"""
