//! Calls a live Mandate server through the Rust client that openapi-generator makes from
//! our spec, and checks what comes back. Run by `sdks/extra/check-rust.mjs`, which starts
//! the server and passes it in:
//!
//!   MANDATE_BASE_URL   e.g. http://127.0.0.1:41234
//!   MANDATE_API_TOKEN  the instance-admin token (mdt_pat_…)
//!
//! Output: `plan N` first, then one `PASS <check>` or `FAIL <check>: <why>` line per check.
//! Exit status 0 only when every check passed.

use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mandate_client::apis::configuration::Configuration;
use mandate_client::apis::organizations_api::{self, CreateOrgError, GetOrgError, ListOrgsError};
use mandate_client::apis::{service_api, Error};
use mandate_client::models;

/// Number of checks `main` runs; the runner treats a missing line as a failure.
const PLAN: usize = 8;
/// A well-formed organization id that no server hands out.
const UNKNOWN_ORG: &str = "org_00000000000000000000000000";
/// Upper bound on pages walked by the pagination check.
const MAX_PAGES: usize = 200;
/// Upper bound on one call, so a hung server fails the check instead of the whole run.
const CALL_TIMEOUT: Duration = Duration::from_secs(15);

type Outcome = Result<(), String>;

struct Tally {
    passed: usize,
    failed: usize,
}

impl Tally {
    fn record(&mut self, name: &str, outcome: Outcome) {
        match outcome {
            Ok(()) => {
                self.passed += 1;
                println!("PASS {name}");
            }
            Err(why) => {
                self.failed += 1;
                // One line per check: the runner reads this output line by line.
                println!("FAIL {name}: {}", why.replace('\n', " "));
            }
        }
    }
}

/// A failed call in one line: the HTTP status and body, or the whole chain of causes.
fn describe<E: Debug>(error: &Error<E>) -> String {
    if let Error::ResponseError(response) = error {
        return format!("HTTP {} with body {}", response.status, response.content);
    }
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = inner.source();
    }
    text
}

fn ensure(condition: bool, why: impl FnOnce() -> String) -> Outcome {
    if condition {
        Ok(())
    } else {
        Err(why())
    }
}

/// Runs one generated call with a deadline.
async fn call<T, E>(fut: impl Future<Output = Result<T, Error<E>>>) -> Result<Result<T, Error<E>>, String> {
    tokio::time::timeout(CALL_TIMEOUT, fut)
        .await
        .map_err(|_| format!("no answer within {CALL_TIMEOUT:?}"))
}

/// The generated error enums are `#[serde(untagged)]` and every variant holds a `Problem`,
/// so serde always picks the first variant: the variant name says nothing about the
/// status. Take the document out of whichever variant it landed in; the status comes from
/// the response itself.
fn create_org_problem(e: &CreateOrgError) -> Option<&models::Problem> {
    use CreateOrgError::*;
    match e {
        Status400(p) | Status401(p) | Status403(p) | Status409(p) | Status413(p)
        | Status415(p) | Status422(p) | Status429(p) | Status500(p) | Status503(p) => Some(p),
        UnknownValue(_) => None,
    }
}

fn get_org_problem(e: &GetOrgError) -> Option<&models::Problem> {
    use GetOrgError::*;
    match e {
        Status400(p) | Status401(p) | Status403(p) | Status404(p) | Status429(p) | Status500(p) | Status503(p) => Some(p),
        UnknownValue(_) => None,
    }
}

fn list_orgs_problem(e: &ListOrgsError) -> Option<&models::Problem> {
    use ListOrgsError::*;
    match e {
        Status400(p) | Status401(p) | Status403(p) | Status429(p) | Status500(p) | Status503(p) => Some(p),
        UnknownValue(_) => None,
    }
}

/// Checks that a call failed with the given HTTP status and problem `code`, and returns the
/// parsed problem document for further checks.
fn expect_problem<T: Debug, E: Debug>(
    result: Result<T, Error<E>>,
    status: u16,
    code: &str,
    problem_of: impl Fn(&E) -> Option<&models::Problem>,
) -> Result<models::Problem, String> {
    let response = match result {
        Ok(value) => return Err(format!("expected HTTP {status}, the call succeeded with {value:?}")),
        Err(Error::ResponseError(response)) => response,
        Err(other) => return Err(format!("expected HTTP {status}, got a client-side error: {}", describe(&other))),
    };
    ensure(response.status.as_u16() == status, || {
        format!("expected HTTP {status}, got {} with body {}", response.status, response.content)
    })?;
    let problem = response
        .entity
        .as_ref()
        .and_then(&problem_of)
        .ok_or_else(|| format!("the body did not parse as a Problem document: {}", response.content))?;
    ensure(problem.code == code, || format!("expected code {code}, got {}", problem.code))?;
    ensure(problem.status == i32::from(status), || {
        format!("the document's status is {}, the response's {status}", problem.status)
    })?;
    Ok(problem.clone())
}

fn is_org_id(id: &str) -> bool {
    id.strip_prefix("org_").is_some_and(|rest| {
        rest.len() == 26 && rest.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    })
}

fn configuration(base_url: &str, token: Option<&str>) -> Configuration {
    let mut config = Configuration::new();
    config.base_path = base_url.trim_end_matches('/').to_owned();
    config.bearer_access_token = token.map(str::to_owned);
    config
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let (base_url, token) = match (env("MANDATE_BASE_URL"), env("MANDATE_API_TOKEN")) {
        (Ok(base_url), Ok(token)) => (base_url, token),
        (Err(why), _) | (_, Err(why)) => {
            eprintln!("rust-smoke: {why}");
            return ExitCode::from(2);
        }
    };
    let admin = configuration(&base_url, Some(&token));
    let anonymous = configuration(&base_url, None);

    println!("plan {PLAN}");
    let mut tally = Tally { passed: 0, failed: 0 };

    // 1. A public operation, no credentials.
    let outcome = match call(service_api::get_health(&anonymous)).await {
        Ok(Ok(health)) => ensure(health.status == models::health::Status::Ok, || {
            format!("status is {:?}", health.status)
        }),
        Ok(Err(e)) => Err(format!("call failed: {}", describe(&e))),
        Err(why) => Err(why),
    };
    tally.record("getHealth answers status ok", outcome);

    // 2. Create an organization with the instance-admin token and an Idempotency-Key.
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let name = format!("rust-smoke-{nanos}");
    let idempotency_key = format!("rust-smoke-{nanos}");
    let metadata = HashMap::from([("source".to_owned(), "rust-smoke".to_owned())]);
    let mut body = models::OrganizationCreate::new(name.clone());
    body.metadata = Some(metadata.clone());

    let mut created: Option<models::Organization> = None;
    let outcome = match call(organizations_api::create_org(&admin, body.clone(), Some(&idempotency_key))).await {
        Ok(Ok(org)) => {
            let checked = ensure(is_org_id(&org.id), || format!("id {:?} is not org_ + 26 base32 characters", org.id))
                .and_then(|()| ensure(org.name == name, || format!("name is {:?}, sent {name:?}", org.name)))
                .and_then(|()| ensure(org.metadata == metadata, || format!("metadata is {:?}", org.metadata)))
                .and_then(|()| {
                    ensure(org.updated_at >= org.created_at, || {
                        format!("updatedAt {} is before createdAt {}", org.updated_at, org.created_at)
                    })
                });
            created = Some(org);
            checked
        }
        Ok(Err(e)) => Err(format!("call failed: {}", describe(&e))),
        Err(why) => Err(why),
    };
    tally.record("createOrg returns the new organization", outcome);

    // 3. The same request with the same key is replayed, not repeated.
    let outcome = match &created {
        None => Err("no organization was created".to_owned()),
        Some(org) => match call(organizations_api::create_org(&admin, body.clone(), Some(&idempotency_key))).await {
            Ok(Ok(again)) => ensure(&again == org, || format!("replay returned {again:?}, first call {org:?}")),
            Ok(Err(e)) => Err(format!("call failed: {}", describe(&e))),
            Err(why) => Err(why),
        },
    };
    tally.record("createOrg with the same Idempotency-Key returns the same organization", outcome);

    // 4. Walk listOrgs one item per page through nextCursor, and find the new organization.
    let outcome = match &created {
        None => Err("no organization was created".to_owned()),
        Some(org) => {
            let mut seen: Vec<models::Organization> = Vec::new();
            let mut cursor: Option<String> = None;
            let mut pages = 0;
            let mut result = Ok(());
            loop {
                pages += 1;
                if pages > MAX_PAGES {
                    result = Err(format!("still more pages after {MAX_PAGES}"));
                    break;
                }
                match call(organizations_api::list_orgs(&admin, Some(1), cursor.as_deref())).await {
                    Ok(Ok(page)) => {
                        if page.data.len() > 1 {
                            result = Err(format!("limit=1 returned {} items", page.data.len()));
                            break;
                        }
                        seen.extend(page.data);
                        match page.next_cursor {
                            Some(next) => cursor = Some(next),
                            None => break,
                        }
                    }
                    Ok(Err(e)) => {
                        result = Err(format!("page {pages}: call failed: {}", describe(&e)));
                        break;
                    }
                    Err(why) => {
                        result = Err(format!("page {pages}: {why}"));
                        break;
                    }
                }
            }
            result.and_then(|()| {
                let mut ids: Vec<&str> = seen.iter().map(|o| o.id.as_str()).collect();
                ids.sort_unstable();
                ids.dedup();
                ensure(ids.len() == seen.len(), || "an organization was listed twice".to_owned())?;
                let listed = seen.iter().find(|o| o.id == org.id);
                ensure(listed == Some(org), || {
                    format!("{} not listed as created in {pages} pages (listed: {listed:?})", org.id)
                })
            })
        }
    };
    tally.record("listOrgs pages through nextCursor and lists the new organization", outcome);

    // 5. Read it back.
    let outcome = match &created {
        None => Err("no organization was created".to_owned()),
        Some(org) => match call(organizations_api::get_org(&admin, &org.id)).await {
            Ok(Ok(fetched)) => ensure(&fetched == org, || format!("got {fetched:?}, created {org:?}")),
            Ok(Err(e)) => Err(format!("call failed: {}", describe(&e))),
            Err(why) => Err(why),
        },
    };
    tally.record("getOrg returns the organization createOrg returned", outcome);

    // 6. A documented error: unknown id.
    let outcome = match call(organizations_api::get_org(&admin, UNKNOWN_ORG)).await {
        Ok(result) => expect_problem(result, 404, "ORG_NOT_FOUND", get_org_problem).map(drop),
        Err(why) => Err(why),
    };
    tally.record("getOrg of an unknown id answers 404 ORG_NOT_FOUND", outcome);

    // 7. A documented error: no credentials.
    let outcome = match call(organizations_api::list_orgs(&anonymous, None, None)).await {
        Ok(result) => expect_problem(result, 401, "AUTHENTICATION_REQUIRED", list_orgs_problem).map(drop),
        Err(why) => Err(why),
    };
    tally.record("listOrgs without a token answers 401 AUTHENTICATION_REQUIRED", outcome);

    // 8. A documented error with per-field details: the generated client does not
    //    validate, so the server sees the empty name and says which field is wrong.
    let outcome = match call(organizations_api::create_org(&admin, models::OrganizationCreate::new(String::new()), None)).await {
        Ok(result) => expect_problem(result, 400, "VALIDATION_ERROR", create_org_problem).and_then(|problem| {
            let errors = problem.errors.unwrap_or_default();
            ensure(!errors.is_empty(), || "the problem document has no `errors` list".to_owned())
        }),
        Err(why) => Err(why),
    };
    tally.record("createOrg with an empty name answers 400 VALIDATION_ERROR with field errors", outcome);

    debug_assert_eq!(tally.passed + tally.failed, PLAN);
    if tally.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
