//! A queue depth over time as a small inline SVG line, scaled to its own maximum.

use maud::{Markup, html};

const WIDTH: f64 = 160.0;
const HEIGHT: f64 = 28.0;

/// `values`, oldest first. With fewer than two values there is no line to draw.
pub fn sparkline(label: &str, values: &[u64]) -> Markup {
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = if values.len() > 1 {
        WIDTH / (values.len() - 1) as f64
    } else {
        0.0
    };
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(index, value)| {
            let x = index as f64 * step;
            let y = HEIGHT - (*value as f64 / max) * (HEIGHT - 2.0) - 1.0;
            format!("{x:.1},{y:.1}")
        })
        .collect();
    html! {
        svg.sparkline width=(WIDTH) height=(HEIGHT) viewBox={"0 0 " (WIDTH) " " (HEIGHT)}
            role="img" aria-label=(label) {
            title { (label) }
            @if values.len() > 1 {
                polyline fill="none" stroke="currentColor" stroke-width="1.5" points=(points.join(" ")) {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sparkline;

    #[test]
    fn the_highest_value_touches_the_top() {
        let svg = sparkline("ready", &[0, 5, 10]).into_string();
        assert!(
            svg.contains(r#"points="0.0,27.0 80.0,14.0 160.0,1.0""#),
            "{svg}"
        );
        let flat = sparkline("ready", &[7]).into_string();
        assert!(!flat.contains("polyline"), "{flat}");
    }
}
