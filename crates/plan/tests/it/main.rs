//! Integration tests of the planner.
