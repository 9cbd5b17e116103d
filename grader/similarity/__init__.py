"""Copies found in a class, with the evidence side by side (issue 18).

The modules, in the order they build on each other:

- `tokens`: answer code as normalized tokens (names, numbers, strings as one
  token each; comments and layout dropped), from Python's tokenize;
- `winnowing`: the k-grams of those tokens hashed and winnowed, the same on
  every machine; `winnow_batch`, what the Dask workers run;
- `answers`: what counts (the answer cells' code) and the course's own code that
  is subtracted (the released template's and the answer key's);
- `index`: the MinHash LSH index (datasketch) that picks the pairs to compare;
- `pairs`: each winnowed hash weighed by how few students have it, how alike a pair
  is and where (regions), the groups of flagged pairs;
- `copies`: `find_copies` over a class, the `CopiesReport`.

grader.output.similarity writes similarity.csv, the report's section and a page
per flagged pair. Nothing here changes a grade.
"""
