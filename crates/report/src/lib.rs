//! Plots and reports: self-contained SVG figures (DVHs, isodose and isotherm slices) and the
//! HTML documents built from them.
//!
//! - [`html`]: self-contained HTML documents (provenance, sections of text, tables with
//!   pass/fail rows, inline figures).
//! - [`pdf`]: a small PDF writer (standard Helvetica fonts, vector graphics) and the layout of
//!   the same documents on A4 pages with a running header and footer.
//! - [`plan_report`](mod@plan_report): the human report of a patient's plan (`report.html`).
//! - [`svg`]: the plots' drawing surface: a display list ([`svg::Figure`]) written as SVG with
//!   deterministic number formatting and a shared palette, and painted into PDFs.
//! - [`plot`]: cumulative DVH plots and slices through a case with structure outlines, isolines
//!   of dose or temperature (marching squares, [`contour`]), seeds and probes.
//! - [`review`](mod@review): the plan-review bundle (`review.json`) the web service draws: DVH
//!   curves and axial, coronal and sagittal stacks of outlines, isodoses and isotherms as vectors.
//! - [`xpt`]: SAS transport (XPORT v5) files for CDISC datasets.
//! - [`trial_plots`]: Kaplan–Meier with bands, censoring marks and numbers at risk; cumulative
//!   incidence; forest; waterfall; swimmer; spider; CONSORT flow diagram.
//! - Trial level, from a [`TrialInput`] (stored snapshot + analysis datasets + response
//!   assessments): [`analysis`](mod@analysis) (the analysis report `analysis.html`,
//!   `analysis.pdf` and its numbers `analysis.json`), [`cdisc`] (SDTM and ADaM datasets),
//!   [`ipd`] (de-identified individual participant data); [`dataset`] writes any of them as
//!   CSV, SAS transport and a data dictionary; [`bundle`] names the files of each output, for
//!   the CLI's folders and the web service's downloads alike.
//!
//! The key design decision: figures are hand-drawn display lists written as SVG, with no plotting
//! library, no fonts to embed and no scripts. They open offline in any browser, embed in HTML as
//! they are, paint into the PDF as vector graphics, and are byte-identical for the same inputs.
//! Everything here builds strings and bytes; writing them is the caller's business.

pub mod analysis;
pub mod bundle;
pub mod cdisc;
pub mod contour;
pub mod dataset;
pub mod html;
pub mod ipd;
pub mod pdf;
pub mod plan_report;
pub mod plot;
pub mod review;
pub mod svg;
pub mod trial_input;
pub mod trial_plots;
pub mod xpt;

pub use analysis::{
    AnalysisReport, AnalysisSummary, TrialFigures, analysis, analysis_html, analysis_report, analysis_with_figures,
};
pub use dataset::{Table, dictionary, dictionary_csv, dictionary_json};
pub use review::{PlanReview, ReviewSettings, plan_review};
pub use trial_input::TrialInput;

pub use html::{Block, Document, Mark, Section};
pub use pdf::RunningHead;
pub use plan_report::plan_report;
pub use plot::{DvhCurve, Isolines, Markers, Outline, Plane, SliceSpec, dvh_svg, slice_svg};
pub use svg::Figure;
pub use trial_plots::{
    Consort, ConsortArm, ConsortLabels, ForestRow, KmGroup, KmLabels, SpiderLine, SwimmerLane, WaterfallBar, at_risk,
    cif_svg, consort_svg, consort_svg_labelled, forest_svg, km_svg, km_svg_labelled, spider_svg, swimmer_svg,
    waterfall_svg,
};
