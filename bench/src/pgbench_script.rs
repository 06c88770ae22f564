//! sea-orm statements as a pgbench custom script: the SQL exactly as the product builds it,
//! each `$n` placeholder a pgbench variable, so `-M prepared` prepares the same statement
//! with the same parameters that sqlx prepares.
//!
//! pgbench's `\set` makes numbers only, so every value travels as a `-D name=value`
//! definition (text, typed by the server from the statement, as an untyped parameter is).
//! Two values cannot travel that way: a NULL (a pgbench variable is never NULL) is written
//! as the literal `NULL`, and a value that the script itself produced is given as a
//! [`Binding`].

use anyhow::{Context, bail};
use chrono::SecondsFormat;
use sea_orm::{Statement, Value};

/// A placeholder whose built value equals `value` takes the script variable `variable`
/// instead, e.g. the message id that an earlier `INSERT … RETURNING` captured.
pub struct Binding<'a> {
    pub value: Value,
    pub variable: &'a str,
}

/// One custom script and the `-D` definitions its variables need.
#[derive(Debug, Clone, Default)]
pub struct Script {
    pub text: String,
    pub definitions: Vec<(String, String)>,
}

/// Builds a [`Script`]; `prefix` keeps the variable names of several scripts of one
/// pgbench run apart (`-D` definitions are global to the run).
pub struct ScriptBuilder {
    prefix: String,
    script: Script,
}

impl ScriptBuilder {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            script: Script::default(),
        }
    }

    /// A statement of its own line, ended with `;`, with the [`Binding`]s it needs.
    pub fn statement(
        &mut self,
        statement: &Statement,
        bindings: &[Binding],
    ) -> anyhow::Result<&mut Self> {
        self.statement_with(statement, bindings)?;
        self.script.text.push_str(";\n");
        Ok(self)
    }

    pub fn finish(&mut self) -> Script {
        std::mem::take(&mut self.script)
    }

    fn statement_with(
        &mut self,
        statement: &Statement,
        bindings: &[Binding],
    ) -> anyhow::Result<()> {
        let values = statement
            .values
            .as_ref()
            .map(|values| values.0.as_slice())
            .unwrap_or_default();
        let sql = &statement.sql;
        anyhow::ensure!(
            !sql.contains('\n') && !sql.trim_end().ends_with(';'),
            "expected one line of SQL without a final `;`: {sql}"
        );
        let mut out = String::with_capacity(sql.len() + 16 * values.len());
        let mut rest = sql.as_str();
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let digits = rest[at + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(rest.len() - at - 1, |end| end);
            if digits == 0 {
                // A `$` that is not a placeholder (sea-orm writes values as parameters, so
                // this would be inside an identifier): keep it.
                out.push('$');
                rest = &rest[at + 1..];
                continue;
            }
            let number: usize = rest[at + 1..at + 1 + digits].parse()?;
            let value = number
                .checked_sub(1)
                .and_then(|index| values.get(index))
                .with_context(|| format!("${number} has no value in {sql}"))?;
            out.push_str(&self.placeholder(value, bindings)?);
            rest = &rest[at + 1 + digits..];
        }
        out.push_str(rest);
        self.script.text.push_str(&out);
        Ok(())
    }

    /// What stands in the script for one placeholder's value.
    fn placeholder(&mut self, value: &Value, bindings: &[Binding]) -> anyhow::Result<String> {
        if let Some(binding) = bindings.iter().find(|binding| binding.value == *value) {
            return Ok(format!(":{}", binding.variable));
        }
        let Some(text) = as_text(value)? else {
            return Ok("NULL".to_owned());
        };
        let name = format!("{}_{}", self.prefix, self.script.definitions.len() + 1);
        self.script.definitions.push((name.clone(), text));
        Ok(format!(":{name}"))
    }
}

/// A value as PostgreSQL reads it from text; `None` for NULL.
fn as_text(value: &Value) -> anyhow::Result<Option<String>> {
    Ok(match value {
        Value::String(text) => text.clone(),
        Value::Bool(flag) => flag.map(|flag| flag.to_string()),
        Value::SmallInt(n) => n.map(|n| n.to_string()),
        Value::Int(n) => n.map(|n| n.to_string()),
        Value::BigInt(n) => n.map(|n| n.to_string()),
        Value::ChronoDateTimeUtc(at) => {
            at.map(|at| at.to_rfc3339_opts(SecondsFormat::Micros, true))
        }
        other => bail!("a pgbench script cannot carry the value {other:?} yet"),
    })
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, Values};

    use super::*;

    fn statement(sql: &str, values: Vec<Value>) -> Statement {
        Statement {
            sql: sql.to_owned(),
            values: Some(Values(values)),
            db_backend: DbBackend::Postgres,
        }
    }

    #[test]
    fn placeholders_become_variables_defined_with_their_values() {
        let select = statement(
            r#"SELECT "a" FROM "t" WHERE "b" = $1 OR "c" = $2 OR "d" = $10"#,
            (1..=10)
                .map(|n| Value::String(Some(format!("v{n}"))))
                .collect(),
        );
        let script = ScriptBuilder::new("f0")
            .statement(&select, &[])
            .unwrap()
            .finish();
        assert_eq!(
            script.text,
            "SELECT \"a\" FROM \"t\" WHERE \"b\" = :f0_1 OR \"c\" = :f0_2 OR \"d\" = :f0_3;\n"
        );
        let expected: Vec<(String, String)> = [("f0_1", "v1"), ("f0_2", "v2"), ("f0_3", "v10")]
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        assert_eq!(script.definitions, expected);
    }

    #[test]
    fn nulls_are_literal_and_bindings_take_captured_variables() {
        let insert = statement(
            r#"INSERT INTO "p" ("id", "n", "at") VALUES ($1, $2, $3)"#,
            vec![
                Value::BigInt(Some(-1)),
                Value::Int(Some(0)),
                Value::ChronoDateTimeUtc(None),
            ],
        );
        let bindings = [Binding {
            value: Value::BigInt(Some(-1)),
            variable: "m_id",
        }];
        let script = ScriptBuilder::new("s")
            .statement(&insert, &bindings)
            .unwrap()
            .finish();
        assert_eq!(
            script.text,
            "INSERT INTO \"p\" (\"id\", \"n\", \"at\") VALUES (:m_id, :s_1, NULL);\n"
        );
        assert_eq!(script.definitions, vec![("s_1".to_owned(), "0".to_owned())]);
    }
}
