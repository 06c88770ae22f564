//! Scraping a `/metrics` endpoint and reading single samples out of the text format.

use std::collections::BTreeMap;

/// One scrape: every sample by its name and labels, and the families' `# TYPE` lines.
#[derive(Debug, Clone)]
pub struct Scrape {
    samples: BTreeMap<String, f64>,
    families: Vec<String>,
    text: String,
}

impl Scrape {
    pub async fn get(url: &str) -> Self {
        let response = reqwest::get(url)
            .await
            .unwrap_or_else(|error| panic!("GET {url}: {error}"));
        assert_eq!(response.status(), 200, "GET {url}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        Self::parse(&response.text().await.expect("a body"))
    }

    pub fn parse(text: &str) -> Self {
        let mut samples = BTreeMap::new();
        let mut families = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                families.extend(rest.split_whitespace().next().map(str::to_owned));
                continue;
            }
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("a number: {line}"));
            samples.insert(normalize(series), value);
        }
        Self {
            samples,
            families,
            text: text.to_owned(),
        }
    }

    /// The sample `name{labels}`; 0 when the series does not exist yet (a counter or
    /// histogram that never moved). Labels may be given in any order.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .get(&series_key(name, labels))
            .copied()
            .unwrap_or(0.0)
    }

    /// Whether a `# TYPE` line declares this family.
    pub fn has_family(&self, name: &str) -> bool {
        self.families.iter().any(|family| family == name)
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

fn series_key(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels: Vec<String> = labels
        .iter()
        .map(|(key, value)| format!("{key}=\"{value}\""))
        .collect();
    labels.sort();
    if labels.is_empty() {
        name.to_owned()
    } else {
        format!("{name}{{{}}}", labels.join(","))
    }
}

/// `name{b="2",a="1"}` as `name{a="1",b="2"}`. Our label values hold no `,` or `"`.
fn normalize(series: &str) -> String {
    let Some((name, labels)) = series.split_once('{') else {
        return series.to_owned();
    };
    let labels = labels.trim_end_matches('}');
    let pairs: Vec<(&str, &str)> = labels
        .split(',')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            Some((key, value.trim_matches('"')))
        })
        .collect();
    series_key(name, &pairs)
}

#[cfg(test)]
mod tests {
    use super::Scrape;

    #[test]
    fn samples_are_found_whatever_the_label_order() {
        let scrape = Scrape::parse(
            "# TYPE jobs counter\njobs{job=\"relay\",outcome=\"done\"} 3\nplain 1.5\n",
        );
        assert_eq!(
            scrape.value("jobs", &[("outcome", "done"), ("job", "relay")]),
            3.0
        );
        assert_eq!(scrape.value("plain", &[]), 1.5);
        assert_eq!(scrape.value("jobs", &[("job", "broadcast")]), 0.0);
        assert!(scrape.has_family("jobs"));
        assert!(!scrape.has_family("plain"));
    }
}
