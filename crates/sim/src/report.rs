//! What a scenario produces: a [`Report`] of tables (each written as a CSV file and, where the summary
//! shows it, as a markdown table), plot descriptions and a markdown summary of findings; and
//! [`Report::write`], which puts a report in its folder. Scenarios build reports; nothing else in the
//! simulator formats CSV or markdown tables by hand, so the two renderings cannot drift apart.

use crate::plot::{self, PlotError};
use crate::{Plot, SimError};
use std::fmt::{Display, Write};
use std::path::{Path, PathBuf};

/// A table: a file name, column names and rows of already formatted cells (the scenario chooses each
/// number's precision, so the text is the same on every machine).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    /// File name when written as CSV, e.g. `nodes.csv`.
    pub file: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(file: &str, columns: &[&str]) -> Table {
        Table { file: file.to_string(), columns: columns.iter().map(|c| c.to_string()).collect(), rows: Vec::new() }
    }

    /// An empty CSV table whose columns are the comma-separated names of `header` (its first line).
    pub fn with_header(file: &str, header: &str) -> Table {
        Table { file: file.to_string(), columns: header.split(',').map(str::to_string).collect(), rows: Vec::new() }
    }

    /// Append a row; each cell is written with its `Display`.
    pub fn row(&mut self, cells: &[&dyn Display]) {
        self.rows.push(cells.iter().map(|c| c.to_string()).collect());
    }

    /// Append a row of cells already formatted.
    pub fn push(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The CSV text: a header line, then one line per row, cells joined by commas (cells are numbers and
    /// plain words, so nothing is quoted).
    pub fn csv(&self) -> String {
        let mut s = self.columns.join(",");
        s.push('\n');
        for r in &self.rows {
            s.push_str(&r.join(","));
            s.push('\n');
        }
        s
    }

    /// The markdown text: a header row, the `|---|` rule, then one row per row. An empty header cell (a
    /// table's corner) is written `| |`; an empty body cell `|  |`.
    pub fn markdown(&self) -> String {
        let mut s = String::from("|");
        for c in &self.columns {
            if c.is_empty() {
                s.push_str(" |");
            } else {
                let _ = write!(s, " {c} |");
            }
        }
        s.push_str("\n|");
        s.push_str(&"---|".repeat(self.columns.len()));
        s.push('\n');
        for r in &self.rows {
            s.push('|');
            for c in r {
                let _ = write!(s, " {c} |");
            }
            s.push('\n');
        }
        s
    }
}

/// A scenario's outputs: tables written as CSV files (in order), plots to render, the markdown summary
/// (what the run shows) and the headline figures (one row of `sweep.csv` when a key is swept).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    pub tables: Vec<Table>,
    pub plots: Vec<Plot>,
    pub summary: String,
    /// The run's key figures, as (column, value).
    pub headline: Vec<(String, String)>,
}

impl Report {
    /// The CSV files, as (file name, text), in order.
    pub fn files(&self) -> Vec<(String, String)> {
        self.tables.iter().map(|t| (t.file.clone(), t.csv())).collect()
    }

    /// Write the report into `dir` (created if absent): every table as CSV, every plot as PNG and
    /// `summary.md` (the summary followed by `extra`, e.g. the run's speed, which is not part of the
    /// report because it differs between runs). Returns the plots' file names.
    pub fn write(&self, dir: &Path, extra: &str) -> Result<Vec<String>, SimError> {
        let failed = |path: PathBuf, e: &dyn Display| SimError::Write {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| failed(dir.to_path_buf(), &e))?;
        for t in &self.tables {
            let path = dir.join(&t.file);
            std::fs::write(&path, t.csv()).map_err(|e| failed(path, &e))?;
        }
        let mut plots = Vec::new();
        for p in &self.plots {
            let path = dir.join(&p.file);
            plot::render(p, &path).map_err(|e: PlotError| failed(path, &e))?;
            plots.push(p.file.clone());
        }
        let path = dir.join("summary.md");
        std::fs::write(&path, format!("{}{extra}", self.summary)).map_err(|e| failed(path, &e))?;
        Ok(plots)
    }
}
