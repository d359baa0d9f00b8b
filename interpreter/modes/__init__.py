"""Run modes: each picks a feed and an evaluator and drives the shared engine."""
