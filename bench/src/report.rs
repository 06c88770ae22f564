//! What a benchmark prints: one table per benchmark, each figure with its median, every run,
//! and the target it is judged against. Tables are Markdown, so they paste into RESULTS.md.
//! A comparison of two builds shows the baseline's median beside the current one and their
//! ratio; the target is judged on the current one.

use crate::stats::{figure, median};

/// A target from the issue; missing one never fails the tool, it is only reported.
#[derive(Debug, Clone, Copy)]
pub enum Goal {
    AtLeast(f64),
    AtMost(f64),
}

impl Goal {
    fn met(self, value: f64) -> bool {
        match self {
            Goal::AtLeast(goal) => value >= goal,
            Goal::AtMost(goal) => value <= goal,
        }
    }

    fn text(self) -> String {
        match self {
            Goal::AtLeast(goal) => format!("≥ {}", figure(goal)),
            Goal::AtMost(goal) => format!("≤ {}", figure(goal)),
        }
    }
}

/// One figure: what was measured under which setting, each run's value, maybe a target.
#[derive(Debug, Clone)]
pub struct Row {
    pub setting: String,
    pub measure: String,
    pub runs: Vec<f64>,
    pub target: Option<Goal>,
    /// The baseline build's runs of the same figure, in a comparison.
    pub before: Option<Vec<f64>>,
}

impl Row {
    pub fn new(setting: impl Into<String>, measure: impl Into<String>, runs: Vec<f64>) -> Self {
        Self {
            setting: setting.into(),
            measure: measure.into(),
            runs,
            target: None,
            before: None,
        }
    }

    pub fn target(mut self, goal: Goal) -> Self {
        self.target = Some(goal);
        self
    }

    pub fn median(&self) -> f64 {
        median(&self.runs)
    }

    /// The baseline's median, in a comparison.
    pub fn median_before(&self) -> Option<f64> {
        self.before.as_deref().map(median)
    }

    /// `after ÷ before` of the medians, `n/a` outside a comparison or for a missing figure.
    fn ratio(&self) -> String {
        match self.median_before() {
            Some(before) if before.is_finite() && before != 0.0 && self.median().is_finite() => {
                format!("{}×", figure(self.median() / before))
            }
            _ => figure(f64::NAN),
        }
    }

    /// `≥ 8,000: met`, or empty without a target.
    fn verdict(&self) -> String {
        match self.target {
            None => String::new(),
            Some(goal) => {
                let median = self.median();
                let word = if median.is_nan() {
                    "not measured"
                } else if goal.met(median) {
                    "met"
                } else {
                    "MISSED"
                };
                format!("{}: {word}", goal.text())
            }
        }
    }
}

/// One benchmark's table.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub title: String,
    pub settings: Vec<String>,
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }

    pub fn setting(&mut self, line: impl Into<String>) {
        self.settings.push(line.into());
    }

    pub fn row(&mut self, row: Row) {
        self.rows.push(row);
    }

    pub fn note(&mut self, line: impl Into<String>) {
        self.notes.push(line.into());
    }

    /// This report's rows, each with the baseline's runs of the row with the same setting and
    /// measure in `before`; rows only one build has keep an empty side.
    pub fn compare(before: &Report, mut after: Report) -> Report {
        for row in &mut after.rows {
            row.before = Some(
                before
                    .rows
                    .iter()
                    .find(|old| old.setting == row.setting && old.measure == row.measure)
                    .map_or_else(Vec::new, |old| old.runs.clone()),
            );
        }
        let notes = std::mem::take(&mut after.notes);
        after.notes = before
            .notes
            .iter()
            .map(|line| format!("before: {line}"))
            .chain(notes.into_iter().map(|line| format!("after: {line}")))
            .collect();
        after
    }

    fn compared(&self) -> bool {
        self.rows.iter().any(|row| row.before.is_some())
    }

    pub fn render(&self) -> String {
        let mut out = format!("\n## {}\n\n", self.title);
        for line in &self.settings {
            out.push_str(&format!("- {line}\n"));
        }
        let compared = self.compared();
        if compared {
            out.push_str(
                "\n| setting | measure | before | after | after ÷ before | runs (before / after) \
                 | target |\n|---|---|---:|---:|---:|---|---|\n",
            );
        } else {
            out.push_str(
                "\n| setting | measure | median | runs | target |\n|---|---|---:|---|---|\n",
            );
        }
        let runs = |values: &[f64]| {
            values
                .iter()
                .map(|value| figure(*value))
                .collect::<Vec<_>>()
                .join(" · ")
        };
        for row in &self.rows {
            if compared {
                let before = row.before.as_deref().unwrap_or_default();
                // A figure of the current build only (the sequential loop, hello world).
                let all_runs = if before.is_empty() {
                    runs(&row.runs)
                } else {
                    format!("{} / {}", runs(before), runs(&row.runs))
                };
                out.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {all_runs} | {} |\n",
                    row.setting,
                    row.measure,
                    figure(median(before)),
                    figure(row.median()),
                    row.ratio(),
                    row.verdict()
                ));
            } else {
                out.push_str(&format!(
                    "| {} | {} | {} | {} | {} |\n",
                    row.setting,
                    row.measure,
                    figure(row.median()),
                    runs(&row.runs),
                    row.verdict()
                ));
            }
        }
        for line in &self.notes {
            out.push_str(&format!("\n{line}\n"));
        }
        out
    }

    /// The rows with a target, as summary lines; in a comparison the median is the current
    /// build's, followed by the baseline's.
    pub fn targets(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|row| row.target.is_some())
            .map(|row| {
                let before = row
                    .median_before()
                    .map(|before| format!(" (before: {}, {})", figure(before), row.ratio()))
                    .unwrap_or_default();
                format!(
                    "| {} | {} {} | {}{before} | {} |",
                    self.title,
                    row.setting,
                    row.measure,
                    figure(row.median()),
                    row.verdict()
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let row = Row::new("20 ms", "posts/s", vec![9000.0, 7000.0, 8500.0])
            .target(Goal::AtLeast(8000.0));
        assert_eq!(row.verdict(), "≥ 8,000: met");
        let row = Row::new("", "p99 (ms)", vec![30.0]).target(Goal::AtMost(20.0));
        assert_eq!(row.verdict(), "≤ 20.0: MISSED");
        let row = Row::new("", "x", vec![]).target(Goal::AtMost(20.0));
        assert_eq!(row.verdict(), "≤ 20.0: not measured");
    }

    #[test]
    fn comparisons_pair_rows_by_setting_and_measure() {
        let mut before = Report::new("t");
        before.row(Row::new("0 ms", "posts/s", vec![10.0, 12.0]));
        before.note("slow");
        let mut after = Report::new("t");
        after.row(Row::new("0 ms", "posts/s", vec![30.0, 40.0]).target(Goal::AtLeast(20.0)));
        after.row(Row::new("0 ms", "only now", vec![1.0]));
        let merged = Report::compare(&before, after);
        assert_eq!(merged.rows[0].median_before(), Some(11.0));
        assert_eq!(merged.rows[0].ratio(), "3.18×");
        assert_eq!(merged.rows[1].ratio(), "n/a");
        let table = merged.render();
        assert!(
            table.contains(
                "| 0 ms | posts/s | 11.0 | 35.0 | 3.18× | 10.0 · 12.0 / 30.0 · 40.0 | ≥ 20.0: met |"
            ),
            "{table}"
        );
        assert!(table.contains("before: slow"), "{table}");
        assert_eq!(
            merged.targets(),
            ["| t | 0 ms posts/s | 35.0 (before: 11.0, 3.18×) | ≥ 20.0: met |"]
        );
    }
}
