"""The output stage: what a grading run leaves for the instructor.

`write.write_outputs` writes OUT/grades.csv, OUT/tests.csv and OUT/report.html;
`terminal.summary_table` is the table printed after a run. The modules, in the
order they build on each other:

- `text`: student text made fit to show (first line, width, control characters);
- `stats`: what is counted (order of rows, totals, statuses, failing checks);
- `tables`: the two CSV files, byte for byte a contract;
- `plots`: the report's figures as inline PNG;
- `html`: the report, rendered from `templates/report.html` with autoescaping;
- `terminal`: the summary table;
- `write`: the one function that writes the files.
"""
