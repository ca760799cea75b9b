//! Self-contained HTML documents: a title, a provenance block (protocol, software version,
//! input hashes — printed on the page, as every trial document must show what produced it),
//! and sections of paragraphs, tables and inline SVG figures. No scripts, no external
//! stylesheets or fonts: the file opens offline and prints as it shows. The same [`Document`]
//! is also laid out on A4 pages as a PDF ([`Document::to_pdf`]).

use crate::svg::{Figure, escape};
use std::fmt::Write;

/// How a table cell or row is marked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// Nothing special.
    Plain,
    /// A constraint that holds.
    Pass,
    /// A constraint that fails.
    Fail,
    /// Worth a look (e.g. a deviation).
    Warn,
}

impl Mark {
    fn class(self) -> &'static str {
        match self {
            Mark::Plain => "",
            Mark::Pass => " class=\"pass\"",
            Mark::Fail => " class=\"fail\"",
            Mark::Warn => " class=\"warn\"",
        }
    }
}

/// A block of a section.
#[derive(Clone, Debug)]
pub enum Block {
    /// A paragraph of text (escaped).
    Paragraph(String),
    /// A table: header cells, then rows of cells with a mark per row.
    Table {
        /// Caption above the table.
        caption: Option<String>,
        /// Column headers.
        headers: Vec<String>,
        /// Rows: cells and the row's mark.
        rows: Vec<(Vec<String>, Mark)>,
    },
    /// Figures side by side, wrapping.
    Figures(Vec<Figure>),
    /// Key–value pairs.
    Definitions(Vec<(String, String)>),
}

/// A section with a heading.
#[derive(Clone, Debug)]
pub struct Section {
    /// The heading (also the anchor of the table of contents).
    pub heading: String,
    /// Its blocks, in order.
    pub blocks: Vec<Block>,
}

/// A whole document.
#[derive(Clone, Debug)]
pub struct Document {
    /// Title (page heading and `<title>`).
    pub title: String,
    /// Provenance printed under the title and in the footer (protocol, software, hashes…).
    pub provenance: Vec<(String, String)>,
    /// Sections.
    pub sections: Vec<Section>,
}

const STYLE: &str = "body{font-family:DejaVu Sans,Arial,Helvetica,sans-serif;margin:24px;color:#111;max-width:1400px}\
h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:2px;margin-top:28px}\
table{border-collapse:collapse;margin:8px 0 16px 0;font-size:13px}th,td{border:1px solid #bbb;padding:3px 8px;text-align:left;vertical-align:top}\
th{background:#eee}tr.pass td:last-child{color:#006400;font-weight:bold}tr.fail td{background:#fde0e0}tr.fail td:last-child{color:#a00000;font-weight:bold}\
tr.warn td{background:#fff5d6}caption{text-align:left;font-weight:bold;padding:4px 0}.figs{display:flex;flex-wrap:wrap;gap:12px}\
.prov{font-size:12px;color:#444}.prov dt{font-weight:bold;display:inline}.prov dd{display:inline;margin:0 16px 0 4px}\
footer{font-size:11px;color:#555;border-top:1px solid #ccc;margin-top:32px;padding-top:6px}nav ol{font-size:13px}\
@media print{h2{page-break-before:auto}.figs svg{page-break-inside:avoid}footer{position:fixed;bottom:0}}";

impl Document {
    /// The HTML text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
            escape(&self.title),
            escape(&self.title)
        );
        out.push_str(&provenance_block(&self.provenance));
        if self.sections.len() > 1 {
            out.push_str("<nav><ol>\n");
            for (i, s) in self.sections.iter().enumerate() {
                let _ = writeln!(out, "<li><a href=\"#s{}\">{}</a></li>", i + 1, escape(&s.heading));
            }
            out.push_str("</ol></nav>\n");
        }
        for (i, s) in self.sections.iter().enumerate() {
            let _ = writeln!(out, "<section id=\"s{}\">\n<h2>{}</h2>", i + 1, escape(&s.heading));
            for b in &s.blocks {
                render_block(&mut out, b);
            }
            out.push_str("</section>\n");
        }
        out.push_str("<footer>");
        let footer: Vec<String> =
            self.provenance.iter().map(|(k, v)| format!("{}: {}", escape(k), escape(v))).collect();
        out.push_str(&footer.join(" · "));
        out.push_str("</footer>\n</body>\n</html>\n");
        out
    }
}

fn provenance_block(items: &[(String, String)]) -> String {
    let mut out = String::from("<dl class=\"prov\">");
    for (k, v) in items {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(v));
    }
    out.push_str("</dl>\n");
    out
}

fn render_block(out: &mut String, block: &Block) {
    match block {
        Block::Paragraph(text) => {
            let _ = writeln!(out, "<p>{}</p>", escape(text));
        }
        Block::Table { caption, headers, rows } => {
            out.push_str("<table>");
            if let Some(c) = caption {
                let _ = write!(out, "<caption>{}</caption>", escape(c));
            }
            out.push_str("<thead><tr>");
            for h in headers {
                let _ = write!(out, "<th>{}</th>", escape(h));
            }
            out.push_str("</tr></thead>\n<tbody>\n");
            for (cells, mark) in rows {
                let _ = write!(out, "<tr{}>", mark.class());
                for c in cells {
                    let _ = write!(out, "<td>{}</td>", escape(c));
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</tbody></table>\n");
        }
        Block::Figures(figures) => {
            out.push_str("<div class=\"figs\">\n");
            for figure in figures {
                // Figures come from this crate's SVG writer: inline them as they are.
                out.push_str(&figure.to_svg());
            }
            out.push_str("</div>\n");
        }
        Block::Definitions(items) => out.push_str(&provenance_block(items)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_escapes_text_and_marks_rows() {
        let doc = Document {
            title: "Plan <P-1>".into(),
            provenance: vec![("protocol".into(), "1.1.0".into())],
            sections: vec![Section {
                heading: "Verdicts".into(),
                blocks: vec![Block::Table {
                    caption: None,
                    headers: vec!["constraint".into(), "result".into()],
                    rows: vec![(vec!["D90 ≥ 110 Gy".into(), "fail".into()], Mark::Fail)],
                }],
            }],
        };
        let html = doc.render();
        assert!(html.contains("<title>Plan &lt;P-1&gt;</title>"));
        assert!(html.contains("<tr class=\"fail\"><td>D90 ≥ 110 Gy</td>"));
        assert!(html.contains("<footer>protocol: 1.1.0</footer>"));
        assert!(!html.contains("<script"));
    }
}
