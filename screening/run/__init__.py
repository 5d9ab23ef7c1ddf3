"""A screening run, end to end: from the applicant files and the spec to the outputs.

`stages` resolves the job once (`ScreenJob`) and drives one batch through the stages
(load, evidence, rules, reasons) into a `ScreeningResult`; `chunks` runs a whole file chunk
by chunk, in this process or on worker processes, into the bytes of the outputs and the
prepared audit rows, and screens a batch already in memory (`screen_loaded`, the app's
entry); `outputs` writes the chunks in input order and appends the audit record;
`totals` is the run's one tally; `rescreen` decides a recorded run's stored inputs again.
The faces (the command line, the app) call this package; the audit trail, the engine and
the stages below it never import it.
"""
