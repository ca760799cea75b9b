//! Integration tests of the planner.

mod allocation;
mod evaluate;
mod patient;
mod seed_robustness;
mod seeds;
mod zoning;
