//! Integration tests of the planner.
mod seeds;
