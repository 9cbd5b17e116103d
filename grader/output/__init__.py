"""The output stage: what a grading run leaves for the instructor.

`write.write_outputs` writes OUT/grades.csv, tests.csv, misconceptions.csv,
unnamed-mistakes.json, report.html, similarity.csv (with a page per flagged pair)
and lms/; `terminal.run_summary` is what the command prints after a run. The
modules, in the order they build on each other:

- `text`: student text made fit to show (first line, width, control characters);
- `stats`: what is counted (order of rows, totals, statuses, failing checks);
- `tables`: the two CSV files, byte for byte a contract;
- `unnamed`: the wrong answers no catalogue names, grouped by the values the
  checks compared, and the answer cell the report shows of each group;
- `misconceptions`: the class's mistakes by name (the graded course's catalogue),
  and the unnamed groups beside them;
- `mistake_entry`: the catalogue entry that names an unnamed group
  (`python -m grader mistake-entry`);
- `plots`: the report's figures as inline PNG;
- `pages`: where a student's own feedback page lies in OUT;
- `unnamed_section`: what the report shows of the largest unnamed groups;
- `html`: the report, rendered from `templates/report.html` with autoescaping;
- `similarity`: the copies found (grader.similarity): similarity.csv, the report's
  "Copies" section and a page per flagged pair, the code side by side;
- `lms`: the grade imports of Canvas, Moodle and Blackboard;
- `moodle_feedback`: the feedback pages as the zip Moodle's feedback import takes;
- `write`: the one function that writes the files;
- `terminal`: the summary table, the notices and warnings the command prints.
"""
