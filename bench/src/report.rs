//! What a benchmark prints: one table per benchmark, each figure with its median, every run,
//! and the target it is judged against. Tables are Markdown, so they paste into RESULTS.md.

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
}

impl Row {
    pub fn new(setting: impl Into<String>, measure: impl Into<String>, runs: Vec<f64>) -> Self {
        Self {
            setting: setting.into(),
            measure: measure.into(),
            runs,
            target: None,
        }
    }

    pub fn target(mut self, goal: Goal) -> Self {
        self.target = Some(goal);
        self
    }

    pub fn median(&self) -> f64 {
        median(&self.runs)
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

    pub fn render(&self) -> String {
        let mut out = format!("\n## {}\n\n", self.title);
        for line in &self.settings {
            out.push_str(&format!("- {line}\n"));
        }
        out.push_str("\n| setting | measure | median | runs | target |\n|---|---|---:|---|---|\n");
        for row in &self.rows {
            let runs: Vec<String> = row.runs.iter().map(|value| figure(*value)).collect();
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                row.setting,
                row.measure,
                figure(row.median()),
                runs.join(" · "),
                row.verdict()
            ));
        }
        for line in &self.notes {
            out.push_str(&format!("\n{line}\n"));
        }
        out
    }

    /// The rows with a target, as summary lines.
    pub fn targets(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|row| row.target.is_some())
            .map(|row| {
                format!(
                    "| {} | {} {} | {} | {} |",
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
}
