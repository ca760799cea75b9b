//! Integration tests of the planner.

mod allocation;
mod zoning;
