"""Judging: pure rules that turn agencies' records, and what the platform knows of persons and
household files, into outcomes for the departments (risk warnings, prompts, reviews, proactive
cases). No server, no database, no clock: every rule is a function of its inputs and of the
bureau's local date it is given, configured per jurisdiction by ``outreach_rules.toml``."""
