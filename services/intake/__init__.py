"""Intake: the case ledger, one case per accepted application with its timeline.

- ``server``: the gRPC servicer; it translates each call and delegates.
- ``acceptance``: the rules of a new case (receipt, status, departments, deadline, claims).
- ``status``: which timeline entries may be appended, and how one moves a department's
  progress and the case's status.
- The stores, where intake's SQL lives and nowhere else: ``store`` (cases, timeline,
  progress, open claims, and the case_accepted event's outbox row), ``forwards`` (cases
  decided in another jurisdiction and cases accepted in one) and ``audit_log`` (the
  hash-chained audit log).
"""
