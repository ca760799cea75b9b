//! Integration tests of the planner.

mod allocation;
mod evaluate;

mod seeds;
mod zoning;
