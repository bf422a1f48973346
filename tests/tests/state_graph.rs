//! `GRAPH`, the state graph every generated enum carries: it parses as DOT,
//! has one node per state a run can rest in plus the exits, its edges are
//! those of the code, and whatever a call does (the state before it, the
//! state after it or the exit) is a path of the graph: a call passes
//! through every point whose completion has already finished.

use std::collections::BTreeSet;

use io_model::{IOResult, Result};
use io_model_tests::Sched;

/// The nodes and edges of a DOT digraph as `GRAPH` writes it; panics on
/// anything else.
fn parse(dot: &str) -> (BTreeSet<String>, BTreeSet<(String, String)>) {
    let mut lines = dot.lines();
    let head = lines.next().unwrap();
    assert!(
        head.starts_with("digraph ") && head.ends_with('{'),
        "{head}"
    );
    let mut nodes = BTreeSet::new();
    let mut edges = BTreeSet::new();
    let ident = |s: &str| {
        assert!(
            !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_'),
            "not a DOT identifier: {s:?}"
        );
        s.to_string()
    };
    for line in lines {
        let line = line.trim();
        if line == "}" || line.starts_with("label=") {
            continue;
        }
        let line = line
            .strip_suffix(';')
            .unwrap_or_else(|| panic!("no `;`: {line}"));
        if let Some((a, b)) = line.split_once(" -> ") {
            edges.insert((ident(a), ident(b)));
        } else {
            let (name, attrs) = line.split_once(' ').unwrap_or((line, ""));
            assert!(attrs.starts_with('[') && attrs.ends_with(']'), "{line}");
            nodes.insert(ident(name));
        }
    }
    for (a, b) in &edges {
        assert!(
            nodes.contains(a) && nodes.contains(b),
            "edge {a} -> {b} to no node"
        );
    }
    (nodes, edges)
}

fn sub(s: &Sched, x: u32) -> Result<IOResult<u32>> {
    s.log(format!("sub {x}"));
    Ok(IOResult::Done(x + 1))
}

#[io_model::resumable(state = st)]
fn shape(st: &mut ShapeState, s: &Sched, n: u32) -> Result<IOResult<u32>> {
    let mut i: u32 = 0;
    let mut acc: u32 = 0;
    while i < n {
        let c = s.io("read");
        wait!(Read => c);
        if i % 2 == 0 {
            let v: u32 = call!(sub(s, i));
            acc += v;
        } else {
            yield_now!(Pause);
        }
        i += 1;
    }
    if acc > 1000 {
        return Err(io_model::Error::InvalidArgument("too big".into()));
    }
    let c = s.io("sync");
    wait!(Sync => c);
    Ok(IOResult::Done(acc))
}

#[test]
fn the_graph_has_a_node_per_state_and_the_edges_of_the_code() {
    let (nodes, edges) = parse(ShapeState::GRAPH);
    let want: BTreeSet<String> = ["Idle", "Read", "Call0", "Pause", "Sync", "Done", "Err"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(nodes, want, "{}", ShapeState::GRAPH);
    let e = |a: &str, b: &str| (a.to_string(), b.to_string());
    let want: BTreeSet<(String, String)> = [
        e("Idle", "Read"),
        e("Idle", "Sync"),
        e("Idle", "Err"),
        e("Read", "Call0"),
        e("Read", "Pause"),
        e("Read", "Err"),
        e("Call0", "Call0"),
        e("Call0", "Read"),
        e("Call0", "Sync"),
        e("Call0", "Err"),
        e("Pause", "Read"),
        e("Pause", "Sync"),
        e("Pause", "Err"),
        e("Sync", "Done"),
        e("Sync", "Err"),
    ]
    .into_iter()
    .collect();
    assert_eq!(edges, want, "{}", ShapeState::GRAPH);
}

/// Whether `to` can be reached from `from` by one edge or more.
fn path(edges: &BTreeSet<(String, String)>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(n) = todo.pop() {
        for (a, b) in edges {
            if *a == n {
                if b == to {
                    return true;
                }
                if seen.insert(b.clone()) {
                    todo.push(b.clone());
                }
            }
        }
    }
    false
}

#[test]
fn what_a_call_does_is_a_path_of_the_graph() {
    let (_, edges) = parse(ShapeState::GRAPH);
    let mut seen = BTreeSet::new();
    for seed in 0..200 {
        let s = Sched::deferred(seed).failing(if seed % 3 == 0 { 10 } else { 0 });
        let mut st = ShapeState::default();
        loop {
            let from = st.name().to_string();
            let r = shape(&mut st, &s, 5);
            let to = match &r {
                Ok(IOResult::Done(_)) => "Done".to_string(),
                Err(_) => "Err".to_string(),
                Ok(IOResult::IO(_)) => st.name().to_string(),
            };
            // A call that finds its completion still pending stays put.
            if from != to || from == "Call0" {
                assert!(
                    path(&edges, &from, &to),
                    "no path {from} -> {to} in the graph"
                );
                seen.insert((from, to.clone()));
            }
            match r {
                Ok(IOResult::IO(_)) => {
                    s.finish_one();
                }
                _ => break,
            }
        }
    }
    // The runs rest at every point but `Call0` (its operation never waits).
    assert!(seen.len() >= 6, "{seen:?}");
}

#[test]
fn the_graph_renders_with_graphviz_where_it_is_installed() {
    let Ok(mut child) = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    else {
        eprintln!("skipped: `dot` (Debian's graphviz) is not installed");
        return;
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(ShapeState::GRAPH.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("<svg"));
}
