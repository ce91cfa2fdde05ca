//! The generated OpenAPI document: every reference resolves, every route and status is described.

use serde_json::Value;

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves_to_a_component() {
    let doc = api::openapi();
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(doc["components"]["schemas"].get(name).is_some(), "{r} does not resolve");
    }
}

#[test]
fn every_route_is_in_the_document_with_its_content_types() {
    let doc = api::openapi();
    for r in api::ROUTES {
        let op = &doc["paths"][r.path][r.method];
        assert!(op.is_object(), "{} {} is missing", r.method, r.path);
        for a in r.answers {
            assert!(op["responses"][a.status.to_string()].is_object(), "{} {} {}", r.method, r.path, a.status);
        }
        for p in r.params.iter().filter(|p| p.location == api::In::Path) {
            assert!(r.path.contains(&format!("{{{}}}", p.name)), "{} names no {{{}}}", r.path, p.name);
        }
    }
    assert!(doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
        ["application/openmetrics-text; version=1.0.0; charset=utf-8"]
        .is_object());
    assert!(doc["paths"]["/v1/events/stream"]["get"]["responses"]["200"]["content"]["text/event-stream"].is_object());
    let id = &doc["paths"]["/v1/accounts/{id}"]["get"]["parameters"][0]["schema"]["pattern"];
    assert_eq!(id, "^[0-9a-fA-F]{64}$");
}

#[test]
fn print_document() {
    if std::env::var_os("PRINT_OPENAPI").is_some() {
        println!("{}", serde_json::to_string_pretty(&api::openapi()).expect("json"));
    }
}
