//! Lays a [`Document`] out on A4 pages: the title, the provenance, a table of contents with page
//! numbers, then each section's paragraphs, tables and figures, with a running header and
//! footer on every page. Text is wrapped with the Helvetica metrics of [`super::font`]; table
//! rows that do not fit continue on the next page under a repeated header row; figures keep
//! their proportions and are painted as vector graphics by [`super::figure`].

use super::{A4, Font, Info, Page, Rgb, figure, write_pdf};
use crate::html::{Block, Document, Mark, Section};
use crate::svg::Figure;

/// What every page shows besides the content: a header line (left and right) and a footer line
/// (left; "page N of M" is added on the right).
#[derive(Clone, Debug)]
pub struct RunningHead {
    /// Header, left (e.g. the protocol name and version).
    pub left: String,
    /// Header, right (e.g. the software and its version); also the file's `/Producer`.
    pub right: String,
    /// Footer, left (e.g. the data snapshot hash).
    pub footer: String,
}

const MARGIN_X: f64 = 48.0;
const CONTENT_WIDTH: f64 = A4.0 - 2.0 * MARGIN_X;
/// The top of the content area (below the running header).
const TOP: f64 = A4.1 - 58.0;
/// The bottom of the content area (above the running footer).
const BOTTOM: f64 = 52.0;
/// Points per figure unit (an SVG pixel is 0.75 pt at 100 %).
const FIGURE_SCALE: f64 = 0.75;

const TEXT: Rgb = Rgb(0.067, 0.067, 0.067);
const MUTED: Rgb = Rgb(0.267, 0.267, 0.267);
const RULE: Rgb = Rgb(0.733, 0.733, 0.733);
const HEADER_FILL: Rgb = Rgb(0.933, 0.933, 0.933);

/// A font and size of running text.
#[derive(Clone, Copy, Debug)]
struct Style {
    font: Font,
    size: f64,
    colour: Rgb,
}

impl Style {
    fn line_height(self) -> f64 {
        self.size * 1.3
    }
}

const TITLE: Style = Style { font: Font::Bold, size: 16.0, colour: TEXT };
const HEADING: Style = Style { font: Font::Bold, size: 13.0, colour: TEXT };
const BODY: Style = Style { font: Font::Regular, size: 9.5, colour: TEXT };
const CAPTION: Style = Style { font: Font::Bold, size: 9.0, colour: TEXT };
const CELL: Style = Style { font: Font::Regular, size: 7.5, colour: TEXT };
const DEFINITION: Style = Style { font: Font::Regular, size: 8.0, colour: MUTED };
const RUNNING: Style = Style { font: Font::Regular, size: 7.5, colour: MUTED };

/// A word to set, with the space before it (dropped at the start of a line).
#[derive(Clone, Debug)]
struct Word {
    text: String,
    font: Font,
    gap: f64,
}

/// A set line: pieces of text at x offsets from the line's start.
type Line = Vec<(f64, String, Font)>;

/// The words of `text` in `font`, separated by single spaces.
fn words(text: &str, font: Font, size: f64, first_gap: f64) -> Vec<Word> {
    let space = font.width(" ", size);
    text.split_whitespace()
        .enumerate()
        .map(|(i, w)| Word { text: w.to_owned(), font, gap: if i == 0 { first_gap } else { space } })
        .collect()
}

/// Pieces of `word` no wider than `width` (a word longer than a line is broken between
/// characters).
fn split_long(word: &str, font: Font, size: f64, width: f64) -> Vec<String> {
    let mut pieces = vec![String::new()];
    for c in word.chars() {
        let last = pieces.last_mut().expect("never empty");
        let mut candidate = last.clone();
        candidate.push(c);
        if !last.is_empty() && font.width(&candidate, size) > width {
            pieces.push(c.to_string());
        } else {
            *last = candidate;
        }
    }
    pieces
}

/// Greedy line breaking of `words` into lines at most `width` wide. Consecutive words of one
/// font separated by one space are kept as one piece, so the text reads (and extracts) as typed.
fn set_lines(words: &[Word], size: f64, width: f64) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    let mut line: Line = Vec::new();
    let mut x = 0.0;
    for word in words {
        for (k, piece) in split_long(&word.text, word.font, size, width).into_iter().enumerate() {
            let w = word.font.width(&piece, size);
            let gap = if k == 0 { word.gap } else { 0.0 };
            if !line.is_empty() && x + gap + w > width + 1e-6 {
                lines.push(std::mem::take(&mut line));
                x = 0.0;
            }
            let gap = if line.is_empty() { 0.0 } else { gap };
            let space = word.font.width(" ", size);
            let same_font = line.last().is_some_and(|(_, _, font)| *font == word.font);
            match line.last_mut() {
                Some((_, text, _)) if same_font && (gap - space).abs() < 1e-9 => {
                    text.push(' ');
                    text.push_str(&piece);
                }
                _ => line.push((x + gap, piece, word.font)),
            }
            x += gap + w;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Pages being filled from the top down.
struct Layout {
    pages: Vec<Page>,
    /// The top of the free space on the last page.
    y: f64,
}

impl Layout {
    fn new() -> Layout {
        Layout { pages: vec![Page::new()], y: TOP }
    }

    fn page(&mut self) -> &mut Page {
        self.pages.last_mut().expect("at least one page")
    }

    fn new_page(&mut self) {
        self.pages.push(Page::new());
        self.y = TOP;
    }

    /// Starts a new page unless `height` fits below the cursor (or the page is still empty).
    fn ensure(&mut self, height: f64) {
        if self.y - height < BOTTOM && self.y < TOP {
            self.new_page();
        }
    }

    fn draw_line(&mut self, line: &Line, x: f64, baseline: f64, style: Style) {
        let page = self.page();
        page.fill_colour(style.colour);
        for (dx, text, font) in line {
            page.text(x + dx, baseline, *font, style.size, text);
        }
    }

    /// Flowing text, line by line, continuing on new pages.
    fn text(&mut self, words: &[Word], style: Style, space_after: f64) {
        for line in set_lines(words, style.size, CONTENT_WIDTH) {
            self.ensure(style.line_height());
            let baseline = self.y - style.size;
            self.draw_line(&line, MARGIN_X, baseline, style);
            self.y -= style.line_height();
        }
        self.y -= space_after;
    }

    fn heading(&mut self, text: &str) {
        // Keep a heading with at least a few lines of what follows it.
        self.y -= 10.0;
        self.ensure(HEADING.line_height() + 80.0);
        let baseline = self.y - HEADING.size;
        let lines = set_lines(&words(text, HEADING.font, HEADING.size, 0.0), HEADING.size, CONTENT_WIDTH);
        let mut y = baseline;
        for line in &lines {
            self.draw_line(line, MARGIN_X, y, HEADING);
            y -= HEADING.line_height();
        }
        let rule = y + HEADING.line_height() - 4.0;
        let page = self.page();
        page.stroke_colour(RULE);
        page.stroke_style(0.75, &[]);
        page.move_to(MARGIN_X, rule);
        page.line_to(MARGIN_X + CONTENT_WIDTH, rule);
        page.paint(false, true);
        self.y = rule - 8.0;
    }

    fn definitions(&mut self, items: &[(String, String)]) {
        let mut ws = Vec::new();
        for (i, (k, v)) in items.iter().enumerate() {
            // A key is kept on one line ("data cut", not "data" and "cut" apart).
            let key = k.split_whitespace().collect::<Vec<_>>().join(" ");
            ws.push(Word { text: key, font: Font::Bold, gap: if i == 0 { 0.0 } else { 12.0 } });
            ws.extend(words(v, Font::Regular, DEFINITION.size, 4.0));
        }
        self.text(&ws, DEFINITION, 6.0);
    }

    fn figures(&mut self, figures: &[Figure]) {
        const GAP: f64 = 10.0;
        let mut x = 0.0;
        let mut row_height: f64 = 0.0;
        for f in figures {
            if f.width <= 0.0 || f.height <= 0.0 {
                continue;
            }
            let scale = FIGURE_SCALE.min(CONTENT_WIDTH / f.width).min((TOP - BOTTOM) / f.height);
            let (w, h) = (f.width * scale, f.height * scale);
            if x > 0.0 && x + w > CONTENT_WIDTH {
                self.y -= row_height + GAP;
                x = 0.0;
                row_height = 0.0;
            }
            if x == 0.0 {
                self.ensure(h);
            } else if self.y - h < BOTTOM {
                self.new_page();
                x = 0.0;
                row_height = 0.0;
            }
            let top = self.y;
            figure::paint(self.page(), f, MARGIN_X + x, top, scale);
            x += w + GAP;
            row_height = row_height.max(h);
        }
        self.y -= row_height + GAP;
    }

    fn table(&mut self, caption: Option<&str>, headers: &[String], rows: &[(Vec<String>, Mark)]) {
        let columns = headers.len().max(rows.iter().map(|(c, _)| c.len()).max().unwrap_or(0));
        if columns == 0 {
            return;
        }
        // Wide tables are set smaller, down to the size at which every word fits its column.
        let (cell, widths) = CELL_SIZES
            .iter()
            .map(|&size| (Style { size, ..CELL }, column_widths(headers, rows, columns, size)))
            .find(|(_, (_, words_fit))| *words_fit)
            .map_or_else(
                || {
                    let size = CELL_SIZES[CELL_SIZES.len() - 1];
                    (Style { size, ..CELL }, column_widths(headers, rows, columns, size).0)
                },
                |(cell, (widths, _))| (cell, widths),
            );
        let header = TableRow::set(headers, Mark::Plain, &widths, true, cell);
        let body: Vec<TableRow> =
            rows.iter().map(|(cells, mark)| TableRow::set(cells, *mark, &widths, false, cell)).collect();
        let caption_lines =
            caption.map(|c| set_lines(&words(c, CAPTION.font, CAPTION.size, 0.0), CAPTION.size, CONTENT_WIDTH));
        let caption_height = caption_lines.as_ref().map_or(0.0, |l| l.len() as f64 * CAPTION.line_height() + 2.0);
        // The caption stays with the header row and the first rows (up to three).
        self.ensure(caption_height + header.height + body.iter().take(3).map(|r| r.height).sum::<f64>());
        if let Some(lines) = &caption_lines {
            for line in lines {
                let baseline = self.y - CAPTION.size;
                self.draw_line(line, MARGIN_X, baseline, CAPTION);
                self.y -= CAPTION.line_height();
            }
            self.y -= 2.0;
        }
        self.draw_row(&header, &widths);
        for row in &body {
            if self.y - row.height < BOTTOM {
                self.new_page();
                self.draw_row(&header, &widths);
            }
            self.draw_row(row, &widths);
        }
        self.y -= 10.0;
    }

    fn draw_row(&mut self, row: &TableRow, widths: &[f64]) {
        let top = self.y;
        let fill = match (row.is_header, row.mark) {
            (true, _) => Some(HEADER_FILL),
            (_, Mark::Fail) => Some(Rgb(0.992, 0.878, 0.878)),
            (_, Mark::Warn) => Some(Rgb(1.0, 0.961, 0.839)),
            _ => None,
        };
        let mut x = MARGIN_X;
        for (i, w) in widths.iter().enumerate() {
            let page = self.page();
            if let Some(c) = fill {
                page.fill_colour(c);
                page.rect(x, top - row.height, *w, row.height);
                page.paint(true, false);
            }
            page.stroke_colour(RULE);
            page.stroke_style(0.5, &[]);
            page.rect(x, top - row.height, *w, row.height);
            page.paint(false, true);
            let is_verdict = !row.is_header && i + 1 == widths.len() && matches!(row.mark, Mark::Pass | Mark::Fail);
            let style = match (is_verdict, row.mark) {
                (true, Mark::Pass) => Style { font: Font::Bold, colour: Rgb(0.0, 0.392, 0.0), ..row.cell },
                (true, _) => Style { font: Font::Bold, colour: Rgb(0.627, 0.0, 0.0), ..row.cell },
                _ => row.cell,
            };
            if let Some(lines) = row.cells.get(i) {
                let mut baseline = top - CELL_PAD_Y - row.cell.size;
                for line in lines {
                    let line: Line = if is_verdict {
                        line.iter().map(|(dx, t, _)| (*dx, t.clone(), Font::Bold)).collect()
                    } else {
                        line.clone()
                    };
                    self.draw_line(&line, x + cell_pad_x(row.cell.size), baseline, style);
                    baseline -= row.cell.line_height();
                }
            }
            x += w;
        }
        self.y -= row.height;
    }
}

/// Table text sizes, tried in order.
const CELL_SIZES: [f64; 3] = [CELL.size, 6.5, 5.5];
const CELL_PAD_Y: f64 = 2.5;

/// The space between a cell's border and its text, left and right.
fn cell_pad_x(size: f64) -> f64 {
    0.5 * size
}

/// A table row set in its column widths.
struct TableRow {
    cells: Vec<Vec<Line>>,
    height: f64,
    mark: Mark,
    is_header: bool,
    cell: Style,
}

impl TableRow {
    fn set(cells: &[String], mark: Mark, widths: &[f64], is_header: bool, cell: Style) -> TableRow {
        let font = if is_header { Font::Bold } else { Font::Regular };
        // A verdict cell is set in bold: measure it so.
        let verdict = |i: usize| !is_header && i + 1 == widths.len() && matches!(mark, Mark::Pass | Mark::Fail);
        let cells: Vec<Vec<Line>> = widths
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let text = cells.get(i).map_or("", String::as_str);
                let f = if verdict(i) { Font::Bold } else { font };
                set_lines(&words(text, f, cell.size, 0.0), cell.size, w - 2.0 * cell_pad_x(cell.size))
            })
            .collect();
        let lines = cells.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let height = lines as f64 * cell.line_height() + 2.0 * CELL_PAD_Y;
        TableRow { cells, height, mark, is_header, cell }
    }
}

/// Column widths at text `size`: each column's natural width (its widest cell on one line) when
/// the table fits the page; otherwise every column gets at least its longest word and the rest
/// of the width is shared in proportion to how much more each column would like. The flag says
/// whether every word fits its column (if not, the columns are narrowed and words broken).
fn column_widths(headers: &[String], rows: &[(Vec<String>, Mark)], columns: usize, size: f64) -> (Vec<f64>, bool) {
    let pad = 2.0 * cell_pad_x(size);
    let mut natural = vec![pad; columns];
    let mut minimum = vec![pad; columns];
    let mut measure = |i: usize, text: &str, font: Font| {
        natural[i] = natural[i].max(font.width(text, size) + pad);
        let longest = text.split_whitespace().map(|w| font.width(w, size)).fold(0.0, f64::max);
        minimum[i] = minimum[i].max(longest.min(CONTENT_WIDTH / 3.0) + pad);
    };
    for (i, h) in headers.iter().enumerate() {
        measure(i, h, Font::Bold);
    }
    for (cells, mark) in rows {
        for (i, c) in cells.iter().enumerate() {
            let bold = i + 1 == columns && matches!(mark, Mark::Pass | Mark::Fail);
            measure(i, c, if bold { Font::Bold } else { Font::Regular });
        }
    }
    let total: f64 = natural.iter().sum();
    if total <= CONTENT_WIDTH {
        return (natural, true);
    }
    let min_total: f64 = minimum.iter().sum();
    if min_total >= CONTENT_WIDTH {
        return (minimum.iter().map(|m| m * CONTENT_WIDTH / min_total).collect(), false);
    }
    let slack: f64 = natural.iter().zip(&minimum).map(|(n, m)| n - m).sum();
    (natural.iter().zip(&minimum).map(|(n, m)| m + (CONTENT_WIDTH - min_total) * (n - m) / slack).collect(), true)
}

/// Text shrunk (never below 5 pt) to fit `width`.
fn fitted_size(text: &str, font: Font, size: f64, width: f64) -> f64 {
    let w = font.width(text, size);
    if w <= width { size } else { (size * width / w).max(5.0) }
}

fn running_head(page: &mut Page, head: &RunningHead, number: usize, count: usize) {
    let s = RUNNING.size;
    page.fill_colour(RUNNING.colour);
    let right_w = Font::Regular.width(&head.right, s);
    let left_size = fitted_size(&head.left, Font::Regular, s, CONTENT_WIDTH - right_w - 12.0);
    let header_y = A4.1 - 34.0;
    page.text(MARGIN_X, header_y, Font::Regular, left_size, &head.left);
    page.text(MARGIN_X + CONTENT_WIDTH - right_w, header_y, Font::Regular, s, &head.right);
    let number = format!("page {number} of {count}");
    let number_w = Font::Regular.width(&number, s);
    let footer_size = fitted_size(&head.footer, Font::Regular, s, CONTENT_WIDTH - number_w - 12.0);
    page.text(MARGIN_X, 28.0, Font::Regular, footer_size, &head.footer);
    page.text(MARGIN_X + CONTENT_WIDTH - number_w, 28.0, Font::Regular, s, &number);
    page.stroke_colour(RULE);
    page.stroke_style(0.5, &[]);
    for y in [header_y - 6.0, 40.0] {
        page.move_to(MARGIN_X, y);
        page.line_to(MARGIN_X + CONTENT_WIDTH, y);
        page.paint(false, true);
    }
}

impl Document {
    /// The document as a PDF: A4 pages, the same title, provenance, sections, tables and figures
    /// as [`Document::render`], a table of contents with page numbers, and `head` on every page.
    /// Byte-identical for the same document and head.
    pub fn to_pdf(&self, head: &RunningHead) -> Vec<u8> {
        let mut layout = Layout::new();
        layout.text(&words(&self.title, TITLE.font, TITLE.size, 0.0), TITLE, 4.0);
        layout.definitions(&self.provenance);

        // The contents: one line per section, page numbers filled in once they are known.
        let mut contents_slots = Vec::new();
        if self.sections.len() > 1 {
            layout.y -= 4.0;
            layout.text(&words("Contents", CAPTION.font, BODY.size, 0.0), Style { size: BODY.size, ..CAPTION }, 2.0);
            for _ in &self.sections {
                layout.ensure(BODY.line_height());
                contents_slots.push((layout.pages.len() - 1, layout.y - BODY.size));
                layout.y -= BODY.line_height();
            }
        }
        let mut section_pages = Vec::new();
        for section in &self.sections {
            section_pages.push(lay_out_section(&mut layout, section));
        }
        for (i, ((page, baseline), section)) in contents_slots.iter().zip(&self.sections).enumerate() {
            let number = (section_pages[i] + 1).to_string();
            let number_w = BODY.font.width(&number, BODY.size);
            let label = format!("{}. {}", i + 1, section.heading);
            let size = fitted_size(&label, BODY.font, BODY.size, CONTENT_WIDTH - number_w - 24.0);
            let p = &mut layout.pages[*page];
            p.fill_colour(BODY.colour);
            p.text(MARGIN_X + 8.0, *baseline, BODY.font, size, &label);
            p.text(MARGIN_X + CONTENT_WIDTH - number_w, *baseline, BODY.font, BODY.size, &number);
        }

        let count = layout.pages.len();
        for (i, page) in layout.pages.iter_mut().enumerate() {
            running_head(page, head, i + 1, count);
        }
        write_pdf(&layout.pages, &Info { title: self.title.clone(), producer: head.right.clone() })
    }
}

/// Lays out one section; returns the index of the page its heading is on.
fn lay_out_section(layout: &mut Layout, section: &Section) -> usize {
    layout.heading(&section.heading);
    let page = layout.pages.len() - 1;
    for block in &section.blocks {
        match block {
            Block::Paragraph(text) => layout.text(&words(text, BODY.font, BODY.size, 0.0), BODY, 6.0),
            Block::Table { caption, headers, rows } => layout.table(caption.as_deref(), headers, rows),
            Block::Figures(figures) => layout.figures(figures),
            Block::Definitions(items) => layout.definitions(items),
        }
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &Line) -> Vec<&str> {
        line.iter().map(|(_, t, _)| t.as_str()).collect()
    }

    #[test]
    fn lines_break_between_words_and_inside_words_longer_than_a_line() {
        // "aaa" is 3 × 556 = 1668 units: 16.68 pt at 10 pt; a space is 2.78 pt.
        let lines = set_lines(&words("aaa aaa aaa", Font::Regular, 10.0, 0.0), 10.0, 37.0);
        assert_eq!(lines.iter().map(texts).collect::<Vec<_>>(), vec![vec!["aaa aaa"], vec!["aaa"]]);
        let lines = set_lines(&words("aaaaaaaa", Font::Regular, 10.0, 0.0), 10.0, 20.0);
        assert_eq!(lines.iter().map(texts).collect::<Vec<_>>(), vec![vec!["aaa"], vec!["aaa"], vec!["aa"]]);
        // Fonts alternate in pieces at their own offsets.
        let mut ws = words("key", Font::Bold, 10.0, 0.0);
        ws.extend(words("v w", Font::Regular, 10.0, 4.0));
        let lines = set_lines(&ws, 10.0, 500.0);
        assert_eq!(lines.len(), 1);
        assert_eq!(texts(&lines[0]), vec!["key", "v w"]);
        assert!((lines[0][1].0 - (Font::Bold.width("key", 10.0) + 4.0)).abs() < 1e-9);
    }

    #[test]
    fn long_tables_continue_under_their_header_row_with_the_running_head_on_every_page() {
        let rows = (0..200).map(|i| (vec![format!("row {i}"), "value".to_owned()], Mark::Plain)).collect();
        let doc = Document {
            title: "T".into(),
            provenance: vec![],
            sections: vec![Section {
                heading: "Long".into(),
                blocks: vec![Block::Table { caption: None, headers: vec!["name".into(), "unit".into()], rows }],
            }],
        };
        let head = RunningHead { left: "protocol P 1.0".into(), right: "cryoseed 1".into(), footer: "hash H".into() };
        let mut layout = Layout::new();
        lay_out_section(&mut layout, &doc.sections[0]);
        let pages = layout.pages.len();
        assert!(pages >= 3, "{pages} pages");
        for (i, page) in layout.pages.iter().enumerate() {
            assert!(page.content().contains("(name) Tj"), "page {}: header row", i + 1);
        }
        let last = layout.pages.last().unwrap().content();
        assert!(last.contains("(row 199) Tj") && !last.contains("(row 0) Tj"));
        let pdf = String::from_utf8_lossy(&doc.to_pdf(&head)).into_owned();
        assert_eq!(pdf.matches("(hash H) Tj").count(), pages);
        assert!(pdf.contains(&format!("(page {pages} of {pages}) Tj")));
    }

    #[test]
    fn wide_tables_share_the_page_width() {
        let headers: Vec<String> = (0..3).map(|i| format!("column {i}")).collect();
        let (narrow, fits) =
            column_widths(&headers, &[(vec!["1".into(), "2".into(), "3".into()], Mark::Plain)], 3, 7.5);
        assert!(fits);
        assert!(narrow.iter().sum::<f64>() < CONTENT_WIDTH);
        let long = "word ".repeat(80);
        let (wide, fits) = column_widths(&headers, &[(vec![long.clone(), long, "3".into()], Mark::Plain)], 3, 7.5);
        assert!(fits);
        assert!((wide.iter().sum::<f64>() - CONTENT_WIDTH).abs() < 1e-6);
        assert!(wide[2] >= Font::Bold.width("column", 7.5) + 2.0 * cell_pad_x(7.5) - 1e-9, "its longest word");
        // Thirty columns of long words do not fit at any size: the words are broken.
        let many: Vec<String> = (0..30).map(|_| "experimental".to_owned()).collect();
        let (squeezed, fits) = column_widths(&many, &[], 30, 5.5);
        assert!(!fits);
        assert!((squeezed.iter().sum::<f64>() - CONTENT_WIDTH).abs() < 1e-6);
    }
}
