//! A tool's JSON arguments, checked against its parameters and turned into the command line of
//! the command it runs. What the command line cannot say (a missing or unknown argument, a
//! number given as text) is refused here with a message naming the argument; every other rule
//! (ranges, budgets, scope) is the command's own.

use super::tools::{Kind, Param, Place, Tool};
use serde_json::{json, Map, Value};

/// A refused call: the message and what to do, as a usage error.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub error: String,
    pub hint: String,
}

/// The command line for a call of `tool`, and the options applied to its output.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// `baton`'s arguments, without the program name.
    pub argv: Vec<String>,
    /// `logs`' `tail`: keep the last this many lines.
    pub tail: Option<usize>,
}

/// The JSON schema of `tool`'s arguments.
pub fn schema(tool: &Tool) -> Map<String, Value> {
    let mut properties = Map::new();
    for param in &tool.params {
        let mut property = match param.kind {
            Kind::Text => json!({ "type": "string" }),
            Kind::Integer => json!({ "type": "integer", "minimum": 1 }),
            Kind::Number => json!({ "type": "number", "exclusiveMinimum": 0 }),
            Kind::Boolean => json!({ "type": "boolean" }),
            Kind::TextList => json!({ "type": "array", "items": { "type": "string" } }),
            Kind::JobType | Kind::JobStatus | Kind::AssignmentStatus => {
                json!({ "type": "string", "enum": param.kind.choices().unwrap_or_default() })
            }
        };
        property["description"] = Value::from(param.help);
        properties.insert(param.name.to_string(), property);
    }
    let required: Vec<&str> = tool.params.iter().filter(|p| p.required).map(|p| p.name).collect();
    let mut schema = Map::new();
    schema.insert("type".into(), "object".into());
    schema.insert("properties".into(), Value::Object(properties));
    schema.insert("required".into(), json!(required));
    schema.insert("additionalProperties".into(), false.into());
    schema
}

/// Checks `arguments` against `tool` and builds the command line: `--json`, the command, its
/// flags as `--flag=value` (a value that starts with `-` stays a value), then `--` and the
/// positional argument.
pub fn call(tool: &Tool, arguments: Option<&Map<String, Value>>) -> Result<Call, Refusal> {
    let empty = Map::new();
    let arguments = arguments.unwrap_or(&empty);
    let usage = || usage_of(tool);
    if let Some(unknown) = arguments.keys().find(|k| tool.param(k).is_none()) {
        return Err(Refusal { error: format!("{} has no argument `{unknown}`", tool.name), hint: usage() });
    }
    let mut flags = Vec::new();
    let mut positionals = Vec::new();
    let mut tail = None;
    for param in &tool.params {
        let value = match arguments.get(param.name) {
            None | Some(Value::Null) if param.required => {
                return Err(Refusal {
                    error: format!("{} needs the argument `{}`: {}", tool.name, param.name, param.help),
                    hint: usage(),
                })
            }
            None | Some(Value::Null) => continue,
            Some(value) => value,
        };
        let texts = texts_of(tool, param, value).map_err(|error| Refusal { error, hint: usage() })?;
        match param.place {
            Place::Positional => positionals.extend(texts),
            Place::Flag(flag) if param.kind == Kind::Boolean => {
                if value.as_bool() == Some(true) {
                    flags.push(flag.to_string());
                }
            }
            Place::Flag(flag) => flags.extend(texts.into_iter().map(|t| format!("{flag}={t}"))),
            Place::Output => tail = texts.first().and_then(|t| t.parse().ok()),
        }
    }
    let mut argv = vec!["--json".to_string(), tool.command.to_string()];
    argv.extend(flags);
    if !positionals.is_empty() {
        argv.push("--".to_string());
        argv.extend(positionals);
    }
    Ok(Call { argv, tail })
}

/// The value as command-line text, or why it is the wrong type.
fn texts_of(tool: &Tool, param: &Param, value: &Value) -> Result<Vec<String>, String> {
    let wrong =
        |what: &str| format!("the argument `{}` of {} must be {what}, not {}", param.name, tool.name, shown(value));
    match param.kind {
        Kind::Text => value.as_str().map(|s| vec![s.to_string()]).ok_or_else(|| wrong("a string")),
        // `5.0` is the number 5 to many JSON writers (and to models): a whole float is taken.
        Kind::Integer => match (value.as_u64(), value.as_f64()) {
            (Some(n), _) if n >= 1 => Ok(vec![n.to_string()]),
            (None, Some(f)) if f >= 1.0 && f.fract() == 0.0 && f < u64::MAX as f64 => Ok(vec![(f as u64).to_string()]),
            _ => Err(wrong("a positive whole number")),
        },
        Kind::Number => match value.as_f64() {
            Some(n) if value.is_number() => Ok(vec![n.to_string()]),
            _ => Err(wrong("a number")),
        },
        Kind::Boolean => value.as_bool().map(|b| vec![b.to_string()]).ok_or_else(|| wrong("true or false")),
        Kind::TextList => match value {
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| wrong("a list of strings")),
            // One id for a list: what a person would mean.
            Value::String(s) => Ok(vec![s.clone()]),
            _ => Err(wrong("a list of strings")),
        },
        Kind::JobType | Kind::JobStatus | Kind::AssignmentStatus => {
            let choices = param.kind.choices().unwrap_or_default();
            match value.as_str() {
                Some(s) if choices.contains(&s) => Ok(vec![s.to_string()]),
                _ => Err(wrong(&format!("one of {}", choices.join(", ")))),
            }
        }
    }
}

/// A value as the message shows it: short, one line.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// What the tool takes, for the hint of a refused call.
fn usage_of(tool: &Tool) -> String {
    let needed: Vec<&str> = tool.params.iter().filter(|p| p.required).map(|p| p.name).collect();
    let optional: Vec<&str> = tool.params.iter().filter(|p| !p.required).map(|p| p.name).collect();
    let mut hint = format!("{} takes", tool.name);
    if !needed.is_empty() {
        hint.push_str(&format!(" {} (required)", needed.join(", ")));
    }
    if !optional.is_empty() {
        hint.push_str(&format!("{} {}", if needed.is_empty() { "" } else { " and" }, optional.join(", ")));
    }
    hint.push_str("; see its input schema");
    hint
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::tools::find;

    fn args(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn a_call_becomes_the_command_line() {
        let tool = find("insert_job").unwrap();
        let built =
            call(&tool, Some(&args(json!({"assignment_id": "-a1", "type": "review", "context": "--x"})))).unwrap();
        assert_eq!(built.argv, ["--json", "insert-job", "--type=review", "--context=--x", "--", "-a1"]);
        let tool = find("create").unwrap();
        let built =
            call(&tool, Some(&args(json!({"north_star": "n", "after": ["a1", "a2"], "budget_usd": 2.5})))).unwrap();
        assert_eq!(built.argv, ["--json", "create", "--budget-usd=2.5", "--after=a1", "--after=a2", "--", "n"]);
        let tool = find("merge").unwrap();
        let built = call(&tool, Some(&args(json!({"assignment_id": "a1", "squash": false})))).unwrap();
        assert_eq!(built.argv, ["--json", "merge", "--", "a1"]);
        let tool = find("logs").unwrap();
        assert_eq!(call_tail(&tool), Some(3));
    }

    fn call_tail(tool: &Tool) -> Option<usize> {
        call(tool, Some(&args(json!({"job_id": "j1", "tail": 3})))).unwrap().tail
    }

    #[test]
    fn missing_unknown_and_wrongly_typed_arguments_are_refused_by_name() {
        let tool = find("insert_job").unwrap();
        let refusal = call(&tool, Some(&args(json!({"assignment_id": "a1"})))).unwrap_err();
        assert!(refusal.error.starts_with("insert_job needs the argument `type`"), "{refusal:?}");
        assert!(refusal.hint.contains("assignment_id, type (required)"), "{refusal:?}");
        let refusal = call(&tool, Some(&args(json!({"assignment_id": 7, "type": "plan"})))).unwrap_err();
        assert_eq!(refusal.error, "the argument `assignment_id` of insert_job must be a string, not 7");
        let refusal = call(&tool, Some(&args(json!({"assignment_id": "a", "type": "nap"})))).unwrap_err();
        assert!(refusal.error.contains("must be one of plan"), "{refusal:?}");
        let refusal = call(&tool, Some(&args(json!({"assignment_id": "a", "type": "plan", "kind": 1})))).unwrap_err();
        assert_eq!(refusal.error, "insert_job has no argument `kind`");
        let tool = find("assignments").unwrap();
        assert_eq!(call(&tool, Some(&args(json!({"limit": 5.0})))).unwrap().argv[2], "--limit=5");
        assert!(call(&tool, Some(&args(json!({"limit": 2.5})))).is_err());
        assert!(call(&tool, Some(&args(json!({"limit": -1})))).is_err());
        assert!(call(&tool, Some(&args(json!({"limit": 0})))).is_err(), "the schema's minimum is 1");
        assert!(call(&tool, Some(&args(json!({"limit": 0.0})))).is_err());
        let refusal = call(&tool, Some(&args(json!({"limit": "5"})))).unwrap_err();
        assert_eq!(refusal.error, "the argument `limit` of assignments must be a positive whole number, not \"5\"");
    }

    #[test]
    fn the_schema_lists_every_argument_and_the_required_ones() {
        let schema = schema(&find("insert_job").unwrap());
        assert_eq!(schema["required"], json!(["assignment_id", "type"]));
        assert_eq!(schema["properties"]["type"]["enum"][0], "plan");
        assert_eq!(schema["properties"]["namespace"]["type"], "string");
    }
}
