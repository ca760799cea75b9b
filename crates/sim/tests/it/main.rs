//! Integration tests of `cryoseed-sim`: one binary (STYLE.md), one module per concern.

mod cohort;
mod course;
mod measure;
mod phantom;
